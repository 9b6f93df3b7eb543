import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ASSIGNMENTS_MAX_CEILING,
  computeContribution,
  DEFAULT_POLICY_PARAMETERS,
  DEFAULT_POLICY_SETTINGS,
  DEFAULT_POLICY_VERSION,
  PARAMETER_NAMES,
  PARAMETER_SPECS,
  settingsProblems,
  type ParameterName,
  type PolicyParameters,
  type PolicySettings,
} from '../../src/policy/index.js';
import { creditUnits, oracleTokenUnits } from '../support/credits.js';
import { MODEL_DEFAULT_PARAMETERS } from '../support/model-defaults.js';
import { expectSoundSplit, GIB, jobs } from './jobs.js';

/** Each parameter's rule in full, as a caller reads it. */
const RULES: Record<ParameterName, string> = {
  model_size_scale_gib: 'model_size_scale_gib must be a number from 9.313225746154785e-10 to 4194304',
  min_execution_time_secs: 'min_execution_time_secs must be a number from 1e-9 to 1000000',
  reference_service_rate_min: 'reference_service_rate_min must be a number from 0 to 1',
  throughput_multiplier_min: 'throughput_multiplier_min must be a number from 0.000001 to 1000000',
  throughput_multiplier_max: 'throughput_multiplier_max must be a number from 0.000001 to 1000000',
  resource_multiplier_base: 'resource_multiplier_base must be a number from 0.000001 to 1000000',
  resource_multiplier_span: 'resource_multiplier_span must be a number from 0 to 1000000',
};
const WHOLE_BYTES = 'model_size_scale_gib must be a whole number of bytes (GiB = 2^30 bytes)';
const THROUGHPUT_ORDER = 'throughput_multiplier_min must be at most throughput_multiplier_max';

function problemsWith(changes: Partial<Record<ParameterName, unknown>>, settings: Partial<Omit<PolicySettings, 'parameters'>> = {}): string[] {
  const parameters = { ...DEFAULT_POLICY_PARAMETERS, ...changes } as PolicyParameters;
  return settingsProblems({ ...DEFAULT_POLICY_SETTINGS, ...settings, parameters });
}

describe('the parameter table', () => {
  it('gives the default parameters exactly its defaults, under the default version', () => {
    const { version, ...values } = DEFAULT_POLICY_PARAMETERS;
    expect(version).toBe(DEFAULT_POLICY_VERSION);
    expect(version).toBe('divy-credit-1');
    expect(values).toStrictEqual(Object.fromEntries(PARAMETER_NAMES.map((name) => [name, PARAMETER_SPECS[name].default])));
    expect([...PARAMETER_NAMES].sort()).toEqual(Object.keys(PARAMETER_SPECS).sort());
    expect(Object.isFrozen(DEFAULT_POLICY_PARAMETERS)).toBe(true);
  });

  it('defaults to the constants of the original model', () => {
    expect(DEFAULT_POLICY_PARAMETERS).toStrictEqual(MODEL_DEFAULT_PARAMETERS);
    expect(DEFAULT_POLICY_PARAMETERS.reference_service_rate_min).toBe(Number.EPSILON);
  });

  it('keeps every default within its own range, and describes every parameter', () => {
    for (const name of PARAMETER_NAMES) {
      const spec = PARAMETER_SPECS[name];
      expect(spec.min).toBeLessThanOrEqual(spec.default);
      expect(spec.default).toBeLessThanOrEqual(spec.max);
      expect(spec.unit.length).toBeGreaterThan(0);
      expect(spec.description.length).toBeGreaterThan(0);
    }
    expect(settingsProblems(DEFAULT_POLICY_SETTINGS)).toEqual([]);
  });
});

