import type { Proxy, ProxyEvents } from '../core/index.js';

/** One line of the status page's "last events": what happened to which version, and when. */
export interface RecentEvent {
  /** ISO 8601. */
  at: string;
  /** The proxy event's name (`rollback`, `upstream:eject`, …) or `launch` for a container version's progress. */
  type: string;
  uuid?: string;
  version?: string;
  /** One sentence for a person. */
  text: string;
}

/** How many events `/status` keeps: enough for the last minutes of an upgrade, bounded whatever happens. */
export const RECENT_EVENTS = 50;

type Describe<K extends keyof ProxyEvents> = (p: ProxyEvents[K]) => Omit<RecentEvent, 'at' | 'type'>;

/** The events an operator watching an upgrade wants to see; per-request events (route, connect, fallback) are not kept. */
const DESCRIBE: { [K in keyof ProxyEvents]?: Describe<K> } = {
  'rollback': (p) => ({
    uuid: p.fromUuid, version: p.fromVersion,
    text: `rolled back from ${p.fromVersion} to ${p.toVersion ?? 'nothing'}${reasonOf(p)}`,
  }),
  'recover': (p) => ({ uuid: p.uuid, version: p.version, text: `${p.version} serves again` }),
  'upstream:eject': (p) => ({ uuid: p.uuid, version: p.version, text: `server ${p.server} of ${p.version} ejected after ${p.failures} failure(s)` }),
  'upstream:readmit': (p) => ({ uuid: p.uuid, version: p.version, text: `server ${p.server} of ${p.version} back in rotation (${p.by})` }),
  'version:add': (p) => ({ uuid: p.uuid, version: p.version, text: `${p.version} added (${p.mode})` }),
  'version:remove': (p) => ({ uuid: p.uuid, version: p.version, text: `${p.version} removed (${REMOVED_BY[p.reason]})` }),
  'version:drained': (p) => ({
    uuid: p.uuid, version: p.version,
    text: p.reason === 'drained' ? `${p.version} drained: its last session expired and its last connection closed` : `${p.version} still held ${p.open} connection(s) when retire.maxWait ran out`,
  }),
};

const REMOVED_BY: Record<ProxyEvents['version:remove']['reason'], string> = { api: 'by the API', policy: 'by the health policy', retired: 'retired when drained' };

/** The judgement's rollbacks carry a reason; the core's own ("down", "removed") say it too. */
function reasonOf(p: object): string {
  const reason = (p as { reason?: unknown }).reason;
  return typeof reason === 'string' ? ` (${reason})` : '';
}

/**
 * A bounded ring of the proxy's notable events (and the sidecar's launch
 * progress), newest last, for `/status` and the status page. Memory is
 * `RECENT_EVENTS` entries whatever the traffic.
 */
export class RecentEvents {
  private readonly ring: RecentEvent[] = [];
  private readonly off: Array<() => void> = [];

  constructor(proxy: Pick<Proxy, 'events'>, private readonly size = RECENT_EVENTS) {
    // Judgement's own events, when the core has them, are kept too.
    const extra: Record<string, (p: Record<string, unknown>) => Omit<RecentEvent, 'at' | 'type'>> = {
      promote: (p) => ({ uuid: String(p['uuid']), version: String(p['version']), text: `${String(p['version'])} promoted` }),
      resume: (p) => ({ uuid: String(p['uuid']), version: String(p['version']), text: `${String(p['version'])} back under judgement` }),
    };
    const all = { ...extra, ...DESCRIBE } as Record<string, (p: never) => Omit<RecentEvent, 'at' | 'type'>>;
    const emitter = proxy.events as unknown as { on(n: string, f: (p: never) => void): void; off(n: string, f: (p: never) => void): void };
    for (const [type, describe] of Object.entries(all)) {
      const fn = (p: never): void => this.push(type, describe(p));
      emitter.on(type, fn);
      this.off.push(() => emitter.off(type, fn));
    }
  }

  /** A container version's launch moved to another state. */
  launch(uuid: string, version: string | undefined, state: string, message: string | undefined): void {
    this.push('launch', { uuid, ...(version !== undefined ? { version } : {}), text: `${version ?? uuid}: ${state}${message ? ` (${message})` : ''}` });
  }

  /** Oldest first. */
  list(): RecentEvent[] {
    return [...this.ring];
  }

  close(): void {
    for (const f of this.off.splice(0)) f();
  }

  private push(type: string, e: Omit<RecentEvent, 'at' | 'type'>): void {
    this.ring.push({ at: new Date().toISOString(), type, ...e });
    if (this.ring.length > this.size) this.ring.shift();
  }
}
