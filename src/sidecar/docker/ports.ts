import { InvalidVersionError } from '../../core/errors.js';
import type { ServerAddress } from '../../core/index.js';

/** One host binding of a container port, as the seed writes it (`hostIp` empty: every address). */
export interface PortBinding { hostIp: string; hostPort: string }

/**
 * Where the proxy reaches a container's traffic port. `portToProxy` has two
 * meanings, told apart by the spec alone:
 * - `host` (the prototype's model): it equals a host port of a tcp binding in
 *   `portBindings` (`{"8080/tcp": [{"hostIp": "127.0.0.1", "hostPort": "9001"}]}`,
 *   `portToProxy: 9001`). The bindings are used as given and the proxy dials
 *   that host address: `hostIp`, or 127.0.0.1 when it binds every address.
 * - `published` (otherwise): it is a container port; the launcher publishes
 *   it on its own address (127.0.0.1) at a port the engine picks.
 */
export type ProxyTarget =
  | { readonly model: 'host'; readonly address: ServerAddress }
  | { readonly model: 'published'; readonly containerPort: number };

/** Host addresses that mean "every interface": the proxy reaches them on loopback. */
const ANY_ADDRESS: Record<string, string> = { '': '127.0.0.1', '0.0.0.0': '127.0.0.1', '::': '::1' };

/** Decides the model; throws `InvalidVersionError` at `path` for a port that fits neither. */
export function findProxyTarget(portToProxy: number, bindings: Record<string, PortBinding[]>, network: string | undefined, path: string): ProxyTarget {
  const hostPort = String(portToProxy);
  const tcp: Array<[string, PortBinding]> = [];
  const other: string[] = [];
  for (const [key, list] of Object.entries(bindings)) {
    for (const b of list) {
      if (b.hostPort !== hostPort) continue;
      if (key.endsWith('/tcp')) tcp.push([key, b]);
      else other.push(key);
    }
  }
  if (tcp.length === 0) {
    if (other.length > 0) {
      throw new InvalidVersionError(`${path}.portToProxy`, `must be exposed in portBindings as a tcp host port: ${hostPort} is bound for ${other.join(', ')} only`);
    }
    return { model: 'published', containerPort: portToProxy };
  }
  const keys = [...new Set(tcp.map(([k]) => k))];
  if (keys.length > 1) {
    throw new InvalidVersionError(`${path}.portToProxy`, `host port ${hostPort} is bound for ${keys.join(' and ')} in portBindings; bind it for one container port`);
  }
  if (network === 'host') {
    // Docker ignores portBindings on the host network: nothing would listen on that host port.
    throw new InvalidVersionError(`${path}.portToProxy`, `must be exposed in portBindings, which do not apply with network "host"; give the port the container listens on`);
  }
  const hostIp = tcp[0]![1].hostIp;
  return { model: 'host', address: { hostname: ANY_ADDRESS[hostIp] ?? hostIp, port: portToProxy } };
}

/** The dial model of a validated container that takes traffic (see `ProxyTarget`); `undefined` for a helper container. */
export function proxyTarget(c: { portToProxy: number | undefined; portBindings: Record<string, PortBinding[]>; network: string | undefined }): ProxyTarget | undefined {
  return c.portToProxy === undefined ? undefined : findProxyTarget(c.portToProxy, c.portBindings, c.network, 'containers');
}
