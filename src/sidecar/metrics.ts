import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { Proxy, ProxyStatus } from '../core/index.js';

/**
 * Prometheus metrics of one sidecar, in its own Registry (never the global
 * one, so several sidecars in one process keep apart). Per-version figures
 * are read from `proxy.status()` at scrape time: the hot path pays nothing
 * for them, and a removed version's series disappear with it.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly rollbacks: Counter<'from' | 'to' | 'reason'>;
  private readonly changes: Counter<'action'>;
  private readonly unsubscribe: () => void;

  constructor(proxy: Proxy, launchState: (uuid: string) => string | undefined) {
    const r = this.registry;
    const labels = ['uuid', 'version'] as const;
    let snap: ProxyStatus | undefined;
    // Every per-version metric is filled from one status() per scrape: the
    // first collect takes it, the others reuse it.
    const status = (): ProxyStatus => (snap ??= proxy.status());
    const perVersion = (metric: { reset(): void; set?: unknown; inc?: unknown }, fill: (s: ProxyStatus) => void): void => {
      metric.reset();
      fill(status());
    };

    const requests = new Counter({
      name: 'upshift_requests_total', help: 'Responses served by each version (stream mode: the first response of each connection).', labelNames: labels, registers: [r],
      collect() { perVersion(this, (s) => { for (const v of s.versions) this.inc({ uuid: v.uuid, version: v.version }, v.requests); }); },
    });
    new Counter({
      name: 'upshift_errors_total', help: 'Responses with status >= 500 and failures after connecting, per version (stream mode: of the first request of each connection only; later requests on a kept-alive connection are not seen).', labelNames: labels, registers: [r],
      collect() { perVersion(this, (s) => { for (const v of s.versions) this.inc({ uuid: v.uuid, version: v.version }, v.errors); }); },
    });
    new Gauge({
      name: 'upshift_sessions', help: 'Live sessions per version: distinct session cookies brought back within their lifetime that name the version (exact up to 65536, an estimate above; stream mode: seen on first requests).', labelNames: labels, registers: [r],
      collect() { perVersion(this, (s) => { for (const v of s.versions) this.set({ uuid: v.uuid, version: v.version }, v.sessions); }); },
    });
    new Counter({
      name: 'upshift_connections_total', help: 'Client connections routed to each version.', labelNames: labels, registers: [r],
      collect() { perVersion(this, (s) => { for (const v of s.versions) this.inc({ uuid: v.uuid, version: v.version }, v.connections); }); },
    });
    new Gauge({
      name: 'upshift_open_connections', help: 'Client connections open on each version now.', labelNames: labels, registers: [r],
      collect() { perVersion(this, (s) => { for (const v of s.versions) this.set({ uuid: v.uuid, version: v.version }, v.open); }); },
    });
    new Counter({
      name: 'upshift_fallbacks_total', help: 'Requests (stream mode: first requests of connections) served by another version than routing chose: direction "out" counts the version that failed, "in" the one that served.', labelNames: [...labels, 'direction'], registers: [r],
      collect() {
        perVersion(this, (s) => {
          for (const v of s.versions) {
            this.inc({ uuid: v.uuid, version: v.version, direction: 'out' }, v.fallbacksOut);
            this.inc({ uuid: v.uuid, version: v.version, direction: 'in' }, v.fallbacksIn);
          }
        });
      },
    });
    new Gauge({
      name: 'upshift_upstream_connections', help: 'Connections to each server now: "active" carry a request (stream mode: a client connection), "idle" wait in the http-mode pool.', labelNames: [...labels, 'server', 'state'], registers: [r],
      collect() {
        perVersion(this, (s) => {
          for (const v of s.versions) {
            for (const sv of v.servers) {
              const server = `${sv.hostname}:${sv.port}`;
              this.set({ uuid: v.uuid, version: v.version, server, state: 'active' }, sv.active);
              this.set({ uuid: v.uuid, version: v.version, server, state: 'idle' }, sv.idle);
            }
          }
        });
      },
    });
    new Counter({
      name: 'upshift_ejections_total', help: 'Times a server of each version was taken out of rotation after failures.', labelNames: labels, registers: [r],
      collect() { perVersion(this, (s) => { for (const v of s.versions) this.inc({ uuid: v.uuid, version: v.version }, v.ejections); }); },
    });
    new Gauge({
      name: 'upshift_traffic_share_percent', help: 'Percentage of new clients served by each version now (0 for a version that is down).', labelNames: labels, registers: [r],
      collect() { perVersion(this, (s) => { for (const v of s.versions) this.set({ uuid: v.uuid, version: v.version }, v.share); }); },
    });
    new Gauge({
      name: 'upshift_gradual_percentage', help: 'GRADUAL versions: the current share of the newest version (0-100).', labelNames: labels, registers: [r],
      collect() { perVersion(this, (s) => { for (const v of s.versions) if (v.percentage !== undefined) this.set({ uuid: v.uuid, version: v.version }, v.percentage); }); },
    });
    new Gauge({
      name: 'upshift_version_up', help: '1 when the version has a healthy server, 0 when it is down (its servers ejected or probing: traffic has fallen back).', labelNames: [...labels, 'mode', 'newest', 'launch'], registers: [r],
      collect() {
        perVersion(this, (s) => {
          for (const v of s.versions) {
            this.set({ uuid: v.uuid, version: v.version, mode: v.mode, newest: String(v.newest), launch: launchState(v.uuid) ?? 'none' }, v.state === 'up' ? 1 : 0);
          }
        });
      },
    });
    new Gauge({
      name: 'upshift_versions', help: 'Versions configured.', registers: [r],
      collect() { this.set(status().versions.length); },
    });
    new Gauge({
      name: 'upshift_version_state', help: 'Each version\'s state, one series per state set to 1 for the current one: up, down (no routable server), rolled-back (judged bad or rolled back by an operator).', labelNames: [...labels, 'state'], registers: [r],
      collect() {
        perVersion(this, (s) => {
          for (const v of s.versions) for (const state of ['up', 'down', 'rolled-back']) this.set({ uuid: v.uuid, version: v.version, state }, v.state === state ? 1 : 0);
        });
      },
    });
    new Counter({
      name: 'upshift_compared_total', help: 'Requests whose answer from each version was compared with the previous version\'s (CONCURRENT legs, shadowed requests), since it was added or resumed.', labelNames: labels, registers: [r],
      collect() { perVersion(this, (s) => { for (const v of s.versions) this.inc({ uuid: v.uuid, version: v.version }, v.comparison.comparedTotal); }); },
    });
    new Counter({
      name: 'upshift_differences_total', help: 'Compared answers of each version that differed from the previous version\'s in a field (status, header:<name>, body, or a JSON path such as items[].price); noise fields left out; at most compare.maxFields fields per version, the rest as (other).', labelNames: [...labels, 'field'], registers: [r],
      collect() {
        perVersion(this, (s) => {
          for (const v of s.versions) for (const f of v.comparison.differences) this.inc({ uuid: v.uuid, version: v.version, field: f.field }, f.total);
        });
      },
    });
    this.rollbacks = new Counter({
      name: 'upshift_rollbacks_total', labelNames: ['from', 'to', 'reason'], registers: [r],
      help: 'Times new traffic moved from the newest version back to an older one; reason: down (no routable server, transient), removed, or a rollback that lasts until resumed: errors, latency, unreachable, differences, operator.',
    });
    this.changes = new Counter({ name: 'upshift_config_changes_total', help: 'Versions added, updated and removed through the config API.', labelNames: ['action'], registers: [r] });
    // prom-client names these process_* and nodejs_*: the prefix is ours alone (upshift_process_*, upshift_nodejs_*).
    collectDefaultMetrics({ register: r, prefix: 'upshift_' });
    // The snapshot lives for one scrape: drop it after the registry read every metric.
    const origMetrics = r.metrics.bind(r);
    r.metrics = async () => {
      snap = undefined;
      try {
        return await origMetrics();
      } finally {
        snap = undefined;
      }
    };
    void requests;

    const onRollback = (p: { fromVersion: string; toVersion: string | undefined; reason: string }): void => {
      this.rollbacks.inc({ from: p.fromVersion, to: p.toVersion ?? 'none', reason: p.reason });
    };
    proxy.events.on('rollback', onRollback);
    this.unsubscribe = () => proxy.events.off('rollback', onRollback);
  }

  /** Counts a change made through the config API (`add`, `update`, `remove`). */
  change(action: 'add' | 'update' | 'remove'): void {
    this.changes.inc({ action });
  }

  close(): void {
    this.unsubscribe();
    this.registry.clear();
  }
}
