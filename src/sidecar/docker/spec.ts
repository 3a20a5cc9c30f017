import { createHash } from 'node:crypto';
import { InvalidVersionError } from '../../core/errors.js';
import { unknownName } from '../../core/suggest.js';
import { findProxyTarget, type PortBinding } from './ports.js';
import { isObject } from '../../core/given.js';

/**
 * The `containers` value of a cluster: the seed's container schema plus
 * labels, network, a readiness probe and a restart policy. `validate`
 * checks it and returns the normalized form below; every error names the
 * field (`cluster.containers[0].memory`). Environment values are secrets:
 * no message built here ever contains one (see redact.ts for the engine's).
 */

export type ProbeType = 'tcp' | 'http' | 'none';
export type RestartPolicyName = 'no' | 'always' | 'unless-stopped' | 'on-failure';

export interface ReadinessProbe {
  /** `tcp`: a connection that the container keeps open; `http`: a GET answered with 2xx/3xx; `none`: ready once started. */
  type: ProbeType;
  /** Container port to probe; defaults to `portToProxy`. */
  port: number | undefined;
  /** Request path of the http probe. */
  path: string;
  /** Seconds from start until the container must be ready, else the launch fails. */
  deadline: number;
  /** Seconds between attempts. */
  interval: number;
}

export type { PortBinding } from './ports.js';

export interface ContainerSpec {
  image: string;
  tag: string;
  name: string | undefined;
  /** Variable names and values, in order. Values are secrets: never logged. */
  environment: Array<[string, string]>;
  cmd: string[] | undefined;
  entrypoint: string[] | undefined;
  workingDir: string | undefined;
  hostname: string | undefined;
  /** `host:container[:mode]` binds, or a bare container path for an anonymous volume. */
  volumes: string[];
  volumesFrom: string[];
  /** Container port (`80/tcp`) → host bindings, on top of the one upshift adds for a container-port `portToProxy`. */
  portBindings: Record<string, PortBinding[]>;
  /** The port the proxy sends traffic to (see `ProxyTarget` in ports.ts for its two meanings); omitted for a helper container that takes none. */
  portToProxy: number | undefined;
  links: string[];
  user: string | undefined;
  /** Memory limit in bytes. */
  memory: number | undefined;
  cpuShares: number | undefined;
  privileged: boolean;
  labels: Record<string, string>;
  /** Network to join (`NetworkMode`): a network name, `bridge`, `host` or `none`. */
  network: string | undefined;
  readiness: ReadinessProbe;
  restartPolicy: { name: RestartPolicyName; maximumRetryCount: number };
}

/** The label keys upshift puts on its containers; users may not set labels under this prefix. */
export const LABEL_PREFIX = 'io.upshift.';
export const LABELS = {
  sidecar: 'io.upshift.sidecar',
  uuid: 'io.upshift.uuid',
  version: 'io.upshift.version',
  index: 'io.upshift.index',
  spec: 'io.upshift.spec',
  /** One launch of a version: a uuid removed and added again has two, and each is stopped alone. */
  launch: 'io.upshift.launch',
} as const;

export const MAX_CONTAINERS = 16;
export const DEFAULT_READINESS_DEADLINE = 60;
export const DEFAULT_READINESS_INTERVAL = 0.25;

const KNOWN_FIELDS = new Set([
  'image', 'tag', 'name', 'environment', 'cmd', 'entrypoint', 'workingDir', 'hostname', 'volumes',
  'volumesFrom', 'portBindings', 'portToProxy', 'links', 'user', 'memory', 'cpuShares', 'privileged',
  'labels', 'network', 'readiness', 'restartPolicy',
]);
const CONTAINER_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;
const ENV_NAME = /^[^=\0]+$/;

function optString(o: Record<string, unknown>, key: string, path: string, opts: { nonEmpty?: boolean } = {}): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new InvalidVersionError(`${path}.${key}`, 'must be a string');
  if (opts.nonEmpty === true && v.length === 0) throw new InvalidVersionError(`${path}.${key}`, 'must not be empty');
  if (v.includes('\0')) throw new InvalidVersionError(`${path}.${key}`, 'must not contain NUL');
  return v;
}

