import type Docker from 'dockerode';
import { InvalidOptionError } from '../../core/errors.js';

export const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock';
/** The engine's plain-TCP port, the prototype's default for `dockerHost.port`. */
export const DEFAULT_DOCKER_TCP_PORT = 2375;

/**
 * Turns the `dockerHost` setting into dockerode options. Accepted forms:
 * a socket path (`/var/run/docker.sock`), `unix:///path`, `host:port`,
 * `tcp://host:port`, `http://host:port`, `https://host:port` (TLS files from
 * DOCKER_CERT_PATH are not read: terminate TLS elsewhere or use a socket).
 * the object form `{ "host": "...", "port": 2375 }` (a host with no port is
 * a socket path), or the prototype's `{ "ip": "...", "port": 2375 }` (port
 * default 2375, Docker's plain-TCP port). Unset: `DOCKER_HOST`, else
 * /var/run/docker.sock.
 */
export function dockerOptions(dockerHost: unknown, env: NodeJS.ProcessEnv = process.env): Docker.DockerOptions & { describe: string } {
  const field = dockerHost === undefined || dockerHost === null ? 'DOCKER_HOST' : 'dockerHost';
  let given: string | undefined;
  if (dockerHost === undefined || dockerHost === null) {
    given = undefined;
  } else if (typeof dockerHost === 'string') {
    given = dockerHost;
  } else if (typeof dockerHost === 'object' && !Array.isArray(dockerHost) && 'ip' in dockerHost) {
    const { ip, port = DEFAULT_DOCKER_TCP_PORT, ...rest } = dockerHost as { ip?: unknown; port?: unknown };
    const extra = Object.keys(rest)[0];
    if (extra !== undefined) throw new InvalidOptionError(`dockerHost.${extra}`, 'unknown field (expected ip, port)');
    if (typeof ip !== 'string' || ip === '') throw new InvalidOptionError('dockerHost.ip', 'must be a non-empty string (the engine\'s address)');
    if (!(typeof port === 'number' || (typeof port === 'string' && /^\d+$/.test(port)))) throw new InvalidOptionError('dockerHost.port', 'must be a port number');
    given = `${ip.includes(':') && !ip.startsWith('[') ? `[${ip}]` : ip}:${port}`;
  } else if (typeof dockerHost === 'object' && !Array.isArray(dockerHost)) {
    const { host, port } = dockerHost as { host?: unknown; port?: unknown };
    if (typeof host !== 'string' || host === '') throw new InvalidOptionError('dockerHost.host', 'must be a non-empty string');
    if (port !== undefined && port !== null && port !== '' && !(typeof port === 'number' || (typeof port === 'string' && /^\d+$/.test(port)))) {
      throw new InvalidOptionError('dockerHost.port', 'must be a port number');
    }
    given = port === undefined || port === null || port === '' || host.startsWith('unix://') || host.startsWith('/') ? host : `${host}:${port}`;
  } else {
    throw new InvalidOptionError('dockerHost', 'must be a socket path, "host:port", {"host", "port"} or {"ip", "port"}');
  }
  const raw = (given ?? env.DOCKER_HOST ?? '').trim() || DEFAULT_DOCKER_SOCKET;
  if (raw.startsWith('unix://')) {
    const socketPath = raw.slice('unix://'.length);
    if (socketPath === '') throw new InvalidOptionError(field, 'unix:// needs a socket path');
    return { socketPath, describe: raw };
  }
  if (raw.startsWith('/') || raw.startsWith('./') || raw.startsWith('../')) {
    return { socketPath: raw, describe: `unix://${raw}` };
  }
  const m = /^(?:(tcp|http|https):\/\/)?(\[[0-9a-fA-F:.]+\]|[^:/\s]+):(\d{1,5})\/?$/.exec(raw);
  if (m === null) {
    throw new InvalidOptionError(field, `${JSON.stringify(raw)} is neither a socket path nor host:port (tcp://host:port, unix:///path)`);
  }
  const port = Number(m[3]);
  if (port < 1 || port > 65535) throw new InvalidOptionError(field, 'port must be from 1 to 65535');
  const protocol = m[1] === 'https' ? 'https' : 'http';
  const host = m[2]!.replace(/^\[|\]$/g, '');
  return { host, port, protocol, describe: `${protocol}://${m[2]}:${port}` };
}
