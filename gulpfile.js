// Copies node and credential icons, and the nodes' codex files (categories, aliases, documentation
// links), next to the compiled files, where n8n looks for them.
const path = require('path');
const { finished } = require('stream/promises');
const { task, src, dest } = require('gulp');

function copy(folder) {
	const from = [path.resolve(folder, '**', '*.{png,svg}'), path.resolve(folder, '**', '*.node.json')];
	return finished(src(from, { encoding: false }).pipe(dest(path.resolve('dist', folder))));
}

task('build:icons', () => Promise.all([copy('nodes'), copy('credentials')]));