function stringList(o: Record<string, unknown>, key: string, path: string): string[] | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw new InvalidVersionError(`${path}.${key}`, 'must be an array of strings');
  return v.map((item, i) => {
    if (typeof item !== 'string') throw new InvalidVersionError(`${path}.${key}[${i}]`, 'must be a string');
    if (item.includes('\0')) throw new InvalidVersionError(`${path}.${key}[${i}]`, 'must not contain NUL');
    return item;
  });
}

function port(v: unknown, path: string): number {
  if (typeof v === 'string' && /^\d+$/.test(v)) v = Number(v);
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 65535) {
    throw new InvalidVersionError(path, 'must be a port number from 1 to 65535');
  }
  return v;
}

function positiveNumber(v: unknown, path: string, max: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || v > max) {
    throw new InvalidVersionError(path, `must be a number greater than 0 and at most ${max}`);
  }
  return v;
}

const MEMORY_UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

function memory(v: unknown, path: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  let bytes: number;
  if (typeof v === 'number') {
    bytes = v;
  } else if (typeof v === 'string') {
    const m = /^(\d+(?:\.\d+)?)\s*([bkmg]?)b?$/i.exec(v.trim());
    if (m === null) throw new InvalidVersionError(path, 'must be a number of bytes or a size such as "256m" or "1g"');
    bytes = Math.floor(Number(m[1]) * MEMORY_UNITS[m[2]!.toLowerCase()]!);
  } else {
    throw new InvalidVersionError(path, 'must be a number of bytes or a size such as "256m" or "1g"');
  }
  if (!Number.isSafeInteger(bytes)) throw new InvalidVersionError(path, 'must be a whole number of bytes');
  // 0 means "no limit" in the seed (Go's zero value).
  if (bytes === 0) return undefined;
  if (bytes < 6 * 1024 * 1024) throw new InvalidVersionError(path, 'must be at least 6 MiB (Docker\'s minimum)');
  return bytes;
}

function environment(v: unknown, path: string): Array<[string, string]> {
  if (v === undefined || v === null) return [];
  const out: Array<[string, string]> = [];
  const seen = new Set<string>();
  const add = (name: string, value: string, at: string): void => {
    if (!ENV_NAME.test(name)) throw new InvalidVersionError(at, 'variable name must be non-empty and contain no "="');
    if (value.includes('\0')) throw new InvalidVersionError(at, 'value must not contain NUL');
    if (seen.has(name)) throw new InvalidVersionError(at, `variable ${JSON.stringify(name)} is given twice`);
    seen.add(name);
    out.push([name, value]);
  };
  if (Array.isArray(v)) {
    // The seed's form: ["NAME=value", ...]. The message never repeats the item: it holds a value.
    // Also ["NAME", "value"] pairs: the normalized form, so validating twice gives the same result.
    v.forEach((item, i) => {
      const at = `${path}[${i}]`;
      if (Array.isArray(item) && item.length === 2 && typeof item[0] === 'string' && typeof item[1] === 'string') {
        add(item[0], item[1], at);
        return;
      }
      if (typeof item !== 'string') throw new InvalidVersionError(at, 'must be a string "NAME=value"');
      const eq = item.indexOf('=');
      if (eq <= 0) throw new InvalidVersionError(at, 'must have the form "NAME=value"');
      add(item.slice(0, eq), item.slice(eq + 1), at);
    });
  } else if (isObject(v)) {
    for (const [name, value] of Object.entries(v)) {
      const at = `${path}.${name}`;
      if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
        throw new InvalidVersionError(at, 'must be a string, number or boolean');
      }
      add(name, String(value), at);
    }
  } else {
    throw new InvalidVersionError(path, 'must be an object {"NAME": "value"} or an array of "NAME=value"');
  }
  return out;
}

