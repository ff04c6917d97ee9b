/**
 * What n8n's own package loader (n8n-core's PackageDirectoryLoader, as n8n uses for a community
 * package) makes of our package.json: every node and credential loads, and every node gets its codex
 * (the editor's categories, search aliases and documentation links) from the `.node.json` beside it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { loadPackageTypes } from '../support/workflow-harness';

const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as {
	n8n: { nodes: string[]; credentials: string[] };
};

test('every node of package.json loads with its codex: categories, aliases and documentation links', async () => {
	const { loader } = await loadPackageTypes();
	expect(loader.describeLoadErrors()).toBe('');
	const nodes = Object.values(loader.nodeTypes).map(({ type }) => type.description);
	expect(nodes.map((d) => d.name).sort()).toEqual(['decagon', 'decagonTrigger', 'dembraneEcho', 'dembraneEchoTrigger']);
	expect(nodes).toHaveLength(pkg.n8n.nodes.length);
	for (const description of nodes) {
		const codex = description.codex;
		expect({ node: description.name, categories: codex?.categories }).toEqual({ node: description.name, categories: ['Communication', 'Data & Storage'] });
		expect(codex?.alias?.length).toBeGreaterThan(2);
		for (const link of [...(codex?.resources?.primaryDocumentation ?? []), ...(codex?.resources?.credentialDocumentation ?? [])]) {
			expect(link.url).toMatch(/^https:\/\/www\.npmjs\.com\/package\/n8n-nodes-conversation-export#[a-z-]+$/);
		}
		expect(codex?.resources?.primaryDocumentation).toHaveLength(1);
		expect(codex?.resources?.credentialDocumentation).toHaveLength(1);
	}
	expect(Object.keys(loader.credentialTypes).sort()).toEqual(['decagonApi', 'dembraneEchoApi']);
});

test('each codex file names the node it sits beside, as n8n expects', () => {
	for (const file of pkg.n8n.nodes) {
		const source = join(__dirname, '..', '..', file.replace(/^dist\//, '').replace(/\.js$/, '.json'));
		const codex = JSON.parse(readFileSync(source, 'utf8')) as { node: string };
		const className = /([A-Za-z]+)\.node\.js$/.exec(file)![1];
		expect(codex.node).toBe(`n8n-nodes-conversation-export.${className[0].toLowerCase()}${className.slice(1)}`);
	}
});
