import { InvalidVersionError, VersionNotFoundError, type ClusterJSON, type Proxy, type RollbackReason, type VersionStatus } from '../core/index.js';
import type { Changes } from './changes.js';
import type { StoredCluster } from './store.js';
import { isObject } from '../core/given.js';

export type JudgeAction = 'rollback' | 'promote' | 'resume';

/**
 * A version's judgement standing as the state file keeps it, so a rolled-back
 * version stays rolled back (and a promoted one promoted) after a restart:
 * `{"state": "rolled-back", "reason", "at", "evidence"?}` or `{"state": "promoted", "at"}`.
 */
export function withStanding(entry: StoredCluster, st: VersionStatus | undefined): StoredCluster {
  if (st?.rolledBack !== undefined) return { ...entry, standing: { state: 'rolled-back', ...st.rolledBack } };
  if (st?.promotedAt !== undefined) return { ...entry, standing: { state: 'promoted', at: st.promotedAt } };
  return entry;
}

/**
 * The stored entry an operator's action at `at` (epoch ms) leads to, computed
 * before the proxy applies it (the state file commits first): its standing,
 * and the GRADUAL share the proxy will set (0 on rollback, 100 on promote,
 * the initial share when a rolled-back version resumes).
 */
function judgedEntry(e: StoredCluster, st: VersionStatus, action: JudgeAction, at: number): StoredCluster {
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

/** An operator's action on version `id`: the state it leads to is committed first, then the proxy applies it (a refusal is taken back out of the store). */
export async function judgeVersion(proxy: Proxy, changes: Changes, snapshot: () => StoredCluster[], id: string, action: JudgeAction): Promise<ClusterJSON> {
  const current = proxy.status().versions.find((v) => v.uuid === id);
  if (current === undefined) throw new VersionNotFoundError(id);
  const at = Date.now();
  await changes.commit(snapshot().map((e) => (e.uuid === id ? judgedEntry(e, current, action, at) : e)));
  if (changes.shared) {
    // Applied from the shared store's watch, as on every host.
    const json = proxy.getVersion(id);
    if (json === undefined) throw new VersionNotFoundError(id);
    return json;
  }
  return changes.apply(() => action === 'rollback' ? proxy.rollback(id, 'operator', { at }) : action === 'promote' ? proxy.promote(id, { at }) : proxy.resume(id));
}

/** A rollback judgement decided on its own calls `persist`, so it is in the state file and survives a restart (the listener lives as long as the sidecar's proxy). */
export function persistVerdicts(proxy: Proxy, persist: () => void): void {
  const onRollback = (p: { reason: string }): void => {
    if (p.reason === 'errors' || p.reason === 'latency' || p.reason === 'unreachable' || p.reason === 'differences') persist();
  };
  proxy.events.on('rollback', onRollback);
}
