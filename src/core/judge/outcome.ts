import type { VersionState } from '../routing/version.js';
import type { Attempt, JudgeSink, Outcome } from './types.js';

/**
 * The one mapping from what happened at a version to the outcome judgement
 * counts, for both connection modes: a head is `status` when its code is in
 * the version's `judge.retryOn`, else `good`; a failure is `unreachable`
 * (connect), `timeout` (no head in time) or `reset` (closed, errored or an
 * invalid head after the request went out).
 */
export function failureOutcome(err: unknown): Outcome {
  switch ((err as { code?: unknown } | null)?.code) {
    case 'UPS_ERR_CONNECT':
    case 'UPS_ERR_CONNECT_TIMEOUT': return 'unreachable';
    case 'UPS_ERR_FIRST_BYTE_TIMEOUT': return 'timeout';
    default: return 'reset';
  }
}

/** The attempt of a response head with `status` from `v`; `sentAt` (epoch ms, 0 unknown) gives the first-byte latency. */
export function headAttempt(judge: JudgeSink, v: VersionState, status: number, sentAt: number): Attempt {
  const outcome: Outcome = judge.retryOn(status, v) ? 'status' : 'good';
  return sentAt === 0 ? { version: v, outcome, status } : { version: v, outcome, status, firstByteMs: Date.now() - sentAt };
}
