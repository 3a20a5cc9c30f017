import net from 'node:net';
import type { Connection } from './connection/connection.js';
import { HttpConnection } from './connection/http.js';
import { StreamConnection } from './connection/stream.js';
import { Slots } from './connection/slot.js';
import type { ProxyContext } from './context.js';
import { InvalidVersionError, ProxyClosedError, VersionNotFoundError } from './errors.js';
import { ProxyEventEmitter } from './events.js';
import { Comparer } from './compare/comparer.js';
import { Judge, type RollbackOptions } from './judge/judge.js';
import type { JudgeSink } from './judge/types.js';
import { resolveOptions, type ProxyOptions, type ResolvedOptions } from './options.js';
import { Retirement, type DrainedInfo } from './routing/retire.js';
import { drain } from './drain.js';
import { UwsFront } from './engine/uws/front.js';
import { routingShares, upAt } from './routing/shares.js';
import { RoutingTable } from './routing/table.js';
import {
  patchVersion, toClusterJSON, validateVersion, type BalancingPolicy, type ClusterJSON, type ServerAddress, type VersionInput,
} from './routing/spec.js';
import type { TransitionInput } from './routing/transition.js';
import type { RollbackReason } from './routing/standing.js';
import type { VersionState } from './routing/version.js';
import { SessionCounter } from './sessions/counter.js';
import { RetryBudget, type RetryBudgetOptions } from './upstream/failover.js';
import { Health } from './upstream/health.js';
import { UpstreamPool } from './upstream/pool.js';
import type { ProxyStatus, ServerStatus, VersionStatus } from './status-types.js';

export type { ProxyStatus, ServerStatus, VersionStatus };

/** Fields `updateVersion` can change. The uuid stays. */
export interface VersionPatch {
  version?: string;
  servers?: ServerAddress[];
  /** Merged into the current transition when its mode (given, else the one its fields imply) is the current one; another mode starts afresh. */
  upgradeTransition?: TransitionInput;
  balancing?: BalancingPolicy;
  /** GRADUAL: set the current share (0–100) directly. */
  percentage?: number;
  /** Judgement of this version (fields over the proxy's `judge` option); replaces the version's current `judge`. */
  judge?: unknown;
}

export interface AddVersionOptions {
  /** Accept a version without servers yet (routed as down until it has some). */
  allowNoServers?: boolean;
}

/** Collaborators a test (or the library's own wiring) may give a proxy instead of the defaults. */
export interface ProxyParts {
  /** Judgement; default: the proxy's own (`options.judge`). */
  judge?: JudgeSink;
  /** The retry budget's knobs; default `options.judge.budget`. */
  budget?: RetryBudgetOptions;
  /**
   * Removes a version that retired (`retire: "when-drained"`), after the
   * `version:drained` event; default `removeVersion`. The sidecar removes it
   * through its store, so that the removal lasts and its containers stop.
   */
  retire?: (uuid: string) => Promise<unknown>;
}

let nextProxyId = 1;

/**
 * A running proxy. Created by `createProxy`; versions can be added, changed
 * and removed while it serves.
 */
export class Proxy {
  readonly id = nextProxyId++;
  readonly events = new ProxyEventEmitter();
  readonly options: ResolvedOptions;
  private readonly table = new RoutingTable();
  private readonly health: Health;
  private readonly server: net.Server;
  /** `engine: "uws"`: uWebSockets.js accepts the clients instead of `server`. */
  private readonly front: UwsFront | null = null;
  private readonly conns = new Set<Connection>();
  /** Stream mode's stand-ins for its connections in `conns` (see `Slot`). */
  private readonly slots = new Slots();
  private readonly pool: UpstreamPool;
  private readonly judge: Judge;
  private readonly retirement: Retirement;
  private readonly comparer: Comparer;
  private readonly sessions = new SessionCounter();
  private readonly ctx: ProxyContext;
  private nextConnId = 1;
  private closing: Promise<void> | undefined;
  private sweeper: NodeJS.Timeout | undefined;
  private shareGrowth: ((uuid: string, points: number) => void) | undefined;

