import { readFileSync } from 'node:fs';
import { InvalidOptionError } from './errors.js';
import { given, isObject } from './given.js';
import { isCookieAttributeValue, isCookieName, type CookieOptions, type SameSite } from './http/cookies.js';
import { DEFAULT_COMPARE, mergeCompare, validateCompare, type CompareInput, type CompareOptions } from './compare/options.js';
import { DEFAULT_JUDGE, mergeJudge, validateJudge, type JudgeInput, type JudgeOptions } from './judge/options.js';
import { DEFAULT_RETIRE, validateRetire, type RetireInput, type RetirePolicy } from './routing/retire-options.js';
import type { VersionInput } from './routing/spec.js';
import { unknownName } from './suggest.js';

/** Options of `createProxy`. Every field is optional; defaults are the `DEFAULT_*` constants. */
export interface ProxyOptions {
  /** Address to listen on. Default `0.0.0.0`. */
  host?: string;
  /** Port to listen on; 0 picks a free one. Default 0. */
  port?: number;
  /** Versions to start with (the seed's `cluster` objects). */
  versions?: VersionInput[];
  /** Routing cookies. */
  cookies?: {
    /**
     * The session cookie, set in every mode (SESSION routes by it). Value
     * `<uuid>~<session id>~<issued>`: the version's uuid (`~` never occurs
     * in one), 16 random base64url characters, and the epoch second it was
     * written in base 36; a bare `<uuid>` (the prototype's) still routes.
     * Max-Age: the newest version's `sessionTimeout`, written again when the
     * version changes or less than half of it is left. Default name `dynsoftup`.
     */
    session?: Partial<CookieOptions>;
    /** The GRADUAL cookie: value = the client's transition id. Default name `transition`. */
    transition?: Partial<CookieOptions> & {
      /** Lifetime in seconds; the id must outlive the rollout. Default 30 days. */
      maxAge?: number;
    };
  };
  timeouts?: {
    /** Milliseconds to establish a TCP connection to a server. Default 3000. */
    connect?: number;
    /** Milliseconds for a client to send its first request head. Default 10000. */
    head?: number;
    /** Milliseconds a connection may stay without traffic in either direction. Default 60000. */
    idle?: number;
    /** Milliseconds to wait for a response head before a server counts as failed. Default 30000 (CONCURRENT: per-version `firstByteTimeout` wins). */
    firstByte?: number;
    /** Milliseconds a 4xx/5xx answer from the proxy waits for the client to close before the socket is destroyed. Default 1000. */
    linger?: number;
  };
  limits?: {
    /** Largest request head in bytes (431 beyond). Default 65536. */
    headSize?: number;
    /** Largest response head in bytes (502 beyond). Default 131072. */
    responseHeadSize?: number;
    /** Request bytes kept to retry an idempotent request on another server. Default 65536. */
    retryBuffer?: number;
    /** Response bytes a CONCURRENT loser may buffer before it is paused. Default 1048576. */
    concurrentBuffer?: number;
    /**
     * Open client connections; beyond, new ones are closed at once; 0: no limit.
     * Default: derived from the process's file-descriptor limit (`defaultConnections`),
     * so the descriptors of a full proxy leave a reserve for the sidecar's config API and `/healthz`.
     */
    connections?: number;
  };
  health?: {
    /** Consecutive failures that eject a server. Default 1. */
    maxFails?: number;
    /** First ejection, in milliseconds; doubles on each consecutive ejection. Default 1000. */
    ejectBase?: number;
    /** Longest ejection, in milliseconds. Default 30000. */
    ejectMax?: number;
    /** What happens to a version whose servers are all ejected: `keep` (default) or `remove` (the seed's behaviour). */
    onVersionDown?: 'keep' | 'remove';
    /** Active health checks; off unless given (`true`: with the defaults below; `false`: off). */
    active?: boolean | {
      /** Milliseconds between checks of each server. Default 5000. */
      interval?: number;
      /** Milliseconds a check may take. Default 2000. */
      timeout?: number;
      /** When set, an HTTP GET of this path must answer below 500; else a TCP connect is the check. */
      path?: string;
    };
  };
  /** Response fields the proxy rewrites (both connection modes; stream mode: a connection's first response). */
  rewrite?: {
    /**
     * Rewrite `Location`, `Content-Location` and `Refresh` URLs whose
     * authority is one of the serving version's servers (as configured;
     * `localhost`, `127.0.0.1` and `[::1]` alike) to `http://` and the
     * client's `Host`, as nginx's `proxy_redirect default`. Default true.
     */
    location?: boolean;
  };
  /** Bytes that are not HTTP: `reject` (400, default) or `tcp` (piped to the newest version; needs `mode: "stream"`). */
  nonHttp?: 'reject' | 'tcp';
  /**
   * The connection mode. Default `http` (`DEFAULT_MODE`).
   * `http`: frame every request and response, route each request by its own cookies (a kept-alive
   * browser follows an upgrade), set cookies on every answer, judge every answer, pool upstream connections.
   * `stream`: route once per connection on its first request head, then pipe bytes: raw TCP
   * (`nonHttp: "tcp"`) and the lowest per-byte cost, but a connection stays where its first request went.
   */
  mode?: 'stream' | 'http';
  /**
   * What accepts client connections in http mode. Default `node` (Node's own sockets, pure JavaScript).
   * `uws`: uWebSockets.js, an optional native build (`uWebSockets.js`, else the `uwebsockets` package),
   * loaded when the proxy starts; `UPS_ERR_ENGINE_UNAVAILABLE` when none loads. See `native-notes.md`.
   */
  engine?: 'node' | 'uws';
  /** http mode only. */
  http?: {
    /** Idle keep-alive connections kept per server. Default 64. */
    maxIdlePerServer?: number;
    /**
     * Connections per server (in use, idle or being opened). A request that
     * finds all of them busy waits for one up to `timeouts.connect`, then
     * goes on to the next server or version (the server is not ejected).
     * 0: no limit. Default 0.
     */
    maxPerServer?: number;
    /** Milliseconds an idle upstream connection is kept; keep it below the servers' own keep-alive timeout (Node's is 5000). Default 4000. */
    idleTimeout?: number;
    /** Append the client's address to `X-Forwarded-For`. Default false. */
    xForwardedFor?: boolean;
    /** Append a `Forwarded: for=...;proto=http` element (RFC 7239). Default false. */
    forwarded?: boolean;
    /** Further servers an idempotent request may be sent to after a failure before any response byte. Default 3. */
    retries?: number;
  };
  /**
   * Judgement of the newest version by its answers, and automatic rollback
   * (see README "Judgement and rollback"). A version's own `judge` fields
   * override these. `{ enabled: false }`: nothing is retried on its status,
   * nothing is rolled back by a verdict.
   */
  judge?: JudgeInput;
  /**
   * When old versions are removed by themselves (see README "Retiring old
   * versions"): `"when-drained"` once a newer one has taken over and the last
   * session and connection are gone, at the latest `maxWait` seconds after
   * the takeover. Default `"never"`. A version's own `retire` overrides it.
   */
  retire?: RetireInput;
  /**
   * Comparison of the newest version's answers with the previous version's
   * (CONCURRENT legs; a `sample` of requests shadowed in the other modes), and
   * rollback on real differences (see README "Comparing answers"). A
   * version's own `compare` fields override these.
   */
  compare?: CompareInput;
}

