import net from 'node:net';
import type { ProxyEventEmitter } from '../events.js';
import type { ResolvedOptions } from '../options.js';
import type { RoutingTable } from '../routing/table.js';
import type { VersionState } from '../routing/version.js';
import type { ServerState } from './server.js';

/**
 * Passive health (failures seen by real traffic) and optional active checks.
 * The only place that ejects and readmits servers, and that notices when the
 * newest version goes down (rollback) or comes back (recover).
 */
export class Health {
  private timer: NodeJS.Timeout | undefined;
  private checking = new Set<ServerState>();

  constructor(
    private readonly proxyId: number,
    private readonly opts: ResolvedOptions['health'],
    private readonly table: RoutingTable,
    private readonly events: ProxyEventEmitter,
    /** Called when a version has no routable server left and the policy is `remove`. */
    private readonly onVersionDown: (v: VersionState) => void,
  ) {}

  /** A connect (or a response head) succeeded. */
  success(v: VersionState, s: ServerState, by: 'dial' | 'health-check' = 'dial'): void {
    s.failures = 0;
    if (s.ejectedUntil !== 0) {
      s.ejectedUntil = 0;
      s.backoff = 0;
      if (this.events.enabled('upstream:readmit')) {
        this.events.publish('upstream:readmit', { proxyId: this.proxyId, uuid: v.uuid, version: v.version, server: s.key, by });
      }
      this.look(v);
    }
  }

  /** A connect failed, or the server closed or stalled before any response byte. */
  failure(v: VersionState, s: ServerState, now = Date.now()): void {
    s.failures++;
    s.failuresTotal++;
    // A half-open server that fails again goes straight back out.
    if (s.failures < this.opts.maxFails && s.ejectedUntil === 0) return;
    s.backoff = s.backoff === 0 ? this.opts.ejectBase : Math.min(s.backoff * 2, this.opts.ejectMax);
    s.ejectedUntil = now + s.backoff;
    s.ejections++;
    if (this.events.enabled('upstream:eject')) {
      this.events.publish('upstream:eject', { proxyId: this.proxyId, uuid: v.uuid, version: v.version, server: s.key, failures: s.failures, until: s.ejectedUntil });
    }
    this.look(v, now);
  }

  /** Re-evaluates whether `v` is down and reports rollback/recover for the newest. */
  look(v: VersionState, now = Date.now()): void {
    const down = !v.up(now);
    if (down === v.wasDown) return;
    v.wasDown = down;
    // Rolled-back versions take no traffic: the newest is the first eligible one.
    const snap = this.table.snapshot.filter((x) => x.eligible);
    if (down) {
      if (this.opts.onVersionDown === 'remove' && this.table.has(v.uuid)) {
        this.onVersionDown(v);
        return;
      }
      if (snap[0] === v) {
        const to = snap.find((x) => x !== v && x.up(now));
        this.events.publish('rollback', { proxyId: this.proxyId, fromUuid: v.uuid, fromVersion: v.version, toUuid: to?.uuid, toVersion: to?.version, reason: 'down' });
      }
    } else if (snap[0] === v) {
      this.events.publish('recover', { proxyId: this.proxyId, uuid: v.uuid, version: v.version });
    }
  }

  /** Starts active checks if configured. */
  start(): void {
    const active = this.opts.active;
    if (active === undefined || this.timer !== undefined) return;
    this.timer = setInterval(() => this.round(), active.interval);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  private round(): void {
    for (const v of this.table.snapshot) {
      for (const s of v.servers) {
        if (this.checking.has(s)) continue;
        this.checking.add(s);
        check(s, this.opts.active!, (ok) => {
          this.checking.delete(s);
          if (!this.table.has(v.uuid) || !v.servers.includes(s)) return;
          if (ok) this.success(v, s, 'health-check');
          else this.failure(v, s);
        });
      }
    }
  }
}

/**
 * One active check: a TCP connect, or with `path` an HTTP GET that must
 * answer with a status below 500. Calls back exactly once.
 */
export function check(s: ServerState, opts: { timeout: number; path: string | undefined }, cb: (ok: boolean) => void): void {
  let done = false;
  const sock = net.connect({ host: s.hostname, port: s.port });
  const finish = (ok: boolean): void => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    sock.destroy();
    cb(ok);
  };
  const timer = setTimeout(() => finish(false), opts.timeout);
  sock.on('error', () => finish(false));
  sock.on('close', () => finish(false));
  sock.on('connect', () => {
    if (opts.path === undefined) {
      finish(true);
      return;
    }
    sock.write(`GET ${opts.path} HTTP/1.1\r\nHost: ${s.key}\r\nUser-Agent: upshift-health\r\nConnection: close\r\n\r\n`);
    let head = '';
    sock.on('data', (d: Buffer) => {
      head += d.toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(head);
      if (m) finish(Number(m[1]) < 500);
      else if (head.length > 64 || (head.length >= 12 && !head.startsWith('HTTP/'))) finish(false);
    });
  });
}
