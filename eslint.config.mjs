// Two rule sets, both with zero findings and no disable comments:
//  - eslint-plugin-n8n-nodes-base (community, nodes, credentials), what n8n's starter lints with;
//  - @n8n/eslint-plugin-community-nodes (recommended), the rules n8n's community-package scanner runs.
import tseslint from 'typescript-eslint';
import n8nNodesBase from 'eslint-plugin-n8n-nodes-base';
import communityNodes from '@n8n/eslint-plugin-community-nodes';

const scanner = communityNodes.configs.recommended;

export default [
	{ ignores: ['dist/**', 'node_modules/**', 'test/**', 'bench/**', 'scripts/**', '*.js', '*.mjs'] },
	{
		files: ['**/*.ts'],
		languageOptions: {
			parser: tseslint.parser,
			parserOptions: { project: './tsconfig.json', sourceType: 'module' },
		},
	},
	{
		files: ['package.json'],
		languageOptions: { parser: tseslint.parser, parserOptions: { extraFileExtensions: ['.json'] } },
		plugins: { 'n8n-nodes-base': n8nNodesBase },
		rules: { ...n8nNodesBase.configs.community.rules },
	},
	{
		files: ['credentials/**/*.ts'],
		plugins: { 'n8n-nodes-base': n8nNodesBase },
		rules: { ...n8nNodesBase.configs.credentials.rules },
	},
	{
		files: ['nodes/**/*.ts'],
		plugins: { 'n8n-nodes-base': n8nNodesBase },
		rules: { ...n8nNodesBase.configs.nodes.rules },
	},
	{
		files: ['nodes/**/*.ts', 'credentials/**/*.ts', 'package.json'],
		plugins: scanner.plugins,
		rules: { ...scanner.rules, 'no-console': 'error' },
	},
	{
		// Two older n8n-nodes-base rules contradict the scanner, which is the one n8n enforces today:
		// it wants NodeConnectionTypes.Main (not the literal 'main') and a full documentation URL (not
		// an n8n-docs slug).
		files: ['nodes/**/*.ts', 'credentials/**/*.ts'],
		rules: {
			'n8n-nodes-base/node-class-description-inputs-wrong-regular-node': 'off',
			'n8n-nodes-base/node-class-description-outputs-wrong': 'off',
			'n8n-nodes-base/cred-class-field-documentation-url-miscased': 'off',
		},
	},
	{
		// The package's allowed exceptions to the scanner's import list (see README, "Exceptions"):
		// Node's stream and zlib keep large JSON Lines exports out of memory; fflate reads zips as a
		// stream (the library n8n's own Compression node uses).
		files: ['nodes/shared/jsonLines.ts', 'nodes/shared/zip.ts'],
		rules: { '@n8n/community-nodes/no-restricted-imports': 'off' },
	},
	{
		// fflate is the package's single runtime dependency (README, "Exceptions").
		files: ['package.json'],
		rules: { '@n8n/community-nodes/no-runtime-dependencies': 'off' },
	},
];