export interface ResolvedOptions {
  readonly host: string;
  readonly port: number;
  readonly cookies: { readonly session: Readonly<CookieOptions>; readonly transition: Readonly<CookieOptions> & { readonly maxAge: number } };
  readonly timeouts: { readonly connect: number; readonly head: number; readonly idle: number; readonly firstByte: number; readonly linger: number };
  readonly limits: { readonly headSize: number; readonly responseHeadSize: number; readonly retryBuffer: number; readonly concurrentBuffer: number; readonly connections: number };
  readonly health: {
    readonly maxFails: number; readonly ejectBase: number; readonly ejectMax: number; readonly onVersionDown: 'keep' | 'remove';
    readonly active: { readonly interval: number; readonly timeout: number; readonly path: string | undefined } | undefined;
  };
  readonly rewrite: { readonly location: boolean };
  readonly nonHttp: 'reject' | 'tcp';
  readonly mode: 'stream' | 'http';
  readonly engine: 'node' | 'uws';
  readonly http: { readonly maxIdlePerServer: number; readonly maxPerServer: number; readonly idleTimeout: number; readonly xForwardedFor: boolean; readonly forwarded: boolean; readonly retries: number };
  readonly judge: JudgeOptions;
  readonly retire: RetirePolicy;
  readonly compare: CompareOptions;
}

