/** What the main thread and the offload workers exchange; both sides import these types. */
import type { PolicyCatalog } from '../../policy/index.js';
import type { ProblemFields } from '../problem.js';

/** The routes whose large bodies are answered in the pool. */
export const OFFLOADED_ROUTES = ['/realtime-delta', '/contribution', '/settle', '/realtime-delta/batch'] as const;
export type OffloadedRoute = (typeof OFFLOADED_ROUTES)[number];

/** Built once per worker, which builds the same schemas from it as the app (plain data and a Map clone). */
export interface OffloadWorkerData {
  readonly catalog: PolicyCatalog;
  readonly batch_max_updates: number;
}

export interface OffloadTask {
  readonly route: OffloadedRoute;
  /** A copy of the request body as received, transferred to the worker (the original stays on the request). */
  readonly body: Uint8Array;
  readonly request_id: string;
  /** The request prefers the CSV of the workers (routes that offer it). */
  readonly csv: boolean;
}

/**
 * A worker's answer. A 200 carries its body already written as UTF-8 bytes (moved, not copied:
 * encoding megabytes of text as the socket writes them would block the event loop again), and,
 * apart, the few fields of the answer the metrics count (src/http/metrics.ts), so the main
 * thread neither copies nor serializes the whole answer. A bug is not an outcome: the task
 * fails, and the request with a 500.
 */
export type OffloadOutcome =
  | { readonly status: 200; readonly bytes: Uint8Array; readonly counted: unknown }
  | { readonly status: 204 }
  | { readonly status: number; readonly problem: ProblemFields };

/**
 * How much lower than the event loop's a pool thread's priority is (nice). Where the pool and the
 * event loop share a core, the kernel then gives the CPU to the event loop first, so a small
 * request does not wait out a time slice of a large job: the large job takes what is left.
 */
export const OFFLOAD_THREAD_NICE_INCREMENT = 10;
