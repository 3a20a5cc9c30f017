import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';

/** A backend that answers every request with its name, and records what it saw. */
export interface Backend {
  name: string;
  port: number;
  server: http.Server;
  requests: Array<{ method: string; url: string; cookie: string | undefined; body: string }>;
  close(): Promise<void>;
}

export type Handler = (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void;

/** Starts an HTTP backend on 127.0.0.1:0 that answers `<name>` (or runs `handler`). */
export async function backend(name: string, handler?: Handler, port = 0): Promise<Backend> {
  const requests: Backend['requests'] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      requests.push({ method: req.method ?? '', url: req.url ?? '', cookie: req.headers.cookie, body });
      if (handler) handler(req, res, body);
      else {
        res.setHeader('X-Backend', name);
        res.end(name);
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const sockets = new Set<net.Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return {
    name,
    port: (server.address() as AddressInfo).port,
    server,
    requests,
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface RequestOptions {
  path?: string;
  method?: string;
  cookie?: string;
  headers?: Record<string, string>;
  body?: string;
  /** Reuse connections through this agent; default: a fresh connection per request. */
  agent?: http.Agent;
  /** Sees the socket each response came on (to count connections). */
  onSocket?: (socket: net.Socket) => void;
}

/** One request; on a fresh connection unless `agent` is given. */
export function get(port: number, opts: RequestOptions = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    if (opts.cookie !== undefined) headers['cookie'] = opts.cookie;
    // Node sends a DELETE/GET body without framing unless told its length.
    if (opts.body !== undefined) headers['content-length'] = String(Buffer.byteLength(opts.body));
    const req = http.request({ host: '127.0.0.1', port, path: opts.path ?? '/', method: opts.method ?? 'GET', headers, agent: opts.agent ?? false }, (res) => {
      opts.onSocket?.(res.socket);
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/**
 * A fresh connection whose bytes are collected until the peer closes (or
 * `ms` pass: `closed` false then). `start` runs once connected; `onData`
 * after each piece that came, with everything so far.
 */
export function collect(
  port: number, ms: number, start: (s: net.Socket) => void, onData?: (s: net.Socket, got: readonly Buffer[]) => void,
): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    const got: Buffer[] = [];
    let done = false;
    const finish = (closed: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      resolve({ text: Buffer.concat(got).toString('latin1'), closed });
    };
    const timer = setTimeout(() => finish(false), ms);
    s.on('data', (d: Buffer) => {
      got.push(d);
      onData?.(s, got);
    });
    s.on('error', () => finish(true));
    s.on('close', () => finish(true));
    s.on('connect', () => start(s));
  });
}

/** Writes raw bytes on a fresh connection and collects everything until the peer closes (or `ms`). */
export function raw(port: number, data: Buffer | string | Array<Buffer | string>, opts: { ms?: number; halfClose?: boolean; gapMs?: number } = {}): Promise<{ text: string; closed: boolean }> {
  return collect(port, opts.ms ?? 3000, async (s) => {
    const parts = Array.isArray(data) ? data : [data];
    for (const p of parts) {
      if (s.destroyed) return;
      s.write(p);
      if (opts.gapMs) await new Promise((r) => setTimeout(r, opts.gapMs));
    }
    if (opts.halfClose) s.end();
  });
}

/** A port with nothing listening (bound, then released). */
export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Open file descriptors of this process (Linux). */
export async function openFds(): Promise<number> {
  const { readdir } = await import('node:fs/promises');
  return (await readdir('/proc/self/fd')).length;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` until it returns true or `ms` passes. */
export async function until(fn: () => boolean | Promise<boolean>, ms = 3000, step = 10): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return true;
    await sleep(step);
  }
  return fn();
}