export const DEFAULT_SESSION_COOKIE = 'dynsoftup';
export const DEFAULT_TRANSITION_COOKIE = 'transition';
export const DEFAULT_TRANSITION_MAX_AGE = 30 * 24 * 3600;
export const DEFAULT_TIMEOUTS = Object.freeze({ connect: 3000, head: 10_000, idle: 60_000, firstByte: 30_000, linger: 1000 });
/** The soft limit on open file descriptors (RLIMIT_NOFILE), from /proc/self/limits; undefined when unknown or unlimited. */
export function fdLimit(limitsText?: string): number | undefined {
  let text = limitsText;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/limits', 'utf8');
    } catch {
      return undefined;
    }
  }
  const soft = /^Max open files\s+(\S+)/m.exec(text)?.[1];
  const n = Number(soft);
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

/**
 * The default of `limits.connections` for a file-descriptor limit: a
 * reserve (a quarter of the limit, at most 256) stays for everything that
 * is not a client connection (the config API and `/healthz`, the state file,
 * logs, Docker, health checks), and half of the rest is for clients, since a
 * proxied connection holds two descriptors (client and server). 0 (no
 * limit) when the limit is unknown. CONCURRENT legs and http mode's idle
 * pool hold more: set `limits.connections` yourself when they are large.
 */
export function defaultConnections(limit: number | undefined): number {
  if (limit === undefined) return 0;
  const reserve = Math.min(256, Math.floor(limit / 4));
  return Math.max(1, Math.floor((limit - reserve) / 2));
}

export const DEFAULT_LIMITS = Object.freeze({ headSize: 65_536, responseHeadSize: 131_072, retryBuffer: 65_536, concurrentBuffer: 1_048_576, connections: defaultConnections(fdLimit()) });
export const DEFAULT_HEALTH = Object.freeze({ maxFails: 1, ejectBase: 1000, ejectMax: 30_000, onVersionDown: 'keep' as const });
export const DEFAULT_ACTIVE_HEALTH = Object.freeze({ interval: 5000, timeout: 2000 });
/** The connection mode when none is given: http mode, which routes every request (see `ProxyOptions.mode`). */
export const DEFAULT_MODE = 'http' as const;
export const DEFAULT_HTTP = Object.freeze({ maxIdlePerServer: 64, maxPerServer: 0, idleTimeout: 4000, xForwardedFor: false, forwarded: false, retries: 3 });

const TOP_KEYS = ['host', 'port', 'versions', 'cookies', 'timeouts', 'limits', 'health', 'rewrite', 'nonHttp', 'mode', 'engine', 'http', 'judge', 'retire', 'compare'];
/** Names people reach for, and the option they mean. */
const HINTS: Record<string, string> = {
  clusters: 'versions', cluster: 'versions', listen: 'host and port', cookie: 'cookies',
  timeout: 'timeouts', connectTimeout: 'timeouts.connect', idleTimeout: 'timeouts.idle',
  keepAliveTimeout: 'timeouts.idle', headersTimeout: 'timeouts.head', maxHeaderSize: 'limits.headSize',
  healthCheck: 'health.active', healthcheck: 'health.active', judgement: 'judge', rollback: 'judge', diff: 'compare', shadow: 'compare.sample',
  keepAlive: 'http.maxIdlePerServer', maxSockets: 'http.maxIdlePerServer', xfwd: 'http.xForwardedFor',
};

