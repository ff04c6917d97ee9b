// Three layers, all run by `npm test` (see scripts/test.sh):
//   unit      pure logic, no network beyond loopback stand-ins
//   workflow  our nodes on n8n-core's real execution engine, in-process, real HTTP to the stand-ins
//   e2e       a real, pinned n8n process with the packed package installed
//   queue     n8n in queue mode (main, 2 workers, webhook processor, Postgres, Redis); run in band
const tsJest = ['ts-jest', { tsconfig: 'tsconfig.test.json' }];
const common = {
  transform: { '^.+\\.ts$': tsJest },
  testEnvironment: 'node',
  modulePathIgnorePatterns: ['<rootDir>/dist/', '<rootDir>/.tmp/'],
};
module.exports = {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    { ...common, displayName: 'workflow', testMatch: ['<rootDir>/test/workflow/**/*.test.ts'] },
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.test.ts'] },
    { ...common, displayName: 'queue', testMatch: ['<rootDir>/test/queue/**/*.test.ts'] },
  ],
};
