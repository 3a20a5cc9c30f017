import { given } from '../given.js';
import { unknownName } from '../suggest.js';

/**
 * When an old version is removed by itself. `never` (the default): it stays
 * until an operator removes it. `drained`: once a newer version has taken
 * over, it is removed when its last session has expired and its last
 * connection closed, or `maxWait` seconds after the takeover at the latest.
 */
export interface RetirePolicy {
  readonly when: 'never' | 'drained';
  /** Seconds from the takeover after which a version still holding sessions or connections is removed anyway. Default 3600. */
  readonly maxWait: number;
}

/** As written: `"when-drained"`, `"never"`, or `{"when": "drained" | "never", "maxWait": seconds}` (`when` defaults to `drained`). */
export type RetireInput = 'never' | 'when-drained' | { when?: 'never' | 'drained'; maxWait?: number };

export const DEFAULT_RETIRE: RetirePolicy = Object.freeze({ when: 'never', maxWait: 3600 });
const MAX_WAIT_LIMIT = 31_536_000;

/** Validates a `retire` value (per version or proxy-wide); `error` builds the caller's field-named error. */
export function validateRetire(input: unknown, field: string, error: (field: string, message: string) => Error): RetirePolicy {
  if (input === 'never') return DEFAULT_RETIRE;
  if (input === 'when-drained') return Object.freeze({ when: 'drained', maxWait: DEFAULT_RETIRE.maxWait });
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw error(field, `must be "when-drained", "never" or an object {when, maxWait}, got ${given(input)}`);
  }
  const o = input as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (k !== 'when' && k !== 'maxWait') throw error(`${field}.${k}`, unknownName('field', k, ['when', 'maxWait']));
  }
  const when = o['when'] ?? 'drained';
  if (when !== 'drained' && when !== 'never') throw error(`${field}.when`, `must be "drained" or "never", got ${given(when)}`);
  const maxWait = o['maxWait'] ?? DEFAULT_RETIRE.maxWait;
  if (typeof maxWait !== 'number' || !Number.isInteger(maxWait) || maxWait < 0 || maxWait > MAX_WAIT_LIMIT) {
    throw error(`${field}.maxWait`, `must be an integer from 0 to ${MAX_WAIT_LIMIT} seconds, got ${given(maxWait)}`);
  }
  return Object.freeze({ when, maxWait });
}

/** The JSON form REST and the state file write back. */
export function retireToJSON(p: RetirePolicy): RetireInput {
  return { when: p.when, maxWait: p.maxWait };
}