function portKey(key: string, path: string): string {
  const m = /^(\d+)(?:\/(tcp|udp|sctp))?$/.exec(key);
  if (m === null) throw new InvalidVersionError(path, 'key must be a container port such as "80" or "80/tcp"');
  return `${port(Number(m[1]), path)}/${m[2] ?? 'tcp'}`;
}

function portBindings(v: unknown, path: string): Record<string, PortBinding[]> {
  if (v === undefined || v === null) return {};
  if (!isObject(v)) throw new InvalidVersionError(path, 'must be an object mapping a container port ("80/tcp") to host bindings');
  const out: Record<string, PortBinding[]> = {};
  for (const [key, raw] of Object.entries(v)) {
    const at = `${path}.${key}`;
    const k = portKey(key, at);
    const list = Array.isArray(raw) ? raw : [raw];
    out[k] = list.map((b, i) => {
      const bAt = Array.isArray(raw) ? `${at}[${i}]` : at;
      if (typeof b === 'number' || typeof b === 'string') return { hostIp: '', hostPort: String(port(b, bAt)) };
      if (!isObject(b)) throw new InvalidVersionError(bAt, 'must be {"HostIp": "...", "HostPort": "..."} or a host port');
      const ip = b.HostIp ?? b.hostIp ?? '';
      const hp = b.HostPort ?? b.hostPort ?? '';
      if (typeof ip !== 'string') throw new InvalidVersionError(`${bAt}.HostIp`, 'must be a string');
      const hostPort = hp === '' ? '' : String(port(hp, `${bAt}.HostPort`));
      return { hostIp: ip, hostPort };
    });
  }
  return out;
}

function labels(v: unknown, path: string): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (!isObject(v)) throw new InvalidVersionError(path, 'must be an object of string values');
  const out: Record<string, string> = {};
  for (const [k, value] of Object.entries(v)) {
    if (k.startsWith(LABEL_PREFIX)) throw new InvalidVersionError(`${path}.${k}`, `labels under "${LABEL_PREFIX}" are reserved for upshift`);
    if (typeof value !== 'string') throw new InvalidVersionError(`${path}.${k}`, 'must be a string');
    out[k] = value;
  }
  return out;
}

function readiness(v: unknown, path: string, portToProxy: number | undefined): ReadinessProbe {
  const probe: ReadinessProbe = {
    type: portToProxy === undefined ? 'none' : 'tcp', port: undefined, path: '/',
    deadline: DEFAULT_READINESS_DEADLINE, interval: DEFAULT_READINESS_INTERVAL,
  };
  if (v === undefined || v === null) return probe;
  if (!isObject(v)) throw new InvalidVersionError(path, 'must be an object {"type": "tcp"|"http"|"none", ...}');
  for (const k of Object.keys(v)) {
    if (!['type', 'port', 'path', 'deadline', 'interval'].includes(k)) throw new InvalidVersionError(`${path}.${k}`, unknownName('field', k, ['type', 'port', 'path', 'deadline', 'interval']));
  }
  if (v.type !== undefined) {
    if (v.type !== 'tcp' && v.type !== 'http' && v.type !== 'none') throw new InvalidVersionError(`${path}.type`, 'must be "tcp", "http" or "none"');
    probe.type = v.type;
  }
  if (v.port !== undefined) probe.port = port(v.port, `${path}.port`);
  if (v.path !== undefined) {
    if (typeof v.path !== 'string' || !v.path.startsWith('/') || /[\s\0]/.test(v.path)) {
      throw new InvalidVersionError(`${path}.path`, 'must be a path starting with "/" and without spaces');
    }
    probe.path = v.path;
  }
  if (v.deadline !== undefined) probe.deadline = positiveNumber(v.deadline, `${path}.deadline`, 3600);
  if (v.interval !== undefined) probe.interval = positiveNumber(v.interval, `${path}.interval`, 60);
  if (probe.type !== 'none' && probe.port === undefined && portToProxy === undefined) {
    throw new InvalidVersionError(`${path}.port`, 'is required when the container has no portToProxy');
  }
  return probe;
}