function checkKeys(obj: Record<string, unknown>, allowed: readonly string[], path: string): void {
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k)) {
      const field = path ? `${path}.${k}` : k;
      // Own keys only: `__proto__` or `constructor` must not find Object.prototype's.
      const hint = Object.hasOwn(HINTS, k) ? HINTS[k] : undefined;
      throw new InvalidOptionError(field, hint ? `unsupported option, use ${hint} instead` : unknownName('option', k, allowed));
    }
  }
}

function section(v: unknown, path: string): Record<string, unknown> {
  if (v === undefined) return {};
  if (!isObject(v)) throw new InvalidOptionError(path, 'must be an object');
  return v;
}

function int(v: unknown, path: string, def: number, min: number, max: number): number {
  if (v === undefined) return def;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new InvalidOptionError(path, `must be an integer from ${min} to ${max}, got ${given(v)}`);
  }
  return v;
}

function cookie(v: unknown, path: string, defName: string, withMaxAge: boolean): CookieOptions & { maxAge: number } {
  const o = section(v, path);
  checkKeys(o, ['name', 'path', 'domain', 'secure', 'httpOnly', 'sameSite', ...(withMaxAge ? ['maxAge'] : [])], path);
  const name = o['name'] ?? defName;
  if (typeof name !== 'string' || !isCookieName(name)) throw new InvalidOptionError(`${path}.name`, 'must be a cookie name (an HTTP token)');
  const p = o['path'] ?? '/';
  if (typeof p !== 'string' || !p.startsWith('/') || !isCookieAttributeValue(p)) throw new InvalidOptionError(`${path}.path`, 'must be a path starting with /');
  const domain = o['domain'];
  if (domain !== undefined && (typeof domain !== 'string' || domain === '' || !isCookieAttributeValue(domain))) {
    throw new InvalidOptionError(`${path}.domain`, 'must be a domain name');
  }
  for (const b of ['secure', 'httpOnly'] as const) {
    if (o[b] !== undefined && typeof o[b] !== 'boolean') throw new InvalidOptionError(`${path}.${b}`, 'must be a boolean');
  }
  const sameSite = o['sameSite'] ?? 'Lax';
  if (sameSite !== 'Strict' && sameSite !== 'Lax' && sameSite !== 'None') throw new InvalidOptionError(`${path}.sameSite`, 'must be Strict, Lax or None');
  const secure = (o['secure'] as boolean | undefined) ?? false;
  if (sameSite === 'None' && !secure) throw new InvalidOptionError(`${path}.sameSite`, 'SameSite=None needs secure: true (browsers drop it otherwise)');
  return {
    name, path: p, domain: domain as string | undefined, secure,
    httpOnly: (o['httpOnly'] as boolean | undefined) ?? true, sameSite: sameSite as SameSite,
    maxAge: withMaxAge ? int(o['maxAge'], `${path}.maxAge`, DEFAULT_TRANSITION_MAX_AGE, 1, 400 * 24 * 3600) : 0,
  };
}

