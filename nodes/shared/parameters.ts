import type { IExecuteFunctions, INode } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

/**
 * Numbers and names from node parameters, checked. n8n enforces a number field's minValue only in the
 * editor, and an expression can hand the node any value: NaN or -1 would otherwise mean "no limit" or
 * "nothing" without a word.
 */
export function numberParameter(
	node: INode,
	value: unknown,
	label: string,
	{ min, whole = true, itemIndex }: { min: number; whole?: boolean; itemIndex?: number },
): number {
	const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
	if (typeof number !== 'number' || !Number.isFinite(number) || number < min || (whole && !Number.isInteger(number))) {
		const shown = JSON.stringify(value) ?? String(value);
		throw new NodeOperationError(node, `${label} must be ${whole ? 'a whole number' : 'a number'} of at least ${min}, not ${shown.slice(0, 60)}`, {
			itemIndex,
			description: `Set ${label} to ${min} or more${whole ? ', without decimals' : ''}.`,
		});
	}
	return number;
}

/**
 * A text parameter, trimmed. n8n hands an expression's value over as it is, so a cursor kept in a
 * number column arrives as a number: it is the same text.
 */
export function textParameter(value: unknown): string {
	if (typeof value === 'string') return value.trim();
	if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
	return '';
}

/** Return All / Limit, as every list operation has them: Infinity, or a Limit of at least 1. */
export function resultLimit(this: IExecuteFunctions, itemIndex: number): number {
	if (this.getNodeParameter('returnAll', itemIndex) as boolean) return Infinity;
	return numberParameter(this.getNode(), this.getNodeParameter('limit', itemIndex), 'Limit', { min: 1, itemIndex });
}

/** "Put Output File in Field", as every file-producing operation has it: trimmed, and an error when empty. */
export function outputBinaryField(this: IExecuteFunctions, itemIndex: number): string {
	const text = textParameter(this.getNodeParameter('binaryPropertyName', itemIndex, 'data'));
	if (!text) {
		throw new NodeOperationError(this.getNode(), 'Put Output File in Field is empty', {
			itemIndex,
			description: 'Enter the name of the field to put the file in, such as data (the default).',
		});
	}
	return text;
}