  /** Use `createProxy`. */
  constructor(options: ResolvedOptions, parts: ProxyParts = {}) {
    this.options = options;
    this.health = new Health(this.id, options.health, this.table, this.events, (v) => this.removeByPolicy(v));
    const self = this;
    this.judge = new Judge(this.id, options.judge, this.table, this.events, (v, pct) => this.setPercentage(v, pct));
    this.retirement = new Retirement((v) => v.spec.retire ?? options.retire, (v, info) => this.retired(v, info, parts.retire));
    const judge = this.judge;
    this.comparer = new Comparer(options.compare, (v) => judge.previous(v), (v, evidence) => judge.differences(v, evidence));
    this.pool = new UpstreamPool({ maxIdle: options.http.maxIdlePerServer, maxPerServer: options.http.maxPerServer, idleTimeout: options.http.idleTimeout });
    const t = options.timeouts;
    // Head and linger timeouts are swept too (both modes), so they set the pace.
    const span = Math.min(t.idle, t.head, Math.max(t.linger, 100));
    const sweepEvery = Math.max(25, Math.min(1000, Math.floor(span / 4)));
    this.ctx = {
      sweepEvery,
      id: this.id,
      opts: options,
      table: this.table,
      health: this.health,
      events: this.events,
      pool: this.pool,
      judge: parts.judge ?? this.judge,
      budget: new RetryBudget(parts.budget ?? options.judge.budget),
      compare: this.comparer,
      sessions: this.sessions,
      growShare: (v) => self.growShare(v),
      get draining() {
        return self.closing !== undefined;
      },
      connectionClosed: (c) => self.conns.delete(c as Connection),
    };
    this.server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => this.accept(socket));
    // A failing listener must never take the process down.
    this.server.on('error', () => {});
    if (options.engine === 'uws') {
      this.front = new UwsFront({
        ctx: this.ctx, pool: this.pool, track: (c) => { this.conns.add(c); },
        nextId: () => (this.closing === undefined ? this.nextConnId++ : 0),
      });
    }
  }

  /** Binds the listening socket. */
  listen(): Promise<void> {
    if (this.front !== null) return this.front.listen(this.options.host, this.options.port).then(() => this.listening());
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.server.once('error', onError);
      this.server.listen(this.options.port, this.options.host, () => {
        this.server.removeListener('error', onError);
        this.listening();
        resolve();
      });
    });
  }

  private listening(): void {
    this.health.start();
    this.sweeper = setInterval(() => this.sweep(), this.ctx.sweepEvery);
    this.sweeper.unref();
  }

  /** Closes connections that moved no byte for `timeouts.idle` (and, in http mode, runs the head and linger timeouts). */
  private sweep(): void {
    const now = Date.now();
    for (const c of this.conns) c.sweep(now);
    const snap = this.table.snapshot;
    if (snap.length > 1) {
      const isUp = upAt(now);
      this.retirement.check(snap, routingShares(snap, isUp), isUp, now);
    }
  }

  /** The bound address. */
  get address(): { host: string; port: number; family: string } {
    if (this.front !== null) return { host: this.options.host, port: this.front.boundPort, family: this.options.host.includes(':') ? 'IPv6' : 'IPv4' };
    const a = this.server.address();
    if (a === null || typeof a === 'string') return { host: this.options.host, port: this.options.port, family: 'IPv4' };
    return { host: a.address, port: a.port, family: a.family };
  }

  private accept(socket: net.Socket): void {
    if (this.closing !== undefined || (this.options.limits.connections > 0 && this.conns.size >= this.options.limits.connections)) {
      socket.on('error', () => {});
      socket.destroy();
      return;
    }
    const id = this.nextConnId++;
    if (this.options.mode === 'http') this.conns.add(new HttpConnection(id, this.ctx, socket, this.pool));
    else this.conns.add(new StreamConnection(id, this.ctx, socket, this.slots).slot);
    if (this.events.enabled('connection:open')) {
      this.events.publish('connection:open', { proxyId: this.id, connectionId: id, remoteAddress: socket.remoteAddress, remotePort: socket.remotePort });
    }
  }

  // ------------------------------------------------------------------ versions

  /**
   * Adds a version (the seed's `cluster` JSON). Returns it normalized, with
   * its uuid (generated when not given). Throws `InvalidVersionError` or
   * `VersionExistsError`.
   */
  addVersion(input: VersionInput | unknown, opts: AddVersionOptions = {}): ClusterJSON {
    if (this.closing !== undefined) throw new ProxyClosedError();
    const spec = validateVersion(input, { serversOptional: opts.allowNoServers === true });
    if (spec.servers.length === 0 && opts.allowNoServers !== true) throw new InvalidVersionError('cluster.servers', 'must list at least one server');
    const v = this.table.add(spec);
    this.events.publish('version:add', { proxyId: this.id, uuid: v.uuid, version: v.version, mode: spec.transition.mode });
    return toClusterJSON(v.spec);
  }

  /** Changes a version in place; servers that stay keep their health. */
  updateVersion(id: string, patch: VersionPatch | unknown, opts: AddVersionOptions = {}): ClusterJSON {
    const v = this.table.get(id);
    if (v === undefined) throw new VersionNotFoundError(id);
    const { spec, percentage } = patchVersion(toClusterJSON(v.spec), patch, { serversOptional: opts.allowNoServers === true });
    if (spec.servers.length === 0 && opts.allowNoServers !== true && v.servers.length > 0) {
      throw new InvalidVersionError('cluster.servers', 'must list at least one server');
    }
    this.table.update(spec);
    if (percentage !== undefined) this.setPercentage(v, percentage);
    this.health.look(v);
    this.events.publish('version:update', { proxyId: this.id, uuid: v.uuid, version: v.version, mode: spec.transition.mode });
    return toClusterJSON(v.spec);
  }

  /** Sets the GRADUAL share of a version (0–100). */
  setPercentage(idOrVersion: string | VersionState, percentage: number): void {
    const v = typeof idOrVersion === 'string' ? this.table.get(idOrVersion) : idOrVersion;
    if (v === undefined) throw new VersionNotFoundError(String(idOrVersion));
    v.percentage = Math.max(0, Math.min(100, percentage));
    if (this.events.enabled('gradual:share')) {
      this.events.publish('gradual:share', { proxyId: this.id, uuid: v.uuid, version: v.version, percentage: v.percentage });
    }
  }

  private growShare(v: VersionState): void {
    if (v.percentage >= 100) return;
    if (this.shareGrowth !== undefined) this.shareGrowth(v.uuid, v.spec.transition.percentageTransitionPerRequest);
    else this.setPercentage(v, v.percentage + v.spec.transition.percentageTransitionPerRequest);
  }

  /** Many proxies, one GRADUAL share: a good answer's growth goes to `grow`, which sets the share (`setPercentage`); `undefined` grows it here again. */
  deferShareGrowth(grow: ((uuid: string, points: number) => void) | undefined): void {
    this.shareGrowth = grow;
  }

  /**
   * Removes a version: no new traffic from now on; its open connections may
   * finish for `drainTimeout` ms (default 0: closed at once), then are closed.
   * Resolves when none is left.
   */
  async removeVersion(id: string, opts: { drainTimeout?: number; reason?: 'api' | 'retired' } = {}): Promise<ClusterJSON> {
    const v = this.detach(id, opts.reason ?? 'api');
    await drain(v.open, opts.drainTimeout ?? 0);
    return toClusterJSON(v.spec);
  }

  private removeByPolicy(v: VersionState): void {
    if (this.table.has(v.uuid)) this.detach(v.uuid, 'policy');
  }

  /** A version drained (or waited `maxWait`): say so, then remove it (its last connections get 10 s). */
  private retired(v: VersionState, info: DrainedInfo, remove: ProxyParts['retire']): void {
    this.events.publish('version:drained', { proxyId: this.id, uuid: v.uuid, version: v.version, ...info });
    const done = remove !== undefined ? remove(v.uuid) : this.removeVersion(v.uuid, { drainTimeout: 10_000, reason: 'retired' });
    // Already removed by someone else, or the proxy is closing: nothing left to do.
    done.catch(() => {});
  }

  private detach(id: string, reason: 'api' | 'policy' | 'retired'): VersionState {
    const wasNewest = this.table.snapshot[0]?.uuid === id;
    const v = this.table.remove(id);
    this.events.publish('version:remove', { proxyId: this.id, uuid: v.uuid, version: v.version, reason });
    if (wasNewest) {
      // Removing the newest moves traffic back: say where it goes.
      const now = Date.now();
      const to = this.table.snapshot.find((x) => x.eligible && x.up(now));
      if (v.eligible) this.events.publish('rollback', { proxyId: this.id, fromUuid: v.uuid, fromVersion: v.version, toUuid: to?.uuid, toVersion: to?.version, reason: 'removed' });
    }
    return v;
  }

  // ------------------------------------------------------------------ judgement

  /**
   * Rolls a version back now (reason `operator` by default): no new traffic in
   * any mode, its SESSION and GRADUAL clients go back, it stays listed until
   * `resume` or `promote`. Throws `VersionNotFoundError`, or
   * `NoRollbackTargetError` when no other version could take its traffic.
   */
  rollback(id: string, reason: RollbackReason = 'operator', opts: RollbackOptions = {}): ClusterJSON {
    return this.judged(id, (v) => this.judge.rollback(v, reason, opts));
  }

  /** Ends the transition: while it is the newest, the version takes every new client now and is no longer judged. */
  promote(id: string, opts: { at?: number; restored?: boolean } = {}): ClusterJSON {
    return this.judged(id, (v) => this.judge.promote(v, opts));
  }

  /** Puts a rolled-back or promoted version back under judgement, its counters reset. */
  resume(id: string): ClusterJSON {
    return this.judged(id, (v) => { this.judge.resume(v); this.comparer.reset(v); });
  }

  private judged(id: string, act: (v: VersionState) => void): ClusterJSON {
    const v = this.table.get(id);
    if (v === undefined) throw new VersionNotFoundError(id);
    act(v);
    return toClusterJSON(v.spec);
  }

  /** A version in the seed's JSON shape, or undefined. */
  getVersion(id: string): ClusterJSON | undefined {
    const v = this.table.get(id);
    return v === undefined ? undefined : toClusterJSON(v.spec);
  }

  /** All versions in the seed's JSON shape, newest first. */
  listVersions(): ClusterJSON[] {
    return this.table.snapshot.map((v) => toClusterJSON(v.spec));
  }

  /** A snapshot of every version's state, health and counters. */
  status(): ProxyStatus {
    const now = Date.now();
    const snap = this.table.snapshot;
    // Up means a server proven reachable, not merely routable: a probing
    // server gets the next request, but that request falls back when it fails.
    const isUp = upAt(now);
    const shares = routingShares(snap, isUp);
    const sessions = this.sessions.counts(now);
    const versions = snap.map((v, i): VersionStatus => {
      const st: VersionStatus = {
        uuid: v.uuid,
        version: v.version,
        mode: v.spec.transition.mode,
        state: !v.eligible ? 'rolled-back' : isUp(v) ? 'up' : 'down',
        newest: i === 0,
        share: shares.get(v) ?? 0,
        counts: this.options.mode === 'http' ? 'requests' : 'first-requests', sessions: sessions.get(v.uuid) ?? 0,
        open: v.open.size,
        ...v.stats,
        ejections: v.servers.reduce((n, s) => n + s.ejections, 0),
        servers: v.servers.map((s) => {
          const state = s.health(now);
          const healthy = state === 'healthy';
          const out: ServerStatus = {
            hostname: s.hostname, port: s.port, healthy, state, ejections: s.ejections, active: s.active,
            idle: this.pool.idleCount(s), connects: s.connects, failures: s.failuresTotal,
          };
          if (!healthy) out.ejectedUntil = s.ejectedUntil;
          return out;
        }),
        judgement: this.judge.status(v),
        comparison: this.comparer.status(v),
      };
      if (v.standing.state === 'rolled-back') {
        st.rolledBack = { reason: v.standing.reason, at: new Date(v.standing.at).toISOString() };
        if (v.standing.evidence !== undefined) st.rolledBack.evidence = v.standing.evidence;
      }
      if (v.standing.state === 'promoted') st.promotedAt = new Date(v.standing.at).toISOString();
      if (v.spec.transition.mode === 'GRADUAL') st.percentage = v.percentage;
      const retire = this.retirement.status(v, snap, isUp);
      if (retire !== undefined) st.retire = retire;
      return st;
    });
    const a = this.address;
    return { address: { host: a.host, port: a.port }, connections: this.conns.size, versions };
  }

  /** Open client connections. */
  get connections(): number {
    return this.conns.size;
  }

  /**
   * Stops accepting, lets open connections finish for up to `drainTimeout`
   * ms (default 10000), then closes what is left. Idempotent.
   */
  close(opts: { drainTimeout?: number } = {}): Promise<void> {
    if (this.closing !== undefined) return this.closing;
    this.closing = (async () => {
      this.health.stop();
      this.front?.stopListening();
      const closed = this.front !== null ? Promise.resolve() : new Promise<void>((resolve) => this.server.close(() => resolve()));
      for (const c of this.conns) if (c.idleBeforeHead) c.destroy();
      // The sweep keeps running while connections drain: in http mode it ends lingering closes.
      await drain(this.conns, opts.drainTimeout ?? 10_000, (now) => { for (const c of this.conns) c.drain(now); });
      clearInterval(this.sweeper);
      this.comparer.close();
      this.pool.close();
      this.front?.close();
      await closed;
    })();
    return this.closing;
  }
}

/**
 * Starts a proxy and resolves once it listens.
 *
 * ```ts
 * const proxy = await createProxy({ port: 8080, versions: [{ version: '1.0', servers: [{ hostname: '127.0.0.1', port: 3001 }] }] });
 * proxy.addVersion({ version: '1.1', servers: [...], upgradeTransition: { mode: 'GRADUAL', percentageTransitionPerRequest: 5 } });
 * ```
 */
export async function createProxy(options: ProxyOptions = {}, parts: ProxyParts = {}): Promise<Proxy> {
  const resolved = resolveOptions(options);
  const proxy = new Proxy(resolved, parts);
  (options.versions ?? []).forEach((v, i) => {
    try {
      proxy.addVersion(v);
    } catch (err) {
      const e = err as InvalidVersionError;
      if (e.code === 'UPS_ERR_INVALID_VERSION' && e.field) throw new InvalidVersionError(e.field.replace(/^cluster/, `versions[${i}]`), e.message.replace(/^[^:]*: /, ''));
      throw err;
    }
  });
  await proxy.listen();
  return proxy;
}
