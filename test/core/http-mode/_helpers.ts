import http from 'node:http';
import { createProxy, type Proxy, type ProxyOptions, type VersionInput } from '../../../src/core/index.js';
import type { Reply } from '../../helpers/net.js';

/** An http-mode proxy on 127.0.0.1:0 with old (1.0, uuid `old`) and new (2.0, uuid `new`, SESSION) versions. */
export async function sessionProxy(oldPort: number, newPort: number, extra: ProxyOptions = {}): Promise<Proxy> {
  const versions: VersionInput[] = [
    { uuid: 'old', version: '1.0', servers: [{ hostname: '127.0.0.1', port: oldPort }] },
    { uuid: 'new', version: '2.0', servers: [{ hostname: '127.0.0.1', port: newPort }], upgradeTransition: { mode: 'SESSION', sessionTimeout: 120 } },
  ];
  return createProxy({ host: '127.0.0.1', mode: 'http', versions, ...extra });
}

/** A client that sends every request on one keep-alive connection (one socket, requests in turn). */
export function keepAliveClient(port: number): { request(opts?: { path?: string; method?: string; cookie?: string; headers?: Record<string, string>; body?: string }): Promise<Reply>; sockets: Set<unknown>; close(): void } {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const sockets = new Set<unknown>();
  return {
    sockets,
    request(opts = {}) {
      return new Promise((resolve, reject) => {
        const headers: Record<string, string> = { ...(opts.headers ?? {}) };
        if (opts.cookie !== undefined) headers['cookie'] = opts.cookie;
        const req = http.request({ host: '127.0.0.1', port, path: opts.path ?? '/', method: opts.method ?? 'GET', headers, agent }, (res) => {
          sockets.add(res.socket);
          const chunks: Buffer[] = [];
          res.on('data', (d: Buffer) => chunks.push(d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end(opts.body);
      });
    },
    close() {
      agent.destroy();
    },
  };
}
