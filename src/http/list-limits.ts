/**
 * The size rules of request lists, checked on the parsed JSON before the route's schema reads a
 * single element (each route runs its rule first in its validator, src/http/request-validation.ts).
 * A schema describes every element it refuses, so a body of a million empty assignments would
 * otherwise answer a problem naming six million missing fields (megabytes of JSON and seconds of
 * event loop) for a list the policy refuses anyway by its length alone.
 */
import { assignmentCountRule, PolicyInputError, priceByVersion, settingsFor, type PolicyCatalog } from '../policy/index.js';

/**
 * Refuses `assignments` longer than the max_assignments of the policy the body names, with the
 * violation the policy itself reports (422 at /assignments). An unknown version is checked
 * under the current policy and named as well, as priceByVersion does for every rule.
 */
export function refuseOversizedAssignments(catalog: PolicyCatalog, body: unknown): void {
  if (body === null || typeof body !== 'object') return;
  const { assignments, policy_version } = body as { assignments?: unknown; policy_version?: unknown };
  if (!Array.isArray(assignments)) return;
  // A version of the wrong type is the schema's to refuse; the length is judged by the current policy.
  const version = typeof policy_version === 'string' ? policy_version : undefined;
  const named = catalog.policies.get(version ?? catalog.current) ?? settingsFor(catalog, undefined);
  if (assignments.length <= named.max_assignments) return;
  priceByVersion(catalog, version, ({ max_assignments }) => {
    throw new PolicyInputError([{ path: '/assignments', message: assignmentCountRule(max_assignments) }]);
  });
}

/** refuseOversizedBatch of a parsed batch body, whatever its shape: the schema judges the rest. */
export function refuseOversizedBatchBody(body: unknown, max_updates: number): void {
  refuseOversizedBatch((body as { updates?: unknown } | null)?.updates, max_updates);
}

/** A batch of more than `max_updates` updates is a rule violation of the whole (422 at /updates). */
export function refuseOversizedBatch(updates: unknown, max_updates: number): void {
  if (Array.isArray(updates) && updates.length > max_updates) {
    throw new PolicyInputError([{ path: '/updates', message: `must hold at most ${max_updates} updates` }]);
  }
}
