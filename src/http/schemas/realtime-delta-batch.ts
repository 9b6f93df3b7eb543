/**
 * POST /realtime-delta/batch: many realtime deltas in one request. The envelope is all the
 * route's schema checks: its items take any value, and each is checked by the single endpoint's
 * request schema on its own (src/http/realtime-delta-batch.ts), so one bad update becomes its own
 * 400 result instead of failing the batch. The items are therefore documented in words, as
 * request bodies of POST /realtime-delta, not by that schema.
 */
import { z } from 'zod';
import { computeRealtimeDelta } from '../../policy/index.js';
import type { SchemaContext } from './context.js';
import { described } from './docs.js';
import { exampleSettings, REALTIME_DELTA_BATCH_EXAMPLE } from './examples.js';
import { refuseOversizedBatch } from '../list-limits.js';
import { REFUSED_REQUESTS, refusalOf, schemaRefusalOf } from './problem-examples.js';
import type { ProblemSchemas } from './problem.js';
import type { RealtimeDeltaSchemas } from './realtime-delta.js';

export function realtimeDeltaBatchSchemas(context: SchemaContext, realtimeDelta: RealtimeDeltaSchemas, problems: ProblemSchemas, max_updates: number) {
  const { docs, settings } = context;
  const priced = exampleSettings(settings);
  const exampleResults = REALTIME_DELTA_BATCH_EXAMPLE.updates.map((update) => {
    const delta = computeRealtimeDelta(update, priced);
    return delta === null ? { status: 204 } : { status: 200, delta };
  });

  const accounted = described(
    docs,
    z.object({
      status: described(docs, z.literal(200), { type: 'integer', description: 'The update has new tokens to account: POST /realtime-delta answers it with 200.' }),
      delta: described(docs, realtimeDelta.realtimeDelta, { description: 'The body POST /realtime-delta answers for this update.' }),
    }),
    { description: 'An accounted update: its delta.' },
  );
  const nothingNew = described(
    docs,
    z.object({
      status: described(docs, z.literal(204), { type: 'integer', description: 'Nothing new to account: POST /realtime-delta answers this update with 204 and no body.' }),
    }),
    { description: 'An update with nothing new to account.' },
  );
  const refused = described(
    docs,
    z.object({
      status: described(docs, z.number(), {
        type: 'integer',
        description: 'The status POST /realtime-delta answers for this update: 400, 409 or 422.',
        example: 422,
      }),
      problem: described(docs, problems.problem, {
        description: 'The problem body POST /realtime-delta answers for this update, with the batch\'s request_id.',
      }),
    }),
    { description: 'A refused update: the other updates are answered all the same.' },
  );

  // A component, as RealtimeDelta is: the paths of the document drop the descriptions beside a
  // $ref (its delta and problem), the components keep them.
  const batchAnswer = described(
    docs,
    z.object({
      results: described(docs, z.array(z.union([accounted, nothingNew, refused])), {
        description: 'One result per update, in the order of the updates: what POST /realtime-delta answers for it alone.',
      }),
    }),
    { id: 'RealtimeDeltaBatch', description: 'The answer to each update of a batch.', examples: [{ results: exampleResults }] },
  );

  const realtimeDeltaBatchRequest = described(
    docs,
    z.strictObject({
      updates: described(docs, z.array(described(docs, z.unknown(), { description: 'A request body of POST /realtime-delta.' })), {
        description: `The updates, at most ${max_updates} (BATCH_MAX_UPDATES), each a request body of POST /realtime-delta. Each is checked on its own: one that does not match that schema or breaks a rule is refused in its result, and the others are answered.`,
        maxItems: max_updates,
      }),
    }),
    { description: 'Realtime deltas to account, of one job or of many.', examples: [REALTIME_DELTA_BATCH_EXAMPLE] },
  );
  // One update more than the limit: its length alone is refused, whatever the updates hold.
  const oversized = { updates: Array.from({ length: max_updates + 1 }, () => ({})) };
  return {
    /** The most updates one batch may carry: the route enforces the number its documentation states. */
    max_updates,
    realtimeDeltaBatchRequest,
    realtimeDeltaBatchResponse: described(docs, batchAnswer, { description: 'The answer to each update of the batch, in order.' }),
    problemResponses: {
      400: problems.response(
        'Malformed JSON, a body that is not JSON, or a body that is not { "updates": [...] }: updates missing or not a list, or an unknown field. An update that does not match the schema is refused in its result instead.',
        schemaRefusalOf(realtimeDeltaBatchRequest, REFUSED_REQUESTS['/realtime-delta/batch'][400]),
      ),
      413: problems.bodyTooLarge,
      422: problems.response(
        `The batch holds more than ${max_updates} updates (BATCH_MAX_UPDATES); \`errors\` names /updates. An update that breaks a rule is refused in its result instead.`,
        refusalOf(() => refuseOversizedBatch(oversized.updates, max_updates), oversized),
      ),
      500: problems.internalError,
    },
  };
}
