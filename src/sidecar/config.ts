import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { resolveOptions, validateVersion, type ProxyOptions, type UpshiftError } from '../core/index.js';
import { ConfigError } from './errors.js';
import { checkToken } from './token.js';
import { jsonErrorAt } from './json.js';
import { unknownName } from '../core/suggest.js';
import { toPinoLevel, LOG_LEVEL_NAMES, type LogLevel } from './logging.js';
import { DEFAULT_ETCD_PREFIX, type EtcdConfig } from './store/types.js';

/**
 * The sidecar's config file. The seed's format is accepted as is
 * (`proxy.port`, `configService.port`, `cluster`, `dockerHost`); the rest
 * are additions, all optional.
 */
export interface SidecarConfigInput {
  proxy: {
    /** Port clients connect to (0 picks a free one). Required. */
    port: number;
    /** Address to listen on. Default `0.0.0.0`. */
    host?: string;
  } & Omit<ProxyOptions, 'host' | 'port' | 'versions'>;
  configService: {
    /** Port of the REST config API (0 picks a free one). Required. */
    port: number;
    /** Address of the REST config API. Default `127.0.0.1`: never on all interfaces unless asked. */
    host?: string;
    /** When set, every call except `/healthz` needs `Authorization: Bearer <token>`. Also `--api-token` or `UPSHIFT_API_TOKEN`. */
    token?: string;
    /** Largest request body in bytes; larger ones get 413. Default 1048576 (1 MiB). */
    bodyLimit?: number;
  };
  /** The version to start with (the seed's single cluster). `cluster` or `clusters` is required. */
  cluster?: unknown;
  /** Versions to start with. */
  clusters?: unknown[];
  /** The Docker engine for versions given as `containers`: a socket path, `host:port`, `{ "host", "port" }` or the seed's `{ "ip", "port" }` (port default 2375). Default `DOCKER_HOST`, else `/var/run/docker.sock`. */
  dockerHost?: unknown;
  /** Names this sidecar in its containers' labels; keep it across restarts, differ between sidecars sharing a Docker engine. Default `UPSHIFT_SIDECAR_ID`, else `default`. */
  sidecarId?: string;
  /** Log level: the seed's CRITICAL, ERROR, WARNING, NOTICE, INFO, DEBUG or pino's fatal … trace, silent. Default info. */
  logLevel?: string;
  /** Where runtime changes are kept across restarts. Default: none for `startSidecar`, `<config file>.state.json` for the CLI. */
  stateFile?: string;
  /** Milliseconds a removed version's connections (and, on SIGTERM, all connections) may finish. Default 10000. */
  drainTimeout?: number;
  /** Where versions live when many sidecars share one routing: `{"etcd": {"endpoints": [...], "prefix"?, "username"?, "password"?, "tls"?}}`. Default: the state file only. */
  store?: { etcd: Omit<EtcdConfig, 'prefix'> & { prefix?: string } };
}

/** A validated config, as `startSidecar` uses it. */
export interface SidecarConfig {
  proxy: ProxyOptions;
  api: { host: string; port: number; token: string | undefined; bodyLimit: number };
  /** Validated but not normalized: the version inputs, each may list `containers`. */
  clusters: Record<string, unknown>[];
  dockerHost: unknown;
  sidecarId: string | undefined;
  logLevel: LogLevel;
  stateFile: string | undefined;
  drainTimeout: number;
  /** The shared store; the state file then only caches what was last applied. */
  store: { etcd: EtcdConfig } | undefined;
}

export const DEFAULT_API_HOST = '127.0.0.1';
export const DEFAULT_BODY_LIMIT = 1024 * 1024;
export const DEFAULT_DRAIN_TIMEOUT = 10_000;

