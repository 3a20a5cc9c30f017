import diagnostics_channel from 'node:diagnostics_channel';
import type Docker from 'dockerode';
import type { Engine } from './engine.js';
import { engineMessage, engineStatus } from './errors.js';
import type { LauncherLogger, Managed } from './managed.js';
import { exitText } from './readiness.js';
import { LABELS } from './spec.js';

export interface DeathWatchOptions {
  /** For inspecting containers (bounded calls). */
  calls: Engine;
  /** For the event stream (no idle timeout: it stays quiet for long stretches). */
  eventsDocker: Docker;
  engine: string;
  sidecarId: string;
  log: LauncherLogger;
  /** Watch the engine's event stream; false relies on the proxy's failed dials alone. */
  useEvents: boolean;
  /** Milliseconds a caller of `watch` waits for the stream to connect; the attempt is cut then and retried. */
  connectTimeoutMs: number;
  /** The launcher's launches, by launch id (read only here). */
  launches: ReadonlyMap<string, Managed>;
  /** A ready launch died (called once per launch). */
  onDied(m: Managed, reason: string): void;
}

interface EngineEvent { status?: string; Action?: string; id?: string; time?: number; Actor?: { ID?: string; Attributes?: Record<string, string> } }

/**
 * Finds the deaths of running containers: through the engine's event stream
 * (`die`, `oom`), and through the proxy's own failed dials
 * (`upshift:upstream:failure`), checked against the engine. A ready launch
 * is marked `dead` and reported once; a launching one gets `exited` set so
 * its readiness wait fails at once.
 */
export class DeathWatch {
  /** Container id → launch id. */
  private readonly byContainer = new Map<string, string>();
  private readonly stop = new AbortController();
  /** Set once a failure to connect was logged at warn level; cleared by a success. */
  private warned = false;
  private stream: NodeJS.ReadableStream | undefined;
  private connected: Promise<void> | undefined;
  private since = Math.floor(Date.now() / 1000);
  private closed = false;
  private readonly onUpstreamFailure = (msg: unknown): void => {
    const uuid = (msg as { uuid?: unknown } | null)?.uuid;
    if (typeof uuid !== 'string') return;
    for (const m of this.o.launches.values()) if (m.uuid === uuid) this.checkAlive(m, 'the proxy could not reach it');
  };

  constructor(private readonly o: DeathWatchOptions) {
    diagnostics_channel.subscribe('upshift:upstream:failure', this.onUpstreamFailure);
  }

  /** Remembers which launch a container belongs to (events may lack its labels). */
  track(containerId: string, m: Managed): void {
    this.byContainer.set(containerId, m.launchId);
  }

  untrack(containerId: string): void {
    this.byContainer.delete(containerId);
  }

  private markDied(m: Managed, reason: string): void {
    if (m.state !== 'ready') return;
    m.state = 'dead';
    this.o.log.warn({ uuid: m.uuid, version: m.version }, `version died: ${reason}`);
    this.o.onDied(m, reason);
  }

  /** After a failed dial: if one of the launch's containers is not running, it died. */
  checkAlive(m: Managed, why: string): void {
    if (m.state !== 'ready' || m.checking) return;
    m.checking = true;
    void (async () => {
      try {
        for (const { id, name } of m.containers) {
          const info = await this.o.calls.call(`inspect ${name}`, (d, signal) => d.getContainer(id).inspect({ abortSignal: signal }))
            .catch((err: unknown) => (engineStatus(err) === 404 ? null : undefined));
          if (info === null) return this.markDied(m, `container ${name} is gone (${why})`);
          if (info !== undefined && !info.State.Running) return this.markDied(m, `container ${name} ${exitText(info, m.hide)} (${why})`);
        }
      } finally {
        m.checking = false;
      }
    })();
  }

