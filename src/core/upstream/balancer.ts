import type { BalancingPolicy } from '../routing/spec.js';
import type { ServerState } from './server.js';

/**
 * A balancing policy orders a version's servers for one connection: the
 * first is the choice, the rest are where the dial loop fails over to.
 * Policies only order; they never dial and never look at sockets.
 */
export interface Balancer {
  order(servers: readonly ServerState[], now: number): ServerState[];
}

/** Round robin over the available servers; unavailable ones go last. */
export class RoundRobin implements Balancer {
  private next = 0;

  order(servers: readonly ServerState[], now: number): ServerState[] {
    const n = servers.length;
    if (n === 1) return [servers[0]!];
    const start = this.next % n;
    this.next = (start + 1) % n;
    const up: ServerState[] = [];
    const down: ServerState[] = [];
    for (let i = 0; i < n; i++) {
      const s = servers[(start + i) % n]!;
      (s.available(now) ? up : down).push(s);
    }
    // Skipping an ejected server must not hand its turn to the same
    // neighbour every time: advance past the one we picked.
    if (up.length > 0 && up[0] !== servers[start]) this.next = (servers.indexOf(up[0]!) + 1) % n;
    return up.concat(down);
  }
}

/** Fewest open connections first; ties broken round robin. */
export class LeastConnections implements Balancer {
  private readonly rr = new RoundRobin();

  order(servers: readonly ServerState[], now: number): ServerState[] {
    const ordered = this.rr.order(servers, now);
    // Stable sort keeps the round-robin order among equals.
    return ordered.sort((a, b) => {
      const ua = a.available(now) ? 0 : 1;
      const ub = b.available(now) ? 0 : 1;
      return ua !== ub ? ua - ub : a.active - b.active;
    });
  }
}

export function createBalancer(policy: BalancingPolicy): Balancer {
  return policy === 'least-connections' ? new LeastConnections() : new RoundRobin();
}
