/**
 * Where a version stands with judgement. Kept on the version (routing reads
 * it), changed only through `Proxy.rollback/promote/resume` and the judge's
 * verdict, which go through the proxy.
 *
 * - `judged`: the default; routing treats it as any version, and while it is
 *   the newest eligible version its answers are judged against the previous one.
 * - `rolled-back`: a state of its own, not "down": no new traffic in any mode
 *   (strategies never see it), its SESSION and GRADUAL clients go back to the
 *   previous version. It stays until an operator resumes or promotes it.
 * - `promoted`: an operator ended the transition: while it is the newest, every
 *   new client goes to it (routed as INSTANT) and it is no longer judged.
 */
export type RollbackReason = 'errors' | 'latency' | 'unreachable' | 'differences' | 'operator';
export const ROLLBACK_REASONS: readonly RollbackReason[] = Object.freeze(['errors', 'latency', 'unreachable', 'differences', 'operator']);

export type Standing =
  | { readonly state: 'judged' }
  | {
    readonly state: 'rolled-back';
    readonly reason: RollbackReason;
    /** Epoch ms of the rollback. */
    readonly at: number;
    /** The counts that decided it (the verdict's evidence); undefined for an operator's rollback. */
    readonly evidence: object | undefined;
  }
  | { readonly state: 'promoted'; readonly at: number };

export const JUDGED: Standing = Object.freeze({ state: 'judged' });
