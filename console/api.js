// Every call the page makes goes through here, so each one carries the operator token once one is
// given. The token lives in this module's memory only: never in the URL, never in storage.

let bearerToken;

export function useToken(token) {
  bearerToken = token;
}

/**
 * Calls the service and sorts the answer into one of: { kind: 'json', status, body },
 * { kind: 'problem', status, problem }, { kind: 'empty', status } (a 204), { kind: 'blob', status,
 * blob, contentType }, or { kind: 'unreachable', error } when no answer came back at all.
 */
export async function callService(path, { method = 'GET', body, accept = 'application/json' } = {}) {
  const headers = { accept };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (bearerToken !== undefined) headers.authorization = `Bearer ${bearerToken}`;
  let response;
  try {
    response = await fetch(path, { method, headers, body });
  } catch (error) {
    return { kind: 'unreachable', error };
  }
  const contentType = response.headers.get('content-type') ?? '';
  if (response.status === 204) return { kind: 'empty', status: 204 };
  if (contentType.startsWith('application/problem+json')) return { kind: 'problem', status: response.status, problem: await response.json() };
  if (contentType.startsWith('application/json')) return { kind: 'json', status: response.status, body: await response.json() };
  return { kind: 'blob', status: response.status, blob: await response.blob(), contentType };
}

/** A problem-shaped description of an answer the page cannot use, so every failure shows the same way. */
export function problemOf(answer) {
  if (answer.kind === 'problem') return answer.problem;
  if (answer.kind === 'unreachable') {
    return { title: 'The service could not be reached', detail: String(answer.error) };
  }
  const type = answer.kind === 'blob' ? answer.contentType : answer.kind === 'empty' ? 'no body' : 'application/json';
  return { title: 'Unexpected answer', status: answer.status, detail: `The service answered ${answer.status} with ${type}.` };
}
