/**
 * The accounting answers written by writers compiled from their routes' own response schemas
 * (fast-json-stringify): the text JSON.stringify writes, byte for byte, in about half the time.
 * These answers are the per-request cost of the service, and writing them out is the largest
 * part of it for deltas, contributions and batches. Compiled once per app and once per offload
 * worker. Every other body (problems, GET routes) is written by JSON.stringify.
 *
 * A compiled writer writes the keys its schema lists, in the schema's order (required ones
 * first), so it matches JSON.stringify only because the policy builds each answer with the keys
 * its schema lists, in that order; test/http/answer-writers.test.ts proves it over random requests
 * of every route.
 */
import fastJson from 'fast-json-stringify';
import { z } from 'zod';
import type { RealtimeDeltaBatchResult } from './realtime-delta-batch.js';
import type { ApiSchemas } from './schemas/api.js';

export type AnswerWriter = (answer: unknown) => string;

/*
 * A compiled writer builds its text piece by piece, and beyond a few hundred kB that costs more
 * than JSON.stringify's native one (bench/answer-writers.ts: faster up to 128 workers or 30
 * batched deltas, slower from 512 workers or 100 deltas). A list of at least this many items is
 * written by JSON.stringify, and so is a batch of more than this many results.
 */
const COMPILED_LIST_ITEMS_MAX = 256;
const COMPILED_BATCH_RESULTS_MAX = 32;

export interface AnswerWriters {
  readonly quote: AnswerWriter;
  readonly settlement: AnswerWriter;
  readonly contribution: AnswerWriter;
  readonly realtimeDelta: AnswerWriter;
  readonly realtimeDeltaBatch: AnswerWriter;
  /** The writer of a route's response schema, when it is one of these answers' (by identity). */
  readonly forSchema: (schema: unknown) => AnswerWriter | undefined;
}

export function compileAnswerWriters(schemas: ApiSchemas): AnswerWriters {
  const realtimeDelta = compiledWriter(schemas.realtimeDelta.realtimeDeltaResponse);
  const writers = {
    quote: compiledWriter(schemas.consumption.quoteResponse),
    settlement: compiledWriter(schemas.settlement.settleResponse),
    contribution: compiledWriter(schemas.contribution.contributionResponse),
    realtimeDelta,
    realtimeDeltaBatch: batchWriter(realtimeDelta),
  };
  const bySchema = new Map<unknown, AnswerWriter>([
    [schemas.consumption.quoteResponse, writers.quote],
    [schemas.settlement.settleResponse, writers.settlement],
    [schemas.contribution.contributionResponse, writers.contribution],
    [schemas.realtimeDelta.realtimeDeltaResponse, writers.realtimeDelta],
    [schemas.realtimeDeltaBatch.realtimeDeltaBatchResponse, writers.realtimeDeltaBatch],
  ]);
  return { ...writers, forSchema: (schema) => bySchema.get(schema) };
}

/**
 * Fastify's serializer compiler: a route's response schema that is an accounting answer's gets
 * its compiled writer, any other JSON.stringify. Picked by the schema object itself, so a route
 * that declares another schema never gets a writer of a shape it does not answer.
 */
export function answerSerializerCompiler(writers: AnswerWriters): (route: { schema: unknown }) => AnswerWriter {
  return ({ schema }) => writers.forSchema(schema) ?? ((data) => JSON.stringify(data));
}

/**
 * The output JSON Schema of `schema`, without zod's registry of descriptions: the plain shape,
 * with every number a "number", so a writer never rounds a value its schema documents as an integer.
 * fast-json-stringify throws where JSON.stringify writes on (NaN, written as null; a required key
 * left undefined, omitted): such an answer is then written by JSON.stringify, as before.
 */
function compiledWriter(schema: z.ZodType): AnswerWriter {
  const jsonSchema = z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' }) as fastJson.AnySchema;
  const write = fastJson(jsonSchema, { largeArrayMechanism: 'json-stringify', largeArraySize: COMPILED_LIST_ITEMS_MAX });
  return (answer) => {
    try {
      return write(answer) as string;
    } catch {
      return JSON.stringify(answer);
    }
  };
}

/**
 * `{"results":[...]}` as JSON.stringify writes it: each accounted update's `{status, delta}` with
 * the delta's writer, any other result (204, a problem) by JSON.stringify. The results are a union
 * that one compiled schema would write by trying each member in turn.
 */
function batchWriter(writeDelta: AnswerWriter): AnswerWriter {
  return (answer) => {
    const { results } = answer as { results: readonly RealtimeDeltaBatchResult[] };
    if (results.length > COMPILED_BATCH_RESULTS_MAX) return JSON.stringify(answer);
    let text = '{"results":[';
    for (let index = 0; index < results.length; index += 1) {
      const result = results[index]!;
      if (index > 0) text += ',';
      text += 'delta' in result ? `{"status":${result.status},"delta":${writeDelta(result.delta)}}` : JSON.stringify(result);
    }
    return `${text}]}`;
  };
}
