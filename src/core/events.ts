import diagnostics_channel from 'node:diagnostics_channel';
import { EventEmitter } from 'node:events';

/**
 * What the proxy reports. Every event goes to the proxy's typed emitter and
 * to a `node:diagnostics_channel` named `upshift:<event>` (e.g.
 * `upshift:upstream:eject`), so a gateway can subscribe without a handle on
 * the proxy. Payloads carry `proxyId` to tell proxies in one process apart.
 * Nothing is built when nobody listens: the hot path checks `enabled()` first.
 */
export interface ProxyEvents {
  'connection:open': { proxyId: number; connectionId: number; remoteAddress: string | undefined; remotePort: number | undefined };
  'connection:close': {
    proxyId: number; connectionId: number; uuid: string | undefined; version: string | undefined;
    bytesIn: number; bytesOut: number; durationMs: number; status: number | undefined; error: string | undefined;
  };
  /** A routing decision: which version a connection was sent to and why. */
  'route': { proxyId: number; connectionId: number; uuid: string; version: string; mode: string; reason: string };
  'upstream:connect': { proxyId: number; connectionId: number; uuid: string; version: string; server: string; durationMs: number };
  'upstream:failure': { proxyId: number; connectionId: number | undefined; uuid: string; version: string; server: string; code: string; message: string };
  /** A server was taken out of rotation after failures, until `until` (ms since epoch). */
  'upstream:eject': { proxyId: number; uuid: string; version: string; server: string; failures: number; until: number };
  /** An ejected server is back in rotation. */
  'upstream:readmit': { proxyId: number; uuid: string; version: string; server: string; by: 'dial' | 'health-check' };
  /** A connection was served by another version than the one routing chose first. */
  'fallback': { proxyId: number; connectionId: number; fromUuid: string; fromVersion: string; toUuid: string; toVersion: string; reason: string };
  /**
   * New traffic moved from the newest version back to `to` (undefined: nothing left). `reason`:
   * `down` (no routable server; transient, `recover` follows) or `removed`; or a rolled-back
   * standing that lasts until resumed: `errors`, `latency`, `unreachable` (judgement's verdict,
   * with its `evidence`), `operator`.
   */
  'rollback': {
    proxyId: number; fromUuid: string; fromVersion: string; toUuid: string | undefined; toVersion: string | undefined;
    reason: 'down' | 'removed' | 'errors' | 'latency' | 'unreachable' | 'differences' | 'operator'; evidence?: object | undefined;
  };
  /** An operator ended the transition: the version takes every new client while it is the newest. */
  'promote': { proxyId: number; uuid: string; version: string };
  /** A rolled-back or promoted version is back under judgement, its window emptied. */
  'resume': { proxyId: number; uuid: string; version: string };
  /** The newest version is serving again after going down. */
  'recover': { proxyId: number; uuid: string; version: string };
  'version:add': { proxyId: number; uuid: string; version: string; mode: string };
  'version:update': { proxyId: number; uuid: string; version: string; mode: string };
  /** `api`: removed by a caller; `policy`: by `health.onVersionDown: "remove"`; `retired`: drained after a newer version took over. */
  'version:remove': { proxyId: number; uuid: string; version: string; reason: 'api' | 'policy' | 'retired' };
  /**
   * A version with `retire: "when-drained"` is done: its last session expired and its last
   * connection closed (`drained`), or `maxWait` passed (`max-wait`, `open` connections left).
   * `version:remove` follows.
   */
  'version:drained': { proxyId: number; uuid: string; version: string; reason: 'drained' | 'max-wait'; open: number; waitedMs: number };
  /** The GRADUAL share of the newest version changed. */
  'gradual:share': { proxyId: number; uuid: string; version: string; percentage: number };
}

export type ProxyEventName = keyof ProxyEvents;

export const CHANNEL_PREFIX = 'upshift:';

const channels = new Map<string, diagnostics_channel.Channel>();
function channelFor(name: string): diagnostics_channel.Channel {
  let ch = channels.get(name);
  if (ch === undefined) {
    ch = diagnostics_channel.channel(CHANNEL_PREFIX + name);
    channels.set(name, ch);
  }
  return ch;
}

/** A typed EventEmitter that mirrors every event onto diagnostics_channel. */
export class ProxyEventEmitter extends EventEmitter {
  private readonly ch: { [K in ProxyEventName]: diagnostics_channel.Channel };

  constructor() {
    super();
    const ch = {} as { [K in ProxyEventName]: diagnostics_channel.Channel };
    for (const name of EVENT_NAMES) ch[name] = channelFor(name);
    this.ch = ch;
  }

  /** True when someone listens to `name`, on the emitter or the channel. */
  enabled(name: ProxyEventName): boolean {
    return this.ch[name].hasSubscribers || this.listenerCount(name) > 0;
  }

  publish<K extends ProxyEventName>(name: K, payload: ProxyEvents[K]): void {
    const ch = this.ch[name];
    if (ch.hasSubscribers) ch.publish(payload);
    if (this.listenerCount(name) > 0) super.emit(name, payload);
  }

  override on<K extends ProxyEventName>(name: K, listener: (payload: ProxyEvents[K]) => void): this;
  override on(name: string | symbol, listener: (...args: any[]) => void): this;
  override on(name: string | symbol, listener: (...args: any[]) => void): this {
    return super.on(name, listener);
  }

  override once<K extends ProxyEventName>(name: K, listener: (payload: ProxyEvents[K]) => void): this;
  override once(name: string | symbol, listener: (...args: any[]) => void): this;
  override once(name: string | symbol, listener: (...args: any[]) => void): this {
    return super.once(name, listener);
  }

  override off<K extends ProxyEventName>(name: K, listener: (payload: ProxyEvents[K]) => void): this;
  override off(name: string | symbol, listener: (...args: any[]) => void): this;
  override off(name: string | symbol, listener: (...args: any[]) => void): this {
    return super.off(name, listener);
  }
}

/** Every event once: a name missing here (or one that is no event) fails to compile. */
const EVENT_TABLE = {
  'connection:open': true, 'connection:close': true, 'route': true, 'upstream:connect': true, 'upstream:failure': true,
  'upstream:eject': true, 'upstream:readmit': true, 'fallback': true, 'rollback': true, 'promote': true, 'resume': true, 'recover': true,
  'version:add': true, 'version:update': true, 'version:remove': true, 'version:drained': true, 'gradual:share': true,
} as const satisfies Record<ProxyEventName, true>;

export const EVENT_NAMES: readonly ProxyEventName[] = Object.keys(EVENT_TABLE) as ProxyEventName[];
