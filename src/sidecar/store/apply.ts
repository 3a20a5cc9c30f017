import { compareVersions, type Proxy, type RollbackReason, type VersionStatus } from '../../core/index.js';
import type { StoredCluster } from '../store.js';
import type { RemoveReason } from './keys.js';
import { isObject } from '../../core/given.js';

/** What applying the shared versions needs of the sidecar. */
export interface ApplyTarget {
  readonly proxy: Proxy;
  /** Adds a stored version as a restart does (share and standing included); its containers start on this host. */
  add(entry: StoredCluster): void;
  /** Removes a version: no new traffic, its connections drain, its containers stop; `reason` as the deciding host gave it. */
  remove(uuid: string, reason: RemoveReason): void;
}

/** A version as the store holds it, with the revision it was created at (the later of two equal versions is the newer). */
export interface Held {
  entry: StoredCluster;
  createRevision: number;
  modRevision: number;
}

/** Newest first, as the proxy lists them: version order, the later-created first on a tie. */
export function newestFirst(held: Iterable<Held>): Held[] {
  return [...held].sort((a, b) => compareVersions(b.entry.version, a.entry.version) || b.createRevision - a.createRevision);
}

/** The fields `updateVersion` takes, in a stable form for comparing; a container version's servers are this host's own, not the store's. */
function configPart(e: Record<string, unknown>, withServers: boolean): string {
  const { uuid: _u, percentage: _p, standing: _s, containers: _c, servers, launch: _l, ...rest } = e;
  return canonical(withServers ? { ...rest, servers } : rest);
}

/** JSON with object keys sorted, so two equal values compare equal whatever their key order. */
export function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (x !== null && typeof x === 'object' && !Array.isArray(x)
    ? Object.fromEntries(Object.entries(x as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
    : x));
}

/** The standing a stored entry asks for, with the deciding host folded into the evidence. */
function standingOf(e: StoredCluster): { state: 'rolled-back' | 'promoted'; reason: RollbackReason; at: number; evidence: object | undefined } | undefined {
  const s = e['standing'];
  if (!isObject(s) || (s['state'] !== 'rolled-back' && s['state'] !== 'promoted')) return undefined;
  const at = typeof s['at'] === 'string' ? Date.parse(s['at']) : Number.NaN;
  return { state: s['state'], reason: s['reason'] as RollbackReason, at: Number.isNaN(at) ? Date.now() : at, evidence: isObject(s['evidence']) ? s['evidence'] : undefined };
}

/** Moves one routed version to the standing and share its entry holds. */
function applyDynamic(proxy: Proxy, e: StoredCluster, st: VersionStatus): void {
  const want = standingOf(e);
  if (want?.state === 'rolled-back' && st.state !== 'rolled-back') {
    proxy.rollback(e.uuid, want.reason, { at: want.at, ...(want.evidence !== undefined ? { evidence: want.evidence } : {}) });
  } else if (want?.state === 'promoted' && st.promotedAt === undefined) {
    proxy.promote(e.uuid, { at: want.at });
  } else if (want === undefined && (st.state === 'rolled-back' || st.promotedAt !== undefined)) {
    proxy.resume(e.uuid);
  }
  const pct = e['percentage'];
  if (typeof pct === 'number' && st.mode === 'GRADUAL') {
    const now = proxy.status().versions.find((v) => v.uuid === e.uuid)?.percentage;
    if (now !== pct) proxy.setPercentage(e.uuid, pct);
  }
}

/**
 * Makes the proxy route what the store holds: versions added (oldest
 * first, so ties resolve as on every other host), changed, removed; each
 * one's standing and GRADUAL share set. A version that cannot be applied
 * here is reported and skipped: the others still apply.
 */
export function applyStored(target: ApplyTarget, held: Held[], onError: (uuid: string, err: Error) => void, removals: ReadonlyMap<string, RemoveReason> = new Map()): void {
  const { proxy } = target;
  const wanted = new Set(held.map((h) => h.entry.uuid));
  for (const v of proxy.listVersions()) {
    if (!wanted.has(v.uuid)) target.remove(v.uuid, removals.get(v.uuid) ?? 'api');
  }
  for (const { entry } of [...newestFirst(held)].reverse()) {
    try {
      const current = proxy.getVersion(entry.uuid);
      if (current === undefined) {
        target.add(entry);
        continue;
      }
      const withServers = entry['containers'] === undefined;
      if (configPart(current as unknown as Record<string, unknown>, withServers) !== configPart(entry, withServers)) {
        const { uuid: _u, percentage: _p, standing: _s, containers, ...patch } = entry;
        proxy.updateVersion(entry.uuid, patch, { allowNoServers: containers !== undefined });
      }
      const st = proxy.status().versions.find((v) => v.uuid === entry.uuid);
      if (st !== undefined) applyDynamic(proxy, entry, st);
    } catch (err) {
      onError(entry.uuid, err as Error);
    }
  }
}
