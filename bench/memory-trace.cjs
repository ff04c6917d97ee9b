// Preloaded into every `n8n execute` when BENCH_MEM_TRACE=<folder> is set (see bench/measure.ts): samples
// process.memoryUsage() every 100 ms and writes <folder>/<pid>.tsv at exit, to tell V8's heap from
// Buffers (arrayBuffers) and from memory the process holds but neither counts (RSS minus the two).
const fs = require('fs');
const path = require('path');

const folder = process.env.BENCH_MEM_TRACE_DIR;
if (folder) {
	const started = Date.now();
	const rows = ['ms\trss_mb\theap_total_mb\theap_used_mb\texternal_mb\tarray_buffers_mb'];
	const mb = (bytes) => (bytes / 1048576).toFixed(1);
	const sample = () => {
		const usage = process.memoryUsage();
		rows.push([Date.now() - started, mb(usage.rss), mb(usage.heapTotal), mb(usage.heapUsed), mb(usage.external), mb(usage.arrayBuffers)].join('\t'));
	};
	setInterval(sample, 100).unref();
	process.on('exit', () => {
		sample();
		fs.mkdirSync(folder, { recursive: true });
		fs.writeFileSync(path.join(folder, `${process.pid}.tsv`), `${rows.join('\n')}\n`);
	});
}
