/** The decimal-string fields of an OpenAPI document, found by walking it, and whether each shows a readable example. */

/** Every object node of a JSON value, with its JSON Pointer. */
function objectNodes(value: unknown, pointer = ''): { pointer: string; node: Record<string, unknown> }[] {
  if (value === null || typeof value !== 'object') return [];
  const children = Object.entries(value).flatMap(([key, child]) => objectNodes(child, `${pointer}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`));
  return Array.isArray(value) ? children : [{ pointer, node: value as Record<string, unknown> }, ...children];
}

/**
 * The decimal-string fields of a document, wherever they are: string schemas with a pattern, and
 * string schemas whose description says they are decimal strings. Examples are not schemas: skipped.
 */
export function decimalFields(document: unknown): { pointer: string; pattern: unknown; example: unknown }[] {
  return objectNodes(document)
    .filter(({ pointer }) => !/\/examples?(\/|$)/.test(pointer))
    .filter(({ node }) => node['type'] === 'string' && (node['pattern'] !== undefined || /decimal string/.test(String(node['description'] ?? ''))))
    .map(({ pointer, node }) => ({ pointer, pattern: node['pattern'], example: node['example'] }));
}

/** The decimal fields whose example is missing or does not match their own pattern. */
export function decimalFieldsWithoutTheirExample(document: unknown): string[] {
  return decimalFields(document)
    .filter(({ pattern, example }) => typeof pattern !== 'string' || typeof example !== 'string' || !new RegExp(pattern).test(example))
    .map(({ pointer }) => pointer);
}