const port = { type: 'integer', minimum: 0, maximum: 65535 };
const host = { type: 'string', minLength: 1, maxLength: 255 };
/** The file's own structure; versions and proxy options are checked by the core's validators (one source of truth). */
const SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['proxy', 'configService'],
  properties: {
    proxy: {
      type: 'object',
      additionalProperties: false,
      required: ['port'],
      properties: {
        port, host,
        cookies: { type: 'object' }, timeouts: { type: 'object' }, limits: { type: 'object' },
        health: { type: 'object' }, nonHttp: { type: 'string' }, mode: { type: 'string' }, engine: { type: 'string' }, http: { type: 'object' },
        judge: { type: 'object' }, retire: { type: ['object', 'string'] }, compare: { type: 'object' },
      },
    },
    configService: {
      type: 'object',
      additionalProperties: false,
      required: ['port'],
      properties: {
        port, host,
        token: { type: 'string', minLength: 1 },
        bodyLimit: { type: 'integer', minimum: 1024, maximum: 1024 * 1024 * 1024 },
      },
    },
    cluster: { type: 'object' },
    clusters: { type: 'array', items: { type: 'object' } },
    dockerHost: { type: ['object', 'string'] },
    sidecarId: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,64}$' },
    logLevel: { type: 'string' },
    stateFile: { type: 'string', minLength: 1 },
    drainTimeout: { type: 'integer', minimum: 0, maximum: 86_400_000 },
    store: {
      type: 'object',
      additionalProperties: false,
      required: ['etcd'],
      properties: {
        etcd: {
          type: 'object',
          additionalProperties: false,
          required: ['endpoints'],
          properties: {
            endpoints: { type: 'array', minItems: 1, items: { type: 'string', pattern: '^https?://[^/\\s]+/?$' } },
            prefix: { type: 'string', pattern: '^/[^\\s]*/$', maxLength: 256 },
            username: { type: 'string', minLength: 1 },
            password: { type: 'string', minLength: 1 },
            tls: {
              type: 'object',
              additionalProperties: false,
              properties: { ca: { type: 'string', minLength: 1 }, cert: { type: 'string', minLength: 1 }, key: { type: 'string', minLength: 1 } },
            },
          },
        },
      },
    },
  },
} as const;

// Every error, so that an unknown field ("prot") is reported before the required one it stands for ("port").
const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
const validateStructure = ajv.compile(SCHEMA);

/** Turns ajv's first error into one message naming the field and the rule. */
function describe(err: ErrorObject): ConfigError {
  const base = err.instancePath.split('/').slice(1).map((p) => (/^\d+$/.test(p) ? `[${p}]` : `.${p}`)).join('').replace(/^\./, '');
  const at = (k: string): string => (base ? `${base}.${k}` : k);
  switch (err.keyword) {
    case 'required': {
      const missing = (err.params as { missingProperty: string }).missingProperty;
      const what: Record<string, string> = {
        proxy: 'is required (e.g. "proxy": {"port": 8080})',
        configService: 'is required (e.g. "configService": {"port": 9090})',
        port: 'is required (an integer from 0 to 65535)',
      };
      return new ConfigError(at(missing), what[missing] ?? 'is required');
    }
    case 'additionalProperties': {
      const name = (err.params as { additionalProperty: string }).additionalProperty;
      return new ConfigError(at(name), unknownName('field', name, knownFields(err.schemaPath)));
    }
    case 'type':
      return new ConfigError(base || 'config', `must be ${(err.params as { type: string | string[] }).type === 'integer' ? 'an integer' : `of type ${String((err.params as { type: string }).type).replace(',', ' or ')}`}`);
    case 'minimum': case 'maximum': {
      const limits: Record<string, string> = { port: 'from 0 to 65535', bodyLimit: 'from 1024 to 1073741824 bytes', drainTimeout: 'from 0 to 86400000 ms' };
      const last = base.split('.').pop() ?? '';
      return new ConfigError(base, `must be an integer ${limits[last] ?? `${err.keyword} ${String((err.params as { limit: number }).limit)}`}`);
    }
    case 'pattern': {
      if (/\.endpoints\[\d+\]$/.test(base)) return new ConfigError(base, 'must be an http:// or https:// URL of host and port (e.g. "http://127.0.0.1:2379")');
      if (base === 'store.etcd.prefix') return new ConfigError(base, 'must start and end with "/" and hold no spaces (e.g. "/upshift/shop/")');
      return new ConfigError(base || 'config', err.message ?? 'is invalid');
    }
    case 'minItems':
      return new ConfigError(base, 'must list at least one endpoint');
    default:
      return new ConfigError(base || 'config', err.message ?? 'is invalid');
  }
}

