/**
 * Where a whole request's CPU time goes, from V8's sampling profiler: requests go through the
 * app as in the timed benchmark, and each sample is charged to the part of the request that the
 * innermost recognisable frame on its stack belongs to. This sees what timing the stages apart
 * cannot: the garbage collection the stages cause together, and the byte copies in Fastify and
 * inject. Profiling slows the request somewhat, so the shares matter here, not the times.
 *
 * Set BENCH_CPU_PROFILE to a file name to keep the profile, for Chrome DevTools or VS Code.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import type { Profiler } from 'node:inspector';
import type { FastifyInstance } from 'fastify';
import { watchCpu } from './machine.js';

export const PARTS = [
  'JSON parse (Fastify\'s parser, with its key scan)',
  'validation (zod)',
  'policy',
  'serialization (the app\'s serializer)',
  'body bytes (Buffer: byte counts, flattening, encoding, decoding, copies)',
  'garbage collection',
  'Fastify and its plugins',
  'the app\'s HTTP code (src/http: body checks, hooks, routes)',
  'inject (light-my-request)',
  'Node internals (streams, events, HTTP, task queues)',
  'other',
] as const;
export type Part = (typeof PARTS)[number];

export interface ProfileFigure {
  readonly requests: number;
  /** Wall time per request while profiled. */
  readonly per_request_us: number;
  /** Share of the sampled time by part. */
  readonly shares: ReadonlyMap<Part, number>;
  /** CPU that other processes took meanwhile, in cores; null off Linux. */
  readonly others_cpu: number | null;
}

export async function profileRequests(app: FastifyInstance, url: string, bodies: readonly string[], seconds: number): Promise<ProfileFigure> {
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 200 });
    await session.post('Profiler.start');
    const watch = watchCpu();
    let requests = 0;
    const started = process.hrtime.bigint();
    let elapsed = 0;
    do {
      for (const payload of bodies) {
        const response = await app.inject({ method: 'POST', url, payload, headers: { 'content-type': 'application/json' } });
        if (response.statusCode !== 200) throw new Error(`${url} answered ${response.statusCode}`);
      }
      requests += bodies.length;
      elapsed = Number(process.hrtime.bigint() - started) / 1e9;
    } while (elapsed < seconds);
    const { profile } = await session.post('Profiler.stop');
    const keepAs = process.env.BENCH_CPU_PROFILE;
    if (keepAs) writeFileSync(keepAs, JSON.stringify(profile));
    return { requests, per_request_us: (elapsed / requests) * 1e6, shares: sharesByPart(profile), others_cpu: watch.othersShare() };
  } finally {
    session.disconnect();
  }
}

function sharesByPart(profile: Profiler.Profile): Map<Part, number> {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const timeById = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  for (const [index, id] of samples.entries()) timeById.set(id, (timeById.get(id) ?? 0) + (deltas[index] ?? 0));

  const partOf = (leaf: number): Part => {
    for (let id: number | undefined = leaf; id !== undefined; id = parentOf.get(id)) {
      const part = frameOwner(byId.get(id)!.callFrame);
      if (part !== null) return part;
    }
    return 'other';
  };
  const totals = new Map<Part, number>(PARTS.map((part) => [part, 0]));
  let total = 0;
  for (const [id, time] of timeById) {
    const part = partOf(id);
    totals.set(part, totals.get(part)! + time);
    total += time;
  }
  return new Map(PARTS.map((part) => [part, total === 0 ? 0 : totals.get(part)! / total]));
}

/** The part a frame belongs to, or null to ask its caller. Native code has no url and is charged to its caller. */
function frameOwner({ functionName, url }: { functionName: string; url: string }): Part | null {
  if (functionName === '(garbage collector)') return 'garbage collection';
  if (url.includes('/src/policy/')) return 'policy';
  // The app's serializer (JSON.stringify, native code, charged to its caller).
  if (functionName === 'writeAnswerJson' && url.endsWith('/src/app.js')) return 'serialization (the app\'s serializer)';
  // The app's own hooks and body checks; the policy they call is charged to the policy above.
  if (url.includes('/src/http/')) return 'the app\'s HTTP code (src/http: body checks, hooks, routes)';
  if (url.includes('/node_modules/zod/')) return 'validation (zod)';
  // Once warm, the key scan's regular expressions run inside the parser's own frame.
  if (url.includes('/node_modules/secure-json-parse/')) return 'JSON parse (Fastify\'s parser, with its key scan)';
  if (url.includes('/node_modules/light-my-request/')) return 'inject (light-my-request)';
  if (url.includes('/node_modules/')) return 'Fastify and its plugins';
  if (url === 'node:buffer' || url === 'node:internal/buffer') return 'body bytes (Buffer: byte counts, flattening, encoding, decoding, copies)';
  if (url.startsWith('node:')) return 'Node internals (streams, events, HTTP, task queues)';
  if (functionName === '(program)' || functionName === '(idle)') return 'other';
  return null;
}