function restartPolicy(v: unknown, path: string): ContainerSpec['restartPolicy'] {
  if (v === undefined || v === null || v === '') return { name: 'no', maximumRetryCount: 0 };
  let name: unknown;
  let count: unknown = 0;
  if (typeof v === 'string') {
    const [n, c] = v.split(':');
    name = n;
    if (c !== undefined) count = /^\d+$/.test(c) ? Number(c) : c;
  } else if (isObject(v)) {
    name = v.name ?? v.Name;
    count = v.maximumRetryCount ?? v.MaximumRetryCount ?? 0;
  } else {
    throw new InvalidVersionError(path, 'must be "no", "always", "unless-stopped", "on-failure[:N]" or {"name", "maximumRetryCount"}');
  }
  if (name !== 'no' && name !== 'always' && name !== 'unless-stopped' && name !== 'on-failure') {
    throw new InvalidVersionError(path, 'name must be "no", "always", "unless-stopped" or "on-failure"');
  }
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 0 || count > 1000) {
    throw new InvalidVersionError(path, 'maximumRetryCount must be an integer from 0 to 1000');
  }
  if (count > 0 && name !== 'on-failure') throw new InvalidVersionError(path, 'maximumRetryCount applies to "on-failure" only');
  return { name, maximumRetryCount: count };
}

/** Splits `repo[:tag]` / `repo@digest`; a colon before the last slash is a registry port, not a tag. */
export function splitImage(image: string): { repo: string; tag: string | undefined; digest: string | undefined } {
  const at = image.indexOf('@');
  if (at >= 0) return { repo: image.slice(0, at), tag: undefined, digest: image.slice(at + 1) };
  const slash = image.lastIndexOf('/');
  const colon = image.lastIndexOf(':');
  if (colon > slash) return { repo: image.slice(0, colon), tag: image.slice(colon + 1), digest: undefined };
  return { repo: image, tag: undefined, digest: undefined };
}

/** The image reference to create from: `image:tag`, or the image as given when it carries a digest. */
export function imageRef(c: ContainerSpec): string {
  return splitImage(c.image).digest !== undefined ? c.image : `${c.image}:${c.tag}`;
}