/** Checks options once, at the door, and returns them normalized and frozen. */
export function resolveOptions(input: unknown): ResolvedOptions {
  const o = section(input ?? {}, 'options');
  checkKeys(o, TOP_KEYS, '');
  const host = o['host'] ?? '0.0.0.0';
  if (typeof host !== 'string' || host === '') throw new InvalidOptionError('host', 'must be a host name or IP address');
  const port = int(o['port'], 'port', 0, 0, 65535);
  if (o['versions'] !== undefined && !Array.isArray(o['versions'])) throw new InvalidOptionError('versions', 'must be an array of versions');

  const c = section(o['cookies'], 'cookies');
  checkKeys(c, ['session', 'transition'], 'cookies');
  const session = cookie(c['session'], 'cookies.session', DEFAULT_SESSION_COOKIE, false);
  const transition = cookie(c['transition'], 'cookies.transition', DEFAULT_TRANSITION_COOKIE, true);
  if (session.name === transition.name) throw new InvalidOptionError('cookies.transition.name', 'must differ from cookies.session.name');
  const { maxAge: _unused, ...sessionCookie } = session;

  const t = section(o['timeouts'], 'timeouts');
  checkKeys(t, Object.keys(DEFAULT_TIMEOUTS), 'timeouts');
  const day = 86_400_000;
  const timeouts = {
    connect: int(t['connect'], 'timeouts.connect', DEFAULT_TIMEOUTS.connect, 1, day),
    head: int(t['head'], 'timeouts.head', DEFAULT_TIMEOUTS.head, 1, day),
    idle: int(t['idle'], 'timeouts.idle', DEFAULT_TIMEOUTS.idle, 1, day),
    firstByte: int(t['firstByte'], 'timeouts.firstByte', DEFAULT_TIMEOUTS.firstByte, 1, day),
    linger: int(t['linger'], 'timeouts.linger', DEFAULT_TIMEOUTS.linger, 0, 60_000),
  };

  const l = section(o['limits'], 'limits');
  checkKeys(l, Object.keys(DEFAULT_LIMITS), 'limits');
  const limits = {
    headSize: int(l['headSize'], 'limits.headSize', DEFAULT_LIMITS.headSize, 256, 16 * 1024 * 1024),
    responseHeadSize: int(l['responseHeadSize'], 'limits.responseHeadSize', DEFAULT_LIMITS.responseHeadSize, 256, 16 * 1024 * 1024),
    retryBuffer: int(l['retryBuffer'], 'limits.retryBuffer', DEFAULT_LIMITS.retryBuffer, 0, 64 * 1024 * 1024),
    concurrentBuffer: int(l['concurrentBuffer'], 'limits.concurrentBuffer', DEFAULT_LIMITS.concurrentBuffer, 1024, 1024 * 1024 * 1024),
    connections: int(l['connections'], 'limits.connections', DEFAULT_LIMITS.connections, 0, 10_000_000),
  };

  const h = section(o['health'], 'health');
  checkKeys(h, ['maxFails', 'ejectBase', 'ejectMax', 'onVersionDown', 'active'], 'health');
  const ejectBase = int(h['ejectBase'], 'health.ejectBase', DEFAULT_HEALTH.ejectBase, 1, day);
  const ejectMax = int(h['ejectMax'], 'health.ejectMax', Math.max(DEFAULT_HEALTH.ejectMax, ejectBase), ejectBase, day);
  const onVersionDown = h['onVersionDown'] ?? DEFAULT_HEALTH.onVersionDown;
  if (onVersionDown !== 'keep' && onVersionDown !== 'remove') throw new InvalidOptionError('health.onVersionDown', 'must be "keep" or "remove"');
  let active: ResolvedOptions['health']['active'];
  if (h['active'] !== undefined && h['active'] !== false) {
    const a = h['active'] === true ? {} : section(h['active'], 'health.active');
    checkKeys(a, ['interval', 'timeout', 'path'], 'health.active');
    const path = a['path'];
    if (path !== undefined && (typeof path !== 'string' || !/^\/[\x21-\x7e]*$/.test(path))) {
      throw new InvalidOptionError('health.active.path', 'must be a path starting with / without spaces');
    }
    active = Object.freeze({
      interval: int(a['interval'], 'health.active.interval', DEFAULT_ACTIVE_HEALTH.interval, 10, day),
      timeout: int(a['timeout'], 'health.active.timeout', DEFAULT_ACTIVE_HEALTH.timeout, 1, day),
      path: path as string | undefined,
    });
  }
  const health = Object.freeze({
    maxFails: int(h['maxFails'], 'health.maxFails', DEFAULT_HEALTH.maxFails, 1, 1000),
    ejectBase, ejectMax, onVersionDown: onVersionDown as 'keep' | 'remove', active,
  });
  const rw = section(o['rewrite'], 'rewrite');
  checkKeys(rw, ['location'], 'rewrite');
  if (rw['location'] !== undefined && typeof rw['location'] !== 'boolean') throw new InvalidOptionError('rewrite.location', `must be a boolean, got ${given(rw['location'])}`);
  const rewrite = Object.freeze({ location: (rw['location'] as boolean | undefined) ?? true });
  const nonHttp = o['nonHttp'] ?? 'reject';
  if (nonHttp !== 'reject' && nonHttp !== 'tcp') throw new InvalidOptionError('nonHttp', 'must be "reject" or "tcp"');
  const mode = o['mode'] ?? DEFAULT_MODE;
  if (mode !== 'stream' && mode !== 'http') throw new InvalidOptionError('mode', 'must be "stream" or "http"');
  const hm = section(o['http'], 'http');
  checkKeys(hm, Object.keys(DEFAULT_HTTP), 'http');
  for (const b of ['xForwardedFor', 'forwarded'] as const) {
    if (hm[b] !== undefined && typeof hm[b] !== 'boolean') throw new InvalidOptionError(`http.${b}`, 'must be a boolean');
  }
  const http = Object.freeze({
    maxIdlePerServer: int(hm['maxIdlePerServer'], 'http.maxIdlePerServer', DEFAULT_HTTP.maxIdlePerServer, 0, 100_000),
    maxPerServer: int(hm['maxPerServer'], 'http.maxPerServer', DEFAULT_HTTP.maxPerServer, 0, 1_000_000),
    idleTimeout: int(hm['idleTimeout'], 'http.idleTimeout', DEFAULT_HTTP.idleTimeout, 1, day),
    xForwardedFor: (hm['xForwardedFor'] as boolean | undefined) ?? DEFAULT_HTTP.xForwardedFor,
    forwarded: (hm['forwarded'] as boolean | undefined) ?? DEFAULT_HTTP.forwarded,
    retries: int(hm['retries'], 'http.retries', DEFAULT_HTTP.retries, 0, 100),
  });
  // Options a mode would silently ignore are refused, with the field named.
  if (mode === 'stream') {
    const set = Object.keys(hm)[0];
    if (set !== undefined) throw new InvalidOptionError(`http.${set}`, 'only applies to mode "http" (stream mode pipes bytes and pools nothing)');
  }
  const engine = o['engine'] ?? 'node';
  if (engine !== 'node' && engine !== 'uws') throw new InvalidOptionError('engine', `must be "node" or "uws", got ${given(engine)}`);
  if (engine === 'uws' && mode !== 'http') throw new InvalidOptionError('engine', '"uws" only applies to mode "http" (stream mode pipes raw sockets): set mode "http" or leave engine out');
  if (mode === 'http' && nonHttp === 'tcp') throw new InvalidOptionError('nonHttp', '"tcp" only applies to mode "stream" (http mode, the default, frames every message): set mode "stream"');
  const judge = mergeJudge(DEFAULT_JUDGE, validateJudge(o['judge'], 'judge', (f, m) => new InvalidOptionError(f, m)));
  const retire = o['retire'] === undefined ? DEFAULT_RETIRE : validateRetire(o['retire'], 'retire', (f, m) => new InvalidOptionError(f, m));
  const compare = mergeCompare(DEFAULT_COMPARE, validateCompare(o['compare'], 'compare', (f, m) => new InvalidOptionError(f, m)));
  return Object.freeze({
    judge, retire, compare, host, port,
    cookies: Object.freeze({ session: Object.freeze(sessionCookie), transition: Object.freeze(transition) }),
    timeouts: Object.freeze(timeouts), limits: Object.freeze(limits), health, rewrite, nonHttp, mode: mode as 'stream' | 'http', engine: engine as 'node' | 'uws', http,
  });
}
