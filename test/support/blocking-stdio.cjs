/*
 * Preloaded into every `n8n execute` that the tests and benchmarks run (NODE_OPTIONS=--require). n8n prints the run as
 * JSON and then calls process.exit(); stdout is a pipe to the test, and Node writes to pipes without
 * blocking, so whatever the pipe had not taken yet is lost: large runs came back cut off at random
 * lengths. Blocking stdout and stderr make the printed run complete. Nothing else changes, and the
 * nodes' executionTime is over before n8n prints anything.
 */
for (const stream of [process.stdout, process.stderr]) {
	const handle = stream._handle;
	if (handle && typeof handle.setBlocking === 'function') handle.setBlocking(true);
}
