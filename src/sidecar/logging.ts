import { writeSync } from 'node:fs';
import { pino, type DestinationStream, type Level, type Logger } from 'pino';
import type { Proxy, ProxyEvents } from '../core/index.js';

/**
 * The seed's level names and what they mean in pino. NOTICE has no pino
 * twin; it is the level of normal but significant events, so it maps to info.
 */
const SEED_LEVELS: Record<string, Level | 'silent'> = {
  critical: 'fatal', error: 'error', warning: 'warn', notice: 'info', info: 'info', debug: 'debug',
};
const PINO_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof PINO_LEVELS)[number];

export const LOG_LEVEL_NAMES = ['CRITICAL', 'ERROR', 'WARNING', 'NOTICE', 'INFO', 'DEBUG', ...PINO_LEVELS];

/** Maps a seed or pino level name (any case) to pino's; undefined when unknown. */
export function toPinoLevel(name: string): LogLevel | undefined {
  const n = name.trim().toLowerCase();
  if ((PINO_LEVELS as readonly string[]).includes(n)) return n as LogLevel;
  return SEED_LEVELS[n];
}

/** `json`: one JSON object a line (for collectors); `pretty`: a line a person reads. */
export type LogFormat = 'json' | 'pretty';

/**
 * Logs go to stderr by default, so stdout stays free for what commands
 * print (the demo's instructions, `status` output): readable lines when
 * stderr is a terminal, JSON lines otherwise, unless `format` says. A given
 * `stream` gets JSON. Synchronous writes: a sidecar that exits right after a
 * fatal error still gets its last line out.
 */
export function createLogger(level: LogLevel, stream?: DestinationStream, format?: LogFormat): Logger {
  const opts = { level, base: { name: 'upshift' } };
  if (stream !== undefined) return pino(opts, stream);
  if ((format ?? (process.stderr.isTTY ? 'pretty' : 'json')) === 'json') return pino(opts, pino.destination({ fd: 2, sync: true }));
  const color = process.stderr.isTTY === true && process.env['NO_COLOR'] === undefined;
  return pino(opts, { write: (line: string) => { writeSync(2, prettyLine(line, color)); } });
}

const LEVEL_NAMES: Record<number, [string, string]> = {
  10: ['TRACE', '90'], 20: ['DEBUG', '90'], 30: ['INFO ', '36'], 40: ['WARN ', '33'], 50: ['ERROR', '31'], 60: ['FATAL', '41;97'],
};
/** Fields every line has, or that the line's text already says. */
const OMIT = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'name']);

/**
 * One pino JSON line as a person reads it:
 * `10:42:07.311 WARN  newest version 2.0 is down: new traffic goes to 1.0  event=rollback from=2.0 to=1.0`.
 * A small formatter rather than pino-pretty, which would bring a dozen packages.
 */
export function prettyLine(json: string, color = false): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.endsWith('\n') ? json : `${json}\n`;
  }
  const time = typeof o['time'] === 'number' ? new Date(o['time']).toISOString().slice(11, 23) : '';
  const [name, code] = LEVEL_NAMES[o['level'] as number] ?? [String(o['level']), '0'];
  const level = color ? `\x1b[${code}m${name}\x1b[0m` : name;
  const fields = Object.entries(o).filter(([k]) => !OMIT.has(k)).map(([k, v]) => `${k}=${typeof v === 'string' && !/[\s"=]/.test(v) ? v : JSON.stringify(v)}`);
  const extra = fields.length === 0 ? '' : color ? `  \x1b[90m${fields.join(' ')}\x1b[0m` : `  ${fields.join(' ')}`;
  return `${time} ${level} ${String(o['msg'] ?? '')}${extra}\n`;
}