  private onEngineEvent(ev: EngineEvent): void {
    if (typeof ev.time === 'number') this.since = Math.max(this.since, ev.time);
    const action = ev.Action ?? ev.status;
    const id = ev.Actor?.ID ?? ev.id;
    const attrs = ev.Actor?.Attributes ?? {};
    const launchId = (id !== undefined ? this.byContainer.get(id) : undefined) ?? attrs[LABELS.launch];
    if (launchId === undefined || (action !== 'die' && action !== 'oom')) return;
    const m = this.o.launches.get(launchId);
    if (m === undefined) return;
    const name = attrs.name ?? id?.slice(0, 12) ?? 'unknown';
    const reason = action === 'oom'
      ? `container ${name} ran out of memory`
      : `container ${name} exited with code ${attrs.exitCode ?? 'unknown'}`;
    if (m.state === 'launching') m.exited = reason.replace(`container ${name} `, '');
    else if (m.state === 'ready') this.markDied(m, reason);
  }

  /**
   * Connects the engine's event stream (once; reconnects after an error).
   * Resolves when connected or failed, at the latest after
   * `connectTimeoutMs`: an engine that takes the request and never answers
   * must not hold up a launch or the start-up.
   */
  watch(): Promise<void> {
    if (this.closed || !this.o.useEvents) return Promise.resolve();
    if (this.connected !== undefined) return this.connected;
    this.connected = this.connect();
    return this.connected;
  }

  private async connect(): Promise<void> {
    const o = this.o;
    let stream: NodeJS.ReadableStream;
    // Cut only a connect that does not answer: the connected stream lives on.
    const attempt = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; attempt.abort(); }, o.connectTimeoutMs);
    try {
      stream = await o.eventsDocker.getEvents({
        since: this.since,
        filters: { type: ['container'], event: ['die', 'oom'], label: [`${LABELS.sidecar}=${o.sidecarId}`] },
        abortSignal: AbortSignal.any([attempt.signal, this.stop.signal]),
      } as Docker.GetEventsOptions);
    } catch (err) {
      this.connected = undefined;
      if (this.closed) return;
      const reason = timedOut ? `no answer within ${o.connectTimeoutMs / 1000} s` : engineMessage(err);
      // Said once at warn level until the stream connects; each retry after that at debug.
      (this.warned ? o.log.debug : o.log.warn).call(o.log, { engine: o.engine, err: reason }, `cannot watch Docker events (${reason}); retrying in 2 s, deaths are found through the proxy's failed dials meanwhile`);
      this.warned = true;
      setTimeout(() => { if (!this.closed && this.connected === undefined) void this.watch(); }, 2000).unref();
      return;
    } finally {
      clearTimeout(timer);
    }
    this.warned = false;
    if (this.closed) {
      (stream as unknown as { destroy(): void }).destroy();
      return;
    }
    this.stream = stream;
    let buf = '';
    stream.on('data', (chunk: Buffer) => {
      buf += chunk.toString('utf8');
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (line === '') continue;
        try { this.onEngineEvent(JSON.parse(line) as EngineEvent); } catch { /* not an event */ }
      }
    });
    const lost = (): void => {
      if (this.stream !== stream) return;
      this.stream = undefined;
      this.connected = undefined;
      if (this.closed) return;
      o.log.warn({ engine: o.engine }, 'Docker event stream ended; reconnecting');
      setTimeout(() => { if (!this.closed) void this.watch(); }, 1000).unref();
      // Deaths missed while disconnected are caught by a check of every ready launch.
      for (const m of o.launches.values()) this.checkAlive(m, 'found while reconnecting to the engine');
    };
    stream.on('error', lost);
    stream.on('end', lost);
    stream.on('close', lost);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stop.abort();
    diagnostics_channel.unsubscribe('upshift:upstream:failure', this.onUpstreamFailure);
    const s = this.stream;
    this.stream = undefined;
    (s as unknown as { destroy?: () => void } | undefined)?.destroy?.();
  }
}