describe('settingsProblems', () => {
  it('reports a parameter below its range by the rule from the table', () => {
    expect(problemsWith({ model_size_scale_gib: 2 ** -31 })).toEqual([RULES.model_size_scale_gib, WHOLE_BYTES]);
    expect(problemsWith({ min_execution_time_secs: 5e-10 })).toEqual([RULES.min_execution_time_secs]);
    expect(problemsWith({ reference_service_rate_min: -Number.MIN_VALUE })).toEqual([RULES.reference_service_rate_min]);
    expect(problemsWith({ throughput_multiplier_min: 5e-7 })).toEqual([RULES.throughput_multiplier_min]);
    expect(problemsWith({ throughput_multiplier_max: 5e-7 })).toEqual([RULES.throughput_multiplier_max, THROUGHPUT_ORDER]);
    expect(problemsWith({ resource_multiplier_base: 0 })).toEqual([RULES.resource_multiplier_base]);
    expect(problemsWith({ resource_multiplier_span: -0.1 })).toEqual([RULES.resource_multiplier_span]);
  });

  it('reports a parameter above its range by the rule from the table', () => {
    expect(problemsWith({ model_size_scale_gib: 2 ** 23 })).toEqual([RULES.model_size_scale_gib]);
    expect(problemsWith({ min_execution_time_secs: 2e6 })).toEqual([RULES.min_execution_time_secs]);
    expect(problemsWith({ reference_service_rate_min: 1.5 })).toEqual([RULES.reference_service_rate_min]);
    expect(problemsWith({ throughput_multiplier_min: 2e6 })).toEqual([RULES.throughput_multiplier_min, THROUGHPUT_ORDER]);
    expect(problemsWith({ throughput_multiplier_max: 2e6 })).toEqual([RULES.throughput_multiplier_max]);
    expect(problemsWith({ resource_multiplier_base: 2e6 })).toEqual([RULES.resource_multiplier_base]);
    expect(problemsWith({ resource_multiplier_span: 2e6 })).toEqual([RULES.resource_multiplier_span]);
  });

  it.each(PARAMETER_NAMES.map((name) => [name] as const))('reports %s that is not a finite number', (name) => {
    for (const value of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, '1', null, undefined]) {
      expect(problemsWith({ [name]: value })).toContain(RULES[name]);
      expect(problemsWith({ [name]: value }).filter((problem) => problem.includes('must be a number'))).toEqual([RULES[name]]);
    }
  });

  it('accepts every parameter at either end of its range', () => {
    for (const name of PARAMETER_NAMES) {
      for (const value of [PARAMETER_SPECS[name].min, PARAMETER_SPECS[name].max]) {
        // The throughput bounds move together so that min <= max holds.
        const partner =
          name === 'throughput_multiplier_min' ? { throughput_multiplier_max: Math.max(value, 1.5) } : name === 'throughput_multiplier_max' ? { throughput_multiplier_min: Math.min(value, 0.5) } : {};
        expect(problemsWith({ [name]: value, ...partner })).toEqual([]);
      }
    }
  });

  it('reports a throughput_multiplier_min above throughput_multiplier_max, and accepts them equal', () => {
    expect(problemsWith({ throughput_multiplier_min: 1.2, throughput_multiplier_max: 1.1 })).toEqual([THROUGHPUT_ORDER]);
    expect(problemsWith({ throughput_multiplier_min: 1.1, throughput_multiplier_max: 1.1 })).toEqual([]);
  });

  it('reports a model size scale that is not a whole number of bytes', () => {
    expect(problemsWith({ model_size_scale_gib: 0.001 })).toEqual([WHOLE_BYTES]);
    expect(problemsWith({ model_size_scale_gib: 32 + 2 ** -31 })).toEqual([WHOLE_BYTES]);
    expect(problemsWith({ model_size_scale_gib: 32 + 2 ** -30 })).toEqual([]);
    expect(problemsWith({ model_size_scale_gib: 1.5 })).toEqual([]);
    expect(problemsWith({ model_size_scale_gib: 2 ** -30 })).toEqual([]);
  });

  it('reports an empty version, a credit scale outside 0..18 and a bound on assignments outside its range', () => {
    expect(settingsProblems({ ...DEFAULT_POLICY_SETTINGS, parameters: { ...DEFAULT_POLICY_PARAMETERS, version: '' } })).toEqual(['version must not be empty']);
    expect(problemsWith({}, { credit_scale: 19 })).toEqual(['credit_scale must be an integer from 0 to 18']);
    expect(problemsWith({}, { credit_scale: 1.5 })).toEqual(['credit_scale must be an integer from 0 to 18']);
    expect(problemsWith({}, { max_assignments: 0 })).toEqual([`max_assignments must be an integer from 1 to ${ASSIGNMENTS_MAX_CEILING}`]);
    expect(problemsWith({}, { max_assignments: ASSIGNMENTS_MAX_CEILING + 1 })).toEqual([`max_assignments must be an integer from 1 to ${ASSIGNMENTS_MAX_CEILING}`]);
    expect(problemsWith({}, { credit_scale: 0, max_assignments: ASSIGNMENTS_MAX_CEILING })).toEqual([]);
  });

  it('reports every problem of one settings object together', () => {
    expect(
      problemsWith({ min_execution_time_secs: 0, throughput_multiplier_min: 2, throughput_multiplier_max: 1, resource_multiplier_span: -1 }, { credit_scale: -1 }),
    ).toEqual([RULES.min_execution_time_secs, RULES.resource_multiplier_span, THROUGHPUT_ORDER, 'credit_scale must be an integer from 0 to 18']);
  });
});