/** The fields the schema allows where `schemaPath` (`#/properties/proxy/additionalProperties`) points. */
function knownFields(schemaPath: string): string[] {
  let node: unknown = SCHEMA;
  for (const part of schemaPath.split('/').slice(1, -1)) node = (node as Record<string, unknown>)[part];
  return Object.keys((node as { properties?: object }).properties ?? {});
}

/** Re-roots a core validation error (`cluster.servers[0].port`) at the config path it came from. */
function reroot(err: unknown, from: string, to: string): never {
  const e = err as UpshiftError;
  if (typeof e?.field === 'string') {
    const field = e.field === from || e.field.startsWith(`${from}.`) || e.field.startsWith(`${from}[`) ? to + e.field.slice(from.length) : `${to}.${e.field}`;
    throw new ConfigError(field, e.message.replace(/^[^:]*: /, ''));
  }
  throw err;
}

export interface ConfigOverrides {
  logLevel?: string;
  stateFile?: string;
  apiToken?: string;
  /** Where `apiToken` came from, for the error that refuses it. Default `--api-token`. */
  apiTokenSource?: string;
  /** Resolves a relative `stateFile` in the file against this directory. */
  baseDir?: string;
}

/**
 * Validates a config object (the parsed file plus command-line overrides)
 * and returns it normalized. Throws `ConfigError` naming the field.
 * `validateContainers` checks a `containers` value (the launcher's rules).
 */
export function parseConfig(input: unknown, overrides: ConfigOverrides = {}, validateContainers?: (v: unknown, field: string) => unknown): SidecarConfig {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new ConfigError('config', 'must be a JSON object');
  if (!validateStructure(input)) {
    const errors = validateStructure.errors!;
    throw describe(errors.find((e) => e.keyword === 'additionalProperties') ?? errors[0]!);
  }
  const c = input as unknown as SidecarConfigInput;
  const { port: proxyPort, host: proxyHost, ...proxyRest } = c.proxy;
  const proxy: ProxyOptions = { ...proxyRest, port: proxyPort, host: proxyHost ?? '0.0.0.0' };
  try {
    resolveOptions(proxy);
  } catch (err) {
    reroot(err, '', 'proxy');
  }

  if (c.cluster === undefined && c.clusters === undefined) {
    throw new ConfigError('cluster', 'is required (the first version, e.g. "cluster": {"version": "1.0", "servers": [{"hostname": "127.0.0.1", "port": 3000}]}), or give "clusters": [...]');
  }
  const inputs: Array<[unknown, string]> = [];
  if (c.cluster !== undefined) inputs.push([c.cluster, 'cluster']);
  (c.clusters ?? []).forEach((v, i) => inputs.push([v, `clusters[${i}]`]));
  const uuids = new Set<string>();
  const clusters = inputs.map(([v, field]) => checkCluster(v, field, validateContainers, uuids));

  const levelName = overrides.logLevel ?? c.logLevel ?? 'info';
  const logLevel = toPinoLevel(levelName);
  if (logLevel === undefined) {
    throw new ConfigError(overrides.logLevel !== undefined ? '--log-level' : 'logLevel', `must be one of ${LOG_LEVEL_NAMES.join(', ')}, got ${JSON.stringify(levelName)}`);
  }
  const token = overrides.apiToken !== undefined
    ? checkToken({ value: overrides.apiToken, source: overrides.apiTokenSource ?? '--api-token' })
    : c.configService.token === undefined ? undefined : checkToken({ value: c.configService.token, source: 'configService.token' });
  let stateFile = overrides.stateFile ?? c.stateFile;
  if (stateFile !== undefined && overrides.stateFile === undefined && overrides.baseDir !== undefined) stateFile = path.resolve(overrides.baseDir, stateFile);
  return {
    store: c.store === undefined ? undefined : { etcd: checkEtcd(c.store.etcd, overrides.baseDir) },
    proxy,
    api: {
      host: c.configService.host ?? DEFAULT_API_HOST,
      port: c.configService.port,
      token,
      bodyLimit: c.configService.bodyLimit ?? DEFAULT_BODY_LIMIT,
    },
    clusters,
    dockerHost: c.dockerHost,
    sidecarId: c.sidecarId,
    logLevel,
    stateFile,
    drainTimeout: c.drainTimeout ?? DEFAULT_DRAIN_TIMEOUT,
  };
}

