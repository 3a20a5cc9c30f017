import type { RetirePolicy } from './retire-options.js';
import type { VersionState } from './version.js';

/**
 * Version-aware retirement: the one rule that decides when an old version
 * with `retire: "when-drained"` is removed by itself.
 *
 * - It must have been **taken over**: a newer version is routable and up and
 *   routing gives this one no share of new clients (INSTANT and SESSION as
 *   soon as the newer one serves; GRADUAL once the share reached 100 or the
 *   newer was promoted; CONCURRENT once the newer was promoted). A takeover
 *   that ends (the newer one was rolled back, or went down) starts afresh.
 * - It is **drained** when no connection is open on it and no session can
 *   still name it: nothing was served by it for a whole session lifetime
 *   (the newest's `sessionTimeout` when SESSION pins clients, else 0): a
 *   session cookie is (re)issued only on an answer and lives one lifetime
 *   from then, so an idle lifetime means the last cookie naming it expired. Fallback traffic served by it counts
 *   as activity, so the version the newest falls back to stays while needed.
 * - At the latest `maxWait` seconds after the takeover it is removed anyway.
 */
export type RetireVerdict = { retire: false } | { retire: true; reason: 'drained' | 'max-wait' };

export interface RetireFacts {
  readonly policy: RetirePolicy;
  /** Epoch ms the takeover began; undefined while not taken over. */
  readonly takenOverAt: number | undefined;
  /** Epoch ms of the last answer or connection it served (or of the takeover, if later). */
  readonly lastActivity: number;
  /** Open client connections on it (WebSocket and other tunnels included). */
  readonly open: number;
  /** Milliseconds a session cookie naming it lives after its last answer. */
  readonly sessionLifetimeMs: number;
  readonly now: number;
}

export function retireVerdict(f: RetireFacts): RetireVerdict {
  if (f.policy.when !== 'drained' || f.takenOverAt === undefined) return { retire: false };
  if (f.open === 0 && f.now - Math.max(f.lastActivity, f.takenOverAt) >= f.sessionLifetimeMs) return { retire: true, reason: 'drained' };
  if (f.now - f.takenOverAt >= f.policy.maxWait * 1000) return { retire: true, reason: 'max-wait' };
  return { retire: false };
}

/** What `Retirement` reports when it removes a version. */
export interface DrainedInfo {
  reason: 'drained' | 'max-wait';
  /** Connections still open (0 when drained). */
  open: number;
  /** Milliseconds from the takeover. */
  waitedMs: number;
}

/** A version's retirement as `status()` shows it while it is taken over. */
export interface RetireStatus {
  /** ISO 8601 time the takeover began. */
  since: string;
  /** ISO 8601 time it is removed at the latest. */
  deadline: string;
  /** ISO 8601 time the last session naming it expires, if nothing more is served by it. */
  sessionsExpire: string;
  open: number;
}

interface Track {
  takenOverAt: number | undefined;
  lastActivity: number;
  /** Served connections and answers when last looked at: a change is activity. */
  served: number;
}

/**
 * Tracks takeovers and activity of the versions that may retire, looked at
 * from the proxy's sweep. `shares` gives routing's share of new clients per
 * version (as `status()` reports it); `retire` removes one.
 */
export class Retirement {
  private readonly tracks = new WeakMap<VersionState, Track>();
  private readonly retiring = new WeakSet<VersionState>();

  constructor(
    private readonly policyOf: (v: VersionState) => RetirePolicy,
    private readonly retire: (v: VersionState, info: DrainedInfo) => void,
  ) {}

  /** Looks at every version once; `snapshot` is newest first. */
  check(snapshot: readonly VersionState[], shares: ReadonlyMap<VersionState, number>, isUp: (v: VersionState) => boolean, now: number): void {
    const lifetime = sessionLifetimeMs(snapshot, isUp);
    let newerServing = false;
    for (const v of snapshot) {
      const policy = this.policyOf(v);
      const track = this.track(v, now);
      const taken = newerServing && (shares.get(v) ?? 0) === 0;
      if (v.eligible && isUp(v)) newerServing = true;
      if (policy.when !== 'drained' || this.retiring.has(v)) continue;
      if (!taken) {
        track.takenOverAt = undefined;
        continue;
      }
      if (track.takenOverAt === undefined) track.takenOverAt = now;
      const verdict = retireVerdict({ policy, takenOverAt: track.takenOverAt, lastActivity: track.lastActivity, open: v.open.size, sessionLifetimeMs: lifetime, now });
      if (verdict.retire) {
        this.retiring.add(v);
        this.retire(v, { reason: verdict.reason, open: v.open.size, waitedMs: now - track.takenOverAt });
      }
    }
  }

  /** Status of a version taken over with `when-drained`; undefined otherwise. */
  status(v: VersionState, snapshot: readonly VersionState[], isUp: (v: VersionState) => boolean): RetireStatus | undefined {
    const policy = this.policyOf(v);
    const track = this.tracks.get(v);
    if (policy.when !== 'drained' || track?.takenOverAt === undefined) return undefined;
    const from = Math.max(track.lastActivity, track.takenOverAt);
    return {
      since: new Date(track.takenOverAt).toISOString(),
      deadline: new Date(track.takenOverAt + policy.maxWait * 1000).toISOString(),
      sessionsExpire: new Date(from + sessionLifetimeMs(snapshot, isUp)).toISOString(),
      open: v.open.size,
    };
  }

  private track(v: VersionState, now: number): Track {
    const served = v.stats.connections + v.stats.requests;
    let t = this.tracks.get(v);
    if (t === undefined) {
      t = { takenOverAt: undefined, lastActivity: now, served };
      this.tracks.set(v, t);
    } else if (served !== t.served || v.open.size > 0) {
      t.served = served;
      t.lastActivity = now;
    }
    return t;
  }
}

/** How long a cookie naming an older version keeps its client there: the newest serving version's `sessionTimeout` when it is SESSION, else nothing pins. */
function sessionLifetimeMs(snapshot: readonly VersionState[], isUp: (v: VersionState) => boolean): number {
  const newest = snapshot.find((v) => v.eligible && isUp(v));
  return newest?.spec.transition.mode === 'SESSION' ? newest.spec.transition.sessionTimeout * 1000 : 0;
}
