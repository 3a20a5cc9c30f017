import { createBalancer, type Balancer } from '../upstream/balancer.js';
import { ServerState } from '../upstream/server.js';
import type { Orderable } from './order.js';
import type { VersionSpec } from './spec.js';
import { JUDGED, type Standing } from './standing.js';

/** Counters of one version, as `status()` reports them. */
export interface VersionStats {
  /** Client connections routed to this version. */
  connections: number;
  /** Responses (first response of each connection in stream mode) from this version. */
  requests: number;
  /** Responses with status >= 500 and failures after connecting. */
  errors: number;
  /** Connections this version served that routing had meant for another. */
  fallbacksIn: number;
  /** Connections routing meant for this version that another one served. */
  fallbacksOut: number;
}

/** A version at run time: its spec, its servers with their health, and its counters. */
export class VersionState implements Orderable {
  spec: VersionSpec;
  readonly uuid: string;
  readonly addedSeq: number;
  servers: ServerState[];
  balancer: Balancer;
  /** GRADUAL: current share (0–100) of clients sent here while this is the newest. */
  percentage: number;
  /** `draining` once removed: no new traffic, existing connections finish. */
  state: 'active' | 'draining' = 'active';
  readonly stats: VersionStats = { connections: 0, requests: 0, errors: 0, fallbacksIn: 0, fallbacksOut: 0 };
  /** Connections currently using this version (for drain). */
  readonly open = new Set<{ destroy(): void }>();
  /** Whether the last health look found this version down (for rollback/recover events). */
  wasDown = false;
  /** Judgement's standing: judged, rolled back (no new traffic) or promoted (see standing.ts). */
  standing: Standing = JUDGED;
  /** Judgement's own state of this version (its outcome window), owned and typed by judge/judge.ts; a field, not a map, since every answer reaches it. */
  judgeSlot: unknown = undefined;

  constructor(spec: VersionSpec, addedSeq: number) {
    this.spec = spec;
    this.uuid = spec.uuid;
    this.addedSeq = addedSeq;
    this.servers = spec.servers.map((s) => new ServerState(s));
    this.balancer = createBalancer(spec.balancing);
    this.percentage = spec.transition.initialPercentage;
  }

  get version(): string {
    return this.spec.version;
  }

  /**
   * Applies a new spec with the same uuid. Servers that stay keep their
   * health and counters; the GRADUAL share is kept unless the spec sets a new
   * initial share or the mode changed.
   */
  update(spec: VersionSpec): void {
    const old = this.spec;
    const byKey = new Map(this.servers.map((s) => [s.key, s]));
    this.servers = spec.servers.map((addr) => {
      const fresh = new ServerState(addr);
      return byKey.get(fresh.key) ?? fresh;
    });
    if (spec.balancing !== old.balancing) this.balancer = createBalancer(spec.balancing);
    if (spec.transition.mode !== old.transition.mode || spec.transition.initialPercentage !== old.transition.initialPercentage) {
      this.percentage = spec.transition.initialPercentage;
    }
    this.spec = spec;
  }

  /** Routing may send new traffic here: not rolled back. */
  get eligible(): boolean {
    return this.standing.state !== 'rolled-back';
  }

  /** At least one server is routable now. A version without servers (not ready yet) is down. */
  up(now: number): boolean {
    for (const s of this.servers) if (s.available(now)) return true;
    return false;
  }
}