/** Any parameters the table allows: a whole-byte model size, and throughput_multiplier_min <= max. */
const allowedParameters: fc.Arbitrary<PolicyParameters> = fc
  .record({
    scaleBytes: fc.oneof(fc.constantFrom(1, GIB, 32 * GIB, 2 ** 52), fc.integer({ min: 1, max: 2 ** 52 })),
    min_execution_time_secs: fc.double({ min: 1e-9, max: 1e6, noNaN: true }),
    reference_service_rate_min: fc.oneof(fc.constantFrom(0, 2 ** -52, 1), fc.double({ min: 0, max: 1, noNaN: true })),
    bounds: fc.tuple(fc.double({ min: 1e-6, max: 1e6, noNaN: true }), fc.double({ min: 1e-6, max: 1e6, noNaN: true })),
    resource_multiplier_base: fc.double({ min: 1e-6, max: 1e6, noNaN: true }),
    resource_multiplier_span: fc.double({ min: 0, max: 1e6, noNaN: true }),
  })
  .map(({ scaleBytes, bounds, ...rest }) => ({
    version: 'custom',
    model_size_scale_gib: scaleBytes / GIB,
    throughput_multiplier_min: Math.min(...bounds),
    throughput_multiplier_max: Math.max(...bounds),
    ...rest,
  }));

describe('parameters: properties', () => {
  it('settingsProblems accepts any parameters the table allows', () => {
    fc.assert(
      fc.property(allowedParameters, (parameters) => {
        expect(settingsProblems({ ...DEFAULT_POLICY_SETTINGS, parameters })).toEqual([]);
      }),
    );
  });

  it('computeContribution splits by the model under any parameters the table allows', () => {
    fc.assert(
      fc.property(jobs({ maxAssignments: 12 }), allowedParameters, (input, parameters) => {
        const result = computeContribution(input, { ...DEFAULT_POLICY_SETTINGS, parameters });
        const price = { model_size_scale_gib: parameters.model_size_scale_gib };
        const budget = oracleTokenUnits(input.prompt_tokens, input.total_model_bytes, price) + oracleTokenUnits(input.completion_tokens, input.total_model_bytes, price);
        expect(creditUnits(result.job_credit_budget)).toBe(budget);
        expectSoundSplit(input, result, budget, 9, parameters);
      }),
      { numRuns: 100 },
    );
  });
});
