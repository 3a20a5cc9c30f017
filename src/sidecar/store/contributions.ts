import type { Logger } from 'pino';
import type { Proxy } from '../../core/index.js';
import { StoreUnavailableError } from '../errors.js';
import type { StoredCluster } from '../store.js';
import type { SharedStore } from './shared.js';
import { isObject } from '../../core/given.js';

/** How often a host adds its good GRADUAL answers to the shared share (ms): well under the 1 s every host must follow within. */
const SHARE_BATCH = 200;
/** The judgement's own verdicts; `removed` and `down` are not decisions to share. */
const VERDICTS = new Set(['errors', 'latency', 'unreachable']);

function decided(e: StoredCluster): boolean {
  return isObject(e['standing']);
}

/** The entry with `points` more share: from its current share (else its initial one), at most 100; undefined when it cannot grow. */
export function grown(e: StoredCluster, points: number): StoredCluster | undefined {
  const t = isObject(e['upgradeTransition']) ? e['upgradeTransition'] : {};
  if (t['mode'] !== 'GRADUAL' || decided(e)) return undefined;
  const from = typeof e['percentage'] === 'number' ? e['percentage'] : typeof t['initialPercentage'] === 'number' ? t['initialPercentage'] : 0;
  if (from >= 100) return undefined;
  // Rounded: sums of small steps must not drift apart in the last digits.
  return { ...e, percentage: Math.min(100, Math.round((from + points) * 10_000) / 10_000) };
}

/**
 * What each host contributes to the shared routing beyond REST changes:
 * its good GRADUAL answers, summed and added to the shared share in small
 * batches (the proxy grows no share of its own), and the rollbacks its
 * judgement decides, written with this host's id so every host applies
 * them. A verdict decided while etcd is away is written once it returns;
 * share points gathered then are dropped, so every host keeps the same share.
 */
export class Contributions {
  private readonly points = new Map<string, number>();
  private readonly verdicts = new Map<string, { reason: string; at: string; evidence: object | undefined }>();
  private readonly timer: NodeJS.Timeout;
  private flushing = false;
  private readonly onRollback: (p: { fromUuid: string; reason: string; evidence?: object | undefined }) => void;

  constructor(private readonly proxy: Proxy, private readonly store: SharedStore, private readonly log: Logger) {
    proxy.deferShareGrowth((uuid, points) => this.points.set(uuid, (this.points.get(uuid) ?? 0) + points));
    this.timer = setInterval(() => void this.flushShares(), SHARE_BATCH);
    this.timer.unref();
    this.onRollback = (p) => {
      // Applying the store's own standing is not a new decision.
      if (store.applying || !VERDICTS.has(p.reason)) return;
      this.verdicts.set(p.fromUuid, { reason: p.reason, at: new Date().toISOString(), evidence: p.evidence });
      void this.writeVerdicts();
    };
    proxy.events.on('rollback', this.onRollback);
    store.onReconnect(() => void this.writeVerdicts());
  }

  private async flushShares(): Promise<void> {
    if (this.flushing || this.points.size === 0) return;
    this.flushing = true;
    const batch = [...this.points];
    this.points.clear();
    try {
      for (const [uuid, points] of batch) await this.store.update(uuid, (e) => grown(e, points));
    } catch (err) {
      if (!(err instanceof StoreUnavailableError)) this.log.error({ event: 'store', err: (err as Error).message }, `cannot add to the shared share: ${(err as Error).message}`);
    } finally {
      this.flushing = false;
    }
  }

  private async writeVerdicts(): Promise<void> {
    for (const [uuid, v] of [...this.verdicts]) {
      try {
        await this.store.update(uuid, (e) => {
          if (isObject(e['standing']) && e['standing']['state'] === 'rolled-back') return undefined;
          const gradual = isObject(e['upgradeTransition']) && e['upgradeTransition']['mode'] === 'GRADUAL';
          const evidence = { ...(v.evidence ?? {}), host: this.store.hostId };
          return { ...e, ...(gradual ? { percentage: 0 } : {}), standing: { state: 'rolled-back', reason: v.reason, at: v.at, evidence } };
        });
        this.verdicts.delete(uuid);
        this.log.info({ event: 'store', uuid, reason: v.reason, host: this.store.hostId }, `rollback of ${uuid} (${v.reason}, decided by host ${this.store.hostId}) written for every host`);
      } catch (err) {
        if (err instanceof StoreUnavailableError) return;
        this.verdicts.delete(uuid);
        this.log.error({ event: 'store', uuid, err: (err as Error).message }, `cannot share the rollback of ${uuid}: ${(err as Error).message}`);
      }
    }
  }

  close(): void {
    clearInterval(this.timer);
    this.proxy.events.off('rollback', this.onRollback);
    this.proxy.deferShareGrowth(undefined);
  }
}
