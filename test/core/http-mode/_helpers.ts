import http from 'node:http';
import net from 'node:net';
import { createProxy, type Proxy, type ProxyOptions, type VersionInput } from '../../../src/core/index.js';
import { collect, get, type Reply, type RequestOptions } from '../../helpers/net.js';

/** An http-mode proxy on 127.0.0.1:0 with old (1.0, uuid `old`) and new (2.0, uuid `new`, SESSION) versions. */
export async function sessionProxy(oldPort: number, newPort: number, extra: ProxyOptions = {}): Promise<Proxy> {
  const versions: VersionInput[] = [
    { uuid: 'old', version: '1.0', servers: [{ hostname: '127.0.0.1', port: oldPort }] },
    { uuid: 'new', version: '2.0', servers: [{ hostname: '127.0.0.1', port: newPort }], upgradeTransition: { mode: 'SESSION', sessionTimeout: 120 } },
  ];
  return createProxy({ host: '127.0.0.1', mode: 'http', versions, ...extra });
}

/** A client that sends every request on one keep-alive connection (one socket, requests in turn). */
export function keepAliveClient(port: number): { request(opts?: Omit<RequestOptions, 'agent' | 'onSocket'>): Promise<Reply>; sockets: Set<unknown>; close(): void } {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const sockets = new Set<unknown>();
  return {
    sockets,
    request(opts = {}) {
      return get(port, { ...opts, agent, onSocket: (sock) => sockets.add(sock) });
    },
    close() {
      agent.destroy();
    },
  };
}

export interface RawResponse {
  status: number;
  head: string;
  headers: Record<string, string[]>;
  body: string;
}

/**
 * Splits the bytes a client received into responses, framed as RFC 9112 §6.3
 * says: `methods` are the requests' methods in order (a HEAD answer has no
 * body); 1xx, 204 and 304 have none; then chunked, Content-Length, or the rest.
 */
export function splitResponses(text: string, methods: readonly string[]): RawResponse[] {
  const out: RawResponse[] = [];
  let pos = 0;
  let mi = 0;
  while (pos < text.length) {
    const end = text.indexOf('\r\n\r\n', pos);
    if (end === -1) throw new Error(`incomplete head at ${pos}: ${JSON.stringify(text.slice(pos, pos + 80))}`);
    const head = text.slice(pos, end);
    const lines = head.split('\r\n');
    const status = Number(lines[0]!.slice(9, 12));
    const headers: Record<string, string[]> = {};
    for (const l of lines.slice(1)) {
      const c = l.indexOf(':');
      const k = l.slice(0, c).toLowerCase();
      (headers[k] ??= []).push(l.slice(c + 1).trim());
    }
    let p = end + 4;
    let body = '';
    const method = methods[mi];
    if (status >= 200) mi++;
    if (status < 200 || status === 204 || status === 304 || method === 'HEAD') {
      // no body
    } else if ((headers['transfer-encoding'] ?? []).join(',').includes('chunked')) {
      for (;;) {
        const le = text.indexOf('\r\n', p);
        const n = parseInt(text.slice(p, le), 16);
        body += text.slice(le + 2, le + 2 + n);
        p = le + 2 + n + 2;
        if (n === 0) break;
      }
    } else if (headers['content-length'] !== undefined) {
      const n = Number(headers['content-length'][0]);
      body = text.slice(p, p + n);
      p += n;
    } else {
      body = text.slice(p);
      p = text.length;
    }
    out.push({ status, head, headers, body });
    pos = p;
  }
  return out;
}

/** How many whole responses `text` holds (framed as `splitResponses` frames them; a close-delimited one is never whole). */
function wholeResponses(text: string, methods: readonly string[]): number {
  let pos = 0;
  let mi = 0;
  for (;;) {
    const end = text.indexOf('\r\n\r\n', pos);
    if (end === -1) return mi;
    const head = text.slice(pos, end);
    const status = Number(head.slice(9, 12));
    let p = end + 4;
    const method = methods[mi];
    const field = (name: string): string | undefined => new RegExp(`\r\n${name}:\\s*([^\r]*)`, 'i').exec(head)?.[1];
    if (status < 200 || status === 204 || status === 304 || method === 'HEAD') {
      // no body
    } else if (field('transfer-encoding')?.includes('chunked')) {
      for (;;) {
        const le = text.indexOf('\r\n', p);
        if (le === -1) return mi;
        const n = parseInt(text.slice(p, le), 16);
        if (text.length < le + 2 + n + 2) return mi;
        p = le + 2 + n + 2;
        if (n === 0) break;
      }
    } else if (field('content-length') !== undefined) {
      p += Number(field('content-length'));
      if (p > text.length) return mi;
    } else {
      return mi;
    }
    if (status >= 200) mi++;
    pos = p;
  }
}

/**
 * Sends `requests` on one keep-alive connection, each once the answer to the
 * one before it arrived whole (as a browser does: no pipelining), and
 * collects everything until the peer closes or `ms` passes.
 */
export function inTurn(port: number, requests: readonly string[], methods: readonly string[], ms = 5000): Promise<{ text: string; closed: boolean }> {
  let sent = 0;
  const next = (s: net.Socket, got: readonly Buffer[]): void => {
    if (sent < requests.length && wholeResponses(Buffer.concat(got).toString('latin1'), methods) === sent) s.write(requests[sent++]!);
  };
  return collect(port, ms, (s) => next(s, []), next);
}