function container(v: unknown, path: string): ContainerSpec {
  if (!isObject(v)) throw new InvalidVersionError(path, 'must be an object');
  for (const k of Object.keys(v)) {
    if (!KNOWN_FIELDS.has(k)) throw new InvalidVersionError(`${path}.${k}`, unknownName('field', k, [...KNOWN_FIELDS]));
  }
  const rawImage = optString(v, 'image', path, { nonEmpty: true });
  if (rawImage === undefined) throw new InvalidVersionError(`${path}.image`, 'is required');
  if (/\s/.test(rawImage)) throw new InvalidVersionError(`${path}.image`, 'must not contain spaces');
  const parts = splitImage(rawImage);
  const tag = optString(v, 'tag', path, { nonEmpty: true });
  // A digest with tag "latest" is the normalized form of a digest reference (the tag is ignored).
  if (tag !== undefined && (parts.tag !== undefined || (parts.digest !== undefined && tag !== 'latest'))) {
    throw new InvalidVersionError(`${path}.tag`, 'the image already names a tag or digest; give it in one place');
  }
  if (tag !== undefined && !/^[\w][\w.-]{0,127}$/.test(tag)) throw new InvalidVersionError(`${path}.tag`, 'is not a valid image tag');
  const image = parts.tag !== undefined ? parts.repo : rawImage;

  const name = optString(v, 'name', path, { nonEmpty: true });
  if (name !== undefined && !CONTAINER_NAME.test(name)) {
    throw new InvalidVersionError(`${path}.name`, 'must start with a letter or digit and contain only letters, digits, "_", "." and "-"');
  }
  const portToProxy = v.portToProxy === undefined || v.portToProxy === null ? undefined : port(v.portToProxy, `${path}.portToProxy`);

  let cpuShares: number | undefined;
  if (v.cpuShares !== undefined && v.cpuShares !== null && v.cpuShares !== 0) {
    if (typeof v.cpuShares !== 'number' || !Number.isInteger(v.cpuShares) || v.cpuShares < 2 || v.cpuShares > 262144) {
      throw new InvalidVersionError(`${path}.cpuShares`, 'must be an integer from 2 to 262144');
    }
    cpuShares = v.cpuShares;
  }
  if (v.privileged !== undefined && v.privileged !== null && typeof v.privileged !== 'boolean') {
    throw new InvalidVersionError(`${path}.privileged`, 'must be a boolean');
  }
  const network = optString(v, 'network', path, { nonEmpty: true });
  if (network === 'none' && portToProxy !== undefined) {
    throw new InvalidVersionError(`${path}.network`, 'a container with network "none" cannot receive traffic (portToProxy is set)');
  }
  const volumes = stringList(v, 'volumes', path) ?? [];
  volumes.forEach((s, i) => { if (s.length === 0) throw new InvalidVersionError(`${path}.volumes[${i}]`, 'must not be empty'); });
  const bindings = portBindings(v.portBindings, `${path}.portBindings`);
  if (portToProxy !== undefined) findProxyTarget(portToProxy, bindings, network, path);

  return {
    image,
    tag: parts.tag ?? tag ?? 'latest',
    name,
    environment: environment(v.environment, `${path}.environment`),
    cmd: stringList(v, 'cmd', path),
    entrypoint: stringList(v, 'entrypoint', path),
    workingDir: optString(v, 'workingDir', path, { nonEmpty: true }),
    hostname: optString(v, 'hostname', path, { nonEmpty: true }),
    volumes,
    volumesFrom: stringList(v, 'volumesFrom', path) ?? [],
    portBindings: bindings,
    portToProxy,
    links: stringList(v, 'links', path) ?? [],
    user: optString(v, 'user', path, { nonEmpty: true }),
    memory: memory(v.memory, `${path}.memory`),
    cpuShares,
    privileged: v.privileged === true,
    labels: labels(v.labels, `${path}.labels`),
    network,
    readiness: readiness(v.readiness, `${path}.readiness`, portToProxy),
    restartPolicy: restartPolicy(v.restartPolicy, `${path}.restartPolicy`),
  };
}

/**
 * Validates a cluster's `containers` (an array of container objects, or one
 * object) and returns the normalized list. At least one container must take
 * traffic (`portToProxy`), and names must be unique.
 */
export function validateContainers(v: unknown, field: string): ContainerSpec[] {
  const list = isObject(v) ? [v] : v;
  if (!Array.isArray(list)) throw new InvalidVersionError(field, 'must be an array of container objects');
  if (list.length === 0) throw new InvalidVersionError(field, 'must list at least one container');
  if (list.length > MAX_CONTAINERS) throw new InvalidVersionError(field, `must list at most ${MAX_CONTAINERS} containers`);
  const specs = list.map((c, i) => container(c, isObject(v) ? field : `${field}[${i}]`));
  if (!specs.some((c) => c.portToProxy !== undefined)) {
    throw new InvalidVersionError(isObject(v) ? `${field}.portToProxy` : `${field}[0].portToProxy`, 'is required: at least one container must say which of its ports takes the traffic');
  }
  const names = new Set<string>();
  specs.forEach((c, i) => {
    if (c.name === undefined) return;
    if (names.has(c.name)) throw new InvalidVersionError(`${field}[${i}].name`, `container name ${JSON.stringify(c.name)} is used twice`);
    names.add(c.name);
  });
  return specs;
}

/**
 * Turns a value returned by `validateContainers`, or the same value restored
 * from a state file as JSON, back into specs. Validation is idempotent, so
 * the raw input works too.
 */
export function asContainerSpecs(v: unknown, field = 'containers'): ContainerSpec[] {
  return validateContainers(v, field);
}

/**
 * A short digest of one container's spec, stored as a label: a running
 * container is adopted at startup only if it was made from the same spec.
 */
export function specDigest(uuid: string, index: number, c: ContainerSpec): string {
  return createHash('sha256').update(JSON.stringify([uuid, index, c])).digest('hex').slice(0, 24);
}
