import { InvalidVersionError, type Proxy, type RollbackReason, type VersionStatus } from '../core/index.js';
import type { StoredCluster } from './store.js';

/**
 * A version's judgement standing as the state file keeps it, so a rolled-back
 * version stays rolled back (and a promoted one promoted) after a restart:
 * `{"state": "rolled-back", "reason", "at", "evidence"?}` or `{"state": "promoted", "at"}`.
 */
export function storedStanding(st: VersionStatus): Record<string, unknown> | undefined {
  if (st.rolledBack !== undefined) return { state: 'rolled-back', ...st.rolledBack };
  if (st.promotedAt !== undefined) return { state: 'promoted', at: st.promotedAt };
  return undefined;
}

/**
 * The stored entry an operator's action at `at` (epoch ms) leads to, computed
 * before the proxy applies it (the state file commits first): its standing,
 * and the GRADUAL share the proxy will set (0 on rollback, 100 on promote,
 * the initial share when a rolled-back version resumes).
 */
export function judgedEntry(e: StoredCluster, st: VersionStatus, action: 'rollback' | 'promote' | 'resume', at: number): StoredCluster {
  const { standing: _old, ...out } = e;
  const gradual = st.mode === 'GRADUAL';
  const when = new Date(at).toISOString();
  if (action === 'rollback') {
    if (st.rolledBack !== undefined) return e;
    return { ...out, ...(gradual ? { percentage: 0 } : {}), standing: { state: 'rolled-back', reason: 'operator', at: when } };
  }
  if (action === 'promote') return { ...out, ...(gradual ? { percentage: 100 } : {}), standing: { state: 'promoted', at: when } };
  const initial = (e['upgradeTransition'] as { initialPercentage?: number } | undefined)?.initialPercentage;
  return gradual && st.rolledBack !== undefined && initial !== undefined ? { ...out, percentage: initial } : out as StoredCluster;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Puts a restored version back in the standing the state file kept (no event: it is not a new decision). */
export function restoreStanding(proxy: Proxy, uuid: string, standing: unknown): void {
  const s = isObject(standing) ? standing : {};
  const at = typeof s['at'] === 'string' ? Date.parse(s['at']) : Number.NaN;
  if (Number.isNaN(at)) throw new InvalidVersionError('standing.at', 'must be an ISO 8601 time');
  if (s['state'] === 'promoted') {
    proxy.promote(uuid, { at, restored: true });
    return;
  }
  if (s['state'] !== 'rolled-back') throw new InvalidVersionError('standing.state', 'must be "rolled-back" or "promoted"');
  const evidence = isObject(s['evidence']) ? s['evidence'] : undefined;
  proxy.rollback(uuid, s['reason'] as RollbackReason, { at, restored: true, ...(evidence !== undefined ? { evidence } : {}) });
}