/** The rules of `store.etcd` that a schema cannot say; TLS file paths are resolved against the config file's directory. */
function checkEtcd(e: NonNullable<SidecarConfigInput['store']>['etcd'], baseDir: string | undefined): EtcdConfig {
  if ((e.username === undefined) !== (e.password === undefined)) {
    throw new ConfigError(e.username === undefined ? 'store.etcd.username' : 'store.etcd.password', 'username and password go together');
  }
  if (e.tls !== undefined && (e.tls.cert === undefined) !== (e.tls.key === undefined)) {
    throw new ConfigError(e.tls.cert === undefined ? 'store.etcd.tls.cert' : 'store.etcd.tls.key', 'a client certificate needs its key (give both or neither)');
  }
  const https = e.endpoints.filter((u) => u.startsWith('https://')).length;
  if (https !== 0 && https !== e.endpoints.length) throw new ConfigError('store.etcd.endpoints', 'must all be http:// or all https://');
  if (e.tls !== undefined && https === 0) throw new ConfigError('store.etcd.tls', 'needs https:// endpoints');
  const file = (f: string | undefined): string | undefined => (f === undefined ? undefined : path.resolve(baseDir ?? '.', f));
  const tls = e.tls === undefined ? undefined : { ca: file(e.tls.ca), cert: file(e.tls.cert), key: file(e.tls.key) };
  return {
    endpoints: e.endpoints.map((u) => u.replace(/\/$/, '')),
    prefix: e.prefix ?? DEFAULT_ETCD_PREFIX,
    ...(e.username !== undefined ? { username: e.username, password: e.password! } : {}),
    ...(tls !== undefined ? { tls } : {}),
  };
}

/** One version of the config file: the core's rules, plus `containers` instead of `servers`. */
function checkCluster(v: unknown, field: string, validateContainers: ((v: unknown, field: string) => unknown) | undefined, uuids: Set<string>): Record<string, unknown> {
  const obj = v as Record<string, unknown>;
  const hasContainers = obj['containers'] !== undefined;
  try {
    const spec = validateVersion(v, { root: 'cluster', extraKeys: ['containers'], serversOptional: hasContainers });
    if (hasContainers && obj['servers'] !== undefined) throw new ConfigError(`${field}.servers`, 'give servers or containers, not both');
    if (hasContainers && validateContainers !== undefined) validateContainers(obj['containers'], 'cluster.containers');
    if (obj['uuid'] !== undefined) {
      if (uuids.has(spec.uuid)) throw new ConfigError(`${field}.uuid`, `${JSON.stringify(spec.uuid)} is used twice`);
      uuids.add(spec.uuid);
    }
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    reroot(err, 'cluster', field);
  }
  return obj;
}

/** Reads and validates a config file; every failure is a `ConfigError` naming the field. */
export function loadConfigFile(file: string, overrides: ConfigOverrides = {}, validateContainers?: (v: unknown, field: string) => unknown): SidecarConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError('--config', code === 'ENOENT' ? `file ${file} does not exist` : `cannot read ${file}: ${code ?? (err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ConfigError('config', `${file} is not valid JSON: ${jsonErrorAt(text)}`);
  }
  return parseConfig(json, { baseDir: path.dirname(path.resolve(file)), ...overrides }, validateContainers);
}