/** What a rollback means, in a line: a transient fall-back for `down`, a standing for the others. */
function rollbackMessage(p: ProxyEvents['rollback']): string {
  const to = p.toVersion === undefined ? 'no version is left to serve' : `new traffic goes to ${p.toVersion}`;
  switch (p.reason) {
    case 'down': return p.toVersion === undefined ? `newest version ${p.fromVersion} is down and no version is left to serve` : `newest version ${p.fromVersion} is down: ${to}`;
    case 'removed': return `newest version ${p.fromVersion} was removed: ${to}`;
    case 'operator': return `version ${p.fromVersion} rolled back by an operator: ${to}`;
    case 'differences': {
      const e = p.evidence as { field?: string; count?: number; compared?: number; sample?: { newest: string; previous: string } } | undefined;
      const why = e?.field === undefined ? 'its answers differ' : `${e.field} differed in ${e.count} of ${e.compared} compared answers, e.g. ${e.sample?.newest} instead of ${e.sample?.previous}`;
      return `version ${p.fromVersion} rolled back (differences: ${why}): ${to}`;
    }
    default: {
      const e = p.evidence as { newest?: { requests: number; failures: number }; reference?: { rung: string; requests: number; failures: number }; newestP99?: number; referenceP99?: number } | undefined;
      const why = p.reason === 'latency' && e?.newestP99 !== undefined
        ? `p99 first byte ${e.newestP99} ms against ${e.referenceP99} ms`
        : e?.newest !== undefined
          ? `${e.newest.failures} of ${e.newest.requests} requests failed${e.reference !== undefined && e.reference.rung !== 'absolute' ? `, the previous version ${e.reference.failures} of ${e.reference.requests}` : ''}`
          : p.reason;
      return `version ${p.fromVersion} rolled back (${p.reason}: ${why}): ${to}`;
    }
  }
}

/**
 * Turns the core's events into logs: warn when traffic moves away from where
 * routing meant it (eject, fallback, rollback), info for config changes and
 * recoveries, debug for every routing decision. Returns an unsubscribe.
 */
export function logProxyEvents(proxy: Proxy, log: Logger): () => void {
  const ev = proxy.events;
  const offs: Array<() => void> = [];
  const on = <K extends Parameters<typeof ev.on>[0]>(name: K, fn: (p: any) => void): void => {
    ev.on(name as any, fn);
    offs.push(() => ev.off(name as any, fn));
  };
  on('upstream:eject', (p) => log.warn({ event: 'upstream:eject', uuid: p.uuid, version: p.version, server: p.server, failures: p.failures, until: new Date(p.until).toISOString() }, `server ${p.server} of version ${p.version} ejected after ${p.failures} failure(s)`));
  on('upstream:readmit', (p) => log.info({ event: 'upstream:readmit', uuid: p.uuid, version: p.version, server: p.server, by: p.by }, `server ${p.server} of version ${p.version} back in rotation`));
  on('fallback', (p) => log.warn({ event: 'fallback', from: p.fromVersion, fromUuid: p.fromUuid, to: p.toVersion, toUuid: p.toUuid, reason: p.reason }, `fell back from ${p.fromVersion} to ${p.toVersion}: ${p.reason}`));
  on('rollback', (p) => log.warn({ event: 'rollback', from: p.fromVersion, fromUuid: p.fromUuid, to: p.toVersion, toUuid: p.toUuid, reason: p.reason, evidence: p.evidence }, rollbackMessage(p)));
  on('promote', (p) => log.info({ event: 'promote', uuid: p.uuid, version: p.version }, `version ${p.version} promoted: it takes every new client and is no longer judged`));
  on('resume', (p) => log.info({ event: 'resume', uuid: p.uuid, version: p.version }, `version ${p.version} is back under judgement`));
  on('recover', (p) => log.info({ event: 'recover', uuid: p.uuid, version: p.version }, `version ${p.version} is serving again`));
  on('version:add', (p) => log.info({ event: 'version:add', uuid: p.uuid, version: p.version, mode: p.mode }, `version ${p.version} added (${p.mode})`));
  on('version:update', (p) => log.info({ event: 'version:update', uuid: p.uuid, version: p.version, mode: p.mode }, `version ${p.version} updated (${p.mode})`));
  on('version:remove', (p) => log.info({ event: 'version:remove', uuid: p.uuid, version: p.version, reason: p.reason }, `version ${p.version} removed (${p.reason})`));
  on('version:drained', (p) => log.info({ event: 'version:drained', uuid: p.uuid, version: p.version, reason: p.reason, open: p.open, waitedMs: p.waitedMs }, p.reason === 'drained' ? `version ${p.version} drained (no session, no connection left): retiring it` : `version ${p.version} retired after retire.maxWait with ${p.open} connection(s) still open`));
  // Per-connection events cost work on the hot path once someone listens,
  // so they are only subscribed when they would be written.
  if (log.isLevelEnabled('debug')) {
    on('route', (p) => log.debug({ event: 'route', connection: p.connectionId, uuid: p.uuid, version: p.version, mode: p.mode, reason: p.reason }, 'route'));
    on('upstream:failure', (p) => log.debug({ event: 'upstream:failure', uuid: p.uuid, version: p.version, server: p.server, code: p.code }, p.message));
    on('gradual:share', (p) => log.debug({ event: 'gradual:share', uuid: p.uuid, version: p.version, percentage: p.percentage }, 'gradual share'));
  }
  return () => { for (const off of offs) off(); };
}
