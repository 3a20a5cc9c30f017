/**
 * Harness for the HTTP/1.1 corpus in test/fixtures/http1: two recording
 * origins, an upshift proxy in front of them, a raw client, and a judge.
 *
 * Every case runs in its own "world" (two origins and one proxy, all on
 * port 0), so cases can run concurrently and nothing one case does (a
 * server ejected, a half-open upstream) leaks into the verdict of another.
 *
 * Routing: version 1.0 (uuid `b`) on the second origin, version 2.0 (uuid
 * `a`, SESSION) on the first, session cookie `dynsoftup`. So `dynsoftup=b`
 * reaches origin b; anything else, or no cookie, the newest: origin a.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createProxy, type Proxy, type ProxyOptions } from '../../src/core/index.js';

export const CORPUS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/http1');
export const COOKIE = 'dynsoftup';

export type Kind = 'reject' | 'forward' | 'accept' | 'ambiguous' | 'route' | 'info';
export type Verdict = 'PASS' | 'FAIL' | 'WARN' | 'INFO';

export interface RequestCase {
  id: string;
  file: string;
  title: string;
  expect: { kind: Kind; why: string; requests?: number };
  send?: { chunk: number; delayMs?: number };
}

export interface ResponseCase {
  id: string;
  file: string;
  request: string;
  split?: number;
  closeAfter?: boolean;
  expect: {
    body?: string; finals?: number; bodyHasNoSetCookie?: boolean; rejectOk?: boolean;
    keepsBackendCookies?: string[]; cookieOnFinal?: boolean;
  };
}

export function loadManifest<T>(rel: string): T[] {
  return JSON.parse(fs.readFileSync(path.join(CORPUS, rel), 'utf8')) as T[];
}

export function caseBytes(c: { file: string }): Buffer {
  return fs.readFileSync(path.join(CORPUS, c.file));
}

/**
 * The curated cases name their routing cookie `route`. We run upshift with
 * its own cookie name, so the name is substituted (keeping its letter case:
 * `ROUTE` and `xroute` stay look-alikes). Only where no byte count can move:
 * in a case with a Content-Length or Transfer-Encoding anywhere, the cookie
 * sits inside counted bytes and the case is about framing, not routing; it
 * is left as is (its cookie then routes nowhere, which those verdicts ignore).
 */
export function withCookieName(bytes: Buffer): Buffer {
  const s = bytes.toString('latin1');
  if (/content-length|transfer-encoding/i.test(s) || !/route/i.test(s)) return bytes;
  return Buffer.from(s.replace(/route/gi, (m) => {
    if (m === m.toUpperCase()) return COOKIE.toUpperCase();
    if (m[0] === m[0]!.toUpperCase()) return COOKIE[0]!.toUpperCase() + COOKIE.slice(1);
    return COOKIE;
  }), 'latin1');
}

// ------------------------------------------------------------------ origins

/** What an origin handled: a parsed request, or a parse error from its HTTP server. */
export interface Seen {
  origin: 'a' | 'b';
  kind: 'req' | 'err';
  method?: string;
  url?: string;
  cookie?: string;
  upgrade?: string;
  code?: string;
}

interface Closer { close(): Promise<void> }

function track(server: net.Server): Closer {
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return {
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return (server.address() as net.AddressInfo).port;
}

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/**
 * A strict Node HTTP server (llhttp, as deployed) behind a raw TCP relay:
 * the relay keeps every byte the proxy sent, the server says what it parsed.
 * Answers each request with JSON naming itself and what it saw.
 */
async function recordingOrigin(name: 'a' | 'b', seen: Seen[], raw: Buffer[]): Promise<{ port: number } & Closer> {
  const app = http.createServer((req, res) => {
    let bodyLen = 0;
    req.on('data', (d: Buffer) => { bodyLen += d.length; });
    req.on('end', () => {
      seen.push({ origin: name, kind: 'req', method: req.method, url: req.url, cookie: req.headers.cookie, upgrade: req.headers.upgrade });
      const out = JSON.stringify({ origin: name, method: req.method, url: req.url, cookie: req.headers.cookie ?? null, bodyLen });
      res.writeHead(200, { 'Content-Type': 'application/json', 'X-Origin': name, 'Content-Length': Buffer.byteLength(out) });
      res.end(out);
    });
  });
  app.on('clientError', (err: NodeJS.ErrnoException, sock: net.Socket) => {
    seen.push({ origin: name, kind: 'err', code: err.code ?? 'ERR' });
    if (sock.writable) sock.end(`HTTP/1.1 400 Bad Request\r\nX-Origin: ${name}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    else sock.destroy();
  });
  app.on('upgrade', (req: http.IncomingMessage, sock: net.Socket, head: Buffer) => {
    seen.push({ origin: name, kind: 'req', method: req.method, url: req.url, cookie: req.headers.cookie, upgrade: req.headers.upgrade });
    sock.on('error', () => {});
    if (req.url === '/ws' && String(req.headers.upgrade).toLowerCase() === 'websocket') {
      const accept = crypto.createHash('sha1').update(`${req.headers['sec-websocket-key']}${WS_GUID}`).digest('base64');
      sock.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-Origin: ${name}\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
      // Echo raw frames back: the client can check its early bytes arrived intact.
      if (head.length > 0) sock.write(head);
      sock.on('data', (d: Buffer) => sock.write(d));
      return;
    }
    // Upgrade refused: answer 403 and go on speaking HTTP on this connection,
    // as an origin that ignores Upgrade does. The bytes after the head are fed
    // back into the same server through a loopback connection.
    sock.write(`HTTP/1.1 403 Forbidden\r\nX-Origin: ${name}\r\nContent-Length: 0\r\n\r\n`);
    const inner = net.connect((app.address() as net.AddressInfo).port, '127.0.0.1', () => {
      inner.write(head);
      sock.pipe(inner);
      inner.pipe(sock);
    });
    inner.on('error', () => sock.destroy());
    sock.on('close', () => inner.destroy());
  });
  const appPort = await listen(app);
  const appCloser = track(app);

  // Half-close passes through the relay both ways, as it does through a
  // direct connection: a proxy that sends the request and then FIN must
  // still get the origin's answer (a relay that closed on the first FIN
  // would lose it, and the proxy would rightly retry elsewhere).
  const relay = net.createServer({ allowHalfOpen: true }, (client) => {
    const up = net.connect({ port: appPort, host: '127.0.0.1', allowHalfOpen: true });
    client.on('data', (d: Buffer) => { raw.push(d); up.write(d); });
    up.on('data', (d: Buffer) => client.write(d));
    client.on('end', () => up.end());
    up.on('end', () => client.end());
    client.on('error', () => up.destroy());
    up.on('error', () => client.destroy());
    client.on('close', () => up.destroy());
    up.on('close', () => client.destroy());
  });
  const port = await listen(relay);
  const relayCloser = track(relay);
  return { port, close: async () => { await relayCloser.close(); await appCloser.close(); } };
}

/** An origin that answers `/resp/<id>` with the canned bytes of that response case. */
async function cannedOrigin(byId: ReadonlyMap<string, ResponseCase>): Promise<{ port: number } & Closer> {
  const plain = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 4\r\nX-Plain: 1\r\n\r\nnext');
  const server = net.createServer((sock) => {
    let buf = Buffer.alloc(0);
    let busy = Promise.resolve();
    sock.on('error', () => {});
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      // None of these requests has a body: a head ends at the blank line.
      for (let end = buf.indexOf('\r\n\r\n'); end !== -1; end = buf.indexOf('\r\n\r\n')) {
        const line = buf.subarray(0, buf.indexOf('\r\n')).toString('latin1');
        buf = buf.subarray(end + 4);
        const [method = '', target = ''] = line.split(' ');
        const c = byId.get(target.replace(/^\/resp\//, '').split('?')[0] ?? '');
        busy = busy.then(async () => {
          if (sock.destroyed) return;
          if (c === undefined) {
            sock.write(method === 'HEAD' ? plain.subarray(0, plain.indexOf('\r\n\r\n') + 4) : plain);
            return;
          }
          const bytes = caseBytes(c);
          if (c.split !== undefined) {
            // One write per `split` bytes, spaced out so each is its own TCP segment.
            for (let i = 0; i < bytes.length && !sock.destroyed; i += c.split) {
              sock.write(bytes.subarray(i, i + c.split));
              await new Promise((r) => setTimeout(r, 3));
            }
          } else sock.write(bytes);
          if (c.closeAfter) sock.end();
        });
      }
    });
  });
  const port = await listen(server);
  return { port, ...track(server) };
}

// ------------------------------------------------------------------ worlds

export interface World {
  proxy: Proxy;
  port: number;
  /** Version ids whose server the proxy ejected during this world's life. */
  ejected: string[];
  /** Requests and parse errors at either origin, in order. */
  seen: Seen[];
  /** Every byte that reached either origin, in arrival order. */
  raw: Buffer[];
  close(): Promise<void>;
}

function proxyOptions(portA: number, portB: number, extra: Partial<ProxyOptions>): ProxyOptions {
  return {
    host: '127.0.0.1',
    port: 0,
    cookies: { session: { name: COOKIE } },
    versions: [
      { uuid: 'b', version: '1.0', servers: [{ hostname: '127.0.0.1', port: portB }] },
      { uuid: 'a', version: '2.0', servers: [{ hostname: '127.0.0.1', port: portA }], upgradeTransition: { mode: 'SESSION' } },
    ],
    mode: 'stream',
    ...extra,
  };
}

export async function recordingWorld(extra: Partial<ProxyOptions> = {}): Promise<World> {
  const seen: Seen[] = [];
  const raw: Buffer[] = [];
  const a = await recordingOrigin('a', seen, raw);
  const b = await recordingOrigin('b', seen, raw);
  const proxy = await createProxy(proxyOptions(a.port, b.port, extra));
  const ejected: string[] = [];
  proxy.events.on('upstream:eject', (e) => ejected.push(e.uuid));
  return {
    proxy, port: proxy.address.port, seen, raw, ejected,
    close: async () => { await proxy.close({ drainTimeout: 0 }); await a.close(); await b.close(); },
  };
}

export async function cannedWorld(cases: readonly ResponseCase[], extra: Partial<ProxyOptions> = {}): Promise<World> {
  const byId = new Map(cases.map((c) => [c.id, c]));
  const a = await cannedOrigin(byId);
  const b = await cannedOrigin(byId);
  const proxy = await createProxy(proxyOptions(a.port, b.port, extra));
  return {
    proxy, port: proxy.address.port, seen: [], raw: [], ejected: [],
    close: async () => { await proxy.close({ drainTimeout: 0 }); await a.close(); await b.close(); },
  };
}

// ------------------------------------------------------------------ client

export interface Exchange {
  bytes: Buffer;
  /** How the proxy ended the connection (`fin`, `close`, an error code), or null if it did not. */
  closed: string | null;
  /** Why we stopped reading: `closed`, `idle` (quiet for `idle` ms after sending), `cap` (overall limit). */
  why: 'closed' | 'idle' | 'cap';
  ms: number;
}

/**
 * Sends `data` on a fresh connection and reads until the proxy closes, or
 * stays quiet for `idle` ms after everything was sent, or `cap` ms pass.
 *
 * `owed()` says how many final responses the client is still owed (the
 * origins answered requests whose responses have not arrived). While some
 * are owed, a quiet spell is extended up to `grace` ms in all: on a loaded
 * machine a response can take longer than `idle`, and judging it hidden
 * would be a false alarm. A response that never comes still ends as `idle`
 * (and is judged hidden), not as `cap`.
 */
export function exchange(
  port: number, data: Buffer,
  opts: { idle: number; cap: number; chunk?: number; delayMs?: number; owed?: (received: Buffer) => number; grace?: number },
): Promise<Exchange> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const got: Buffer[] = [];
    let closed: string | null = null;
    let sent = false;
    let done = false;
    let quiet: NodeJS.Timeout | undefined;
    const s = net.connect(port, '127.0.0.1');
    const finish = (why: Exchange['why']): void => {
      if (done) return;
      done = true;
      clearTimeout(quiet);
      clearTimeout(capTimer);
      s.destroy();
      resolve({ bytes: Buffer.concat(got), closed, why, ms: Date.now() - t0 });
    };
    let graceLeft = opts.grace ?? 0;
    const onQuiet = (): void => {
      // Never wait into the cap: a case that ends at the cap counts as a hang.
      const room = opts.cap - (Date.now() - t0) - opts.idle - 250;
      if (opts.owed !== undefined && graceLeft > 0 && room > 0 && opts.owed(Buffer.concat(got)) > 0) {
        const step = Math.min(graceLeft, opts.idle, room);
        graceLeft -= step;
        quiet = setTimeout(onQuiet, step);
        return;
      }
      finish('idle');
    };
    const rearm = (): void => {
      clearTimeout(quiet);
      if (sent) quiet = setTimeout(onQuiet, opts.idle);
    };
    const capTimer = setTimeout(finish, opts.cap, 'cap');
    s.on('connect', async () => {
      if (opts.chunk !== undefined) {
        for (let i = 0; i < data.length && !done; i += opts.chunk) {
          s.write(data.subarray(i, i + opts.chunk));
          await new Promise((r) => setTimeout(r, opts.delayMs ?? 1));
        }
      } else s.write(data);
      sent = true;
      rearm();
    });
    s.on('data', (d: Buffer) => { got.push(d); rearm(); });
    s.on('end', () => { closed ??= 'fin'; });
    s.on('error', (e: NodeJS.ErrnoException) => { closed ??= e.code ?? 'error'; finish('closed'); });
    s.on('close', () => { closed ??= 'close'; finish('closed'); });
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ------------------------------------------------------------------ responses

export interface Resp {
  status: number;
  origin: string | null;
  setCookies: string[];
  /** Offset of the status line and of the first body byte in the stream. */
  at: number;
  bodyAt: number;
}

/**
 * Splits what the client received into responses, following their framing
 * (Content-Length, chunked, no body for 1xx/204/304, 101 ends HTTP). A head
 * may end with CRLF CRLF or, from a lax origin, LF LF.
 */
export function splitResponses(buf: Buffer): Resp[] {
  const s = buf.toString('latin1');
  const out: Resp[] = [];
  const statusLine = /HTTP\/1\.[01] (\d{3})[^\r\n]*/g;
  let pos = 0;
  while (pos < s.length) {
    statusLine.lastIndex = pos;
    const m = statusLine.exec(s);
    if (m === null) break;
    const start = m.index;
    const crlf = s.indexOf('\r\n\r\n', start);
    const lf = s.indexOf('\n\n', start);
    let headEnd: number;
    let bodyAt: number;
    if (crlf !== -1 && (lf === -1 || crlf < lf)) { headEnd = crlf; bodyAt = crlf + 4; }
    else if (lf !== -1) { headEnd = lf; bodyAt = lf + 2; }
    else { headEnd = s.length; bodyAt = s.length; }
    const fields = s.slice(start, headEnd).split(/\r?\n/).slice(1);
    const field = (name: string): string => {
      const line = fields.find((f) => f.toLowerCase().startsWith(`${name}:`));
      return line === undefined ? '' : line.slice(name.length + 1).trim();
    };
    const status = Number(m[1]);
    out.push({
      status, origin: field('x-origin') || null, at: start, bodyAt,
      setCookies: fields.filter((f) => /^set-cookie:/i.test(f)).map((f) => f.slice(11).trim()),
    });
    if (status === 101) break;
    let next = bodyAt;
    if (status >= 200 && status !== 204 && status !== 304) {
      if (/chunked/i.test(field('transfer-encoding'))) next = skipChunked(s, bodyAt);
      else if (field('content-length') !== '') next = bodyAt + (Number(field('content-length')) || 0);
      else next = s.length;
    }
    pos = Math.max(next, start + 1);
  }
  return out;
}

function skipChunked(s: string, p: number): number {
  for (;;) {
    const eol = s.indexOf('\r\n', p);
    if (eol === -1) return s.length;
    const size = parseInt(s.slice(p, eol), 16);
    if (Number.isNaN(size)) return s.length;
    if (size === 0) {
      // Last chunk: an empty trailer section ends right away, else at the blank line.
      if (s.startsWith('\r\n', eol + 2)) return eol + 4;
      const end = s.indexOf('\r\n\r\n', eol);
      return end === -1 ? s.length : end + 4;
    }
    p = eol + 2 + size + 2;
  }
}

export function firstCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

// ------------------------------------------------------------------ judging requests

export interface CaseResult {
  id: string;
  kind: Kind;
  verdict: Verdict;
  notes: string[];
  summary: string;
  /** Version ids the proxy ejected while the case ran (a client must never be able to cause that). */
  ejected: string[];
}

const VICTIM = Buffer.from(`GET /victim HTTP/1.1\r\nHost: localhost\r\nCookie: ${COOKIE}=a\r\nConnection: close\r\n\r\n`);

/**
 * Runs one request case in a fresh world: the case's bytes, a pause for the
 * origins to log, then a victim request on a new connection, which must get
 * exactly its own response from origin a.
 */
export async function runRequestCase(c: RequestCase, timing: { idle: number; cap: number }, extra: Partial<ProxyOptions> = {}): Promise<CaseResult> {
  const world = await recordingWorld(extra);
  try {
    const data = withCookieName(caseBytes(c));
    // Owed: a response to every request an origin handled, and some answer
    // as long as none came: on a busy machine the proxy may not even have
    // forwarded the bytes when the idle wait runs out. A case the proxy
    // answers with silence on purpose pays the grace time, nothing more.
    const owed = (received: Buffer): number => {
      const handled = world.seen.filter((e) => e.kind === 'req').length;
      const finals = splitResponses(received).filter((x) => x.status >= 200).length;
      return Math.max(handled - finals, received.length === 0 ? 1 : 0);
    };
    const r = await exchange(world.port, data, { ...timing, chunk: c.send?.chunk, delayMs: c.send?.delayMs, owed, grace: 3000 });
    await sleep(150);
    const entries = world.seen.slice();
    const rawAtOrigin = Buffer.concat(world.raw);
    const before = world.seen.length;
    const v = await exchange(world.port, VICTIM, { idle: 1500, cap: 6000, owed: (got) => (got.length === 0 ? 1 : 0), grace: 3000 });
    await sleep(50);
    const vr = splitResponses(v.bytes);
    const body = v.bytes.toString('latin1');
    const victim = {
      ok: vr.length === 1 && vr[0]!.status === 200 && body.includes('"url":"/victim"') && body.includes('"origin":"a"'),
      status: vr.map((x) => x.status),
      seen: world.seen.slice(before).filter((e) => e.kind === 'req').map((e) => `${e.origin}${e.url}`),
    };
    return { ...judgeRequest(c, data, r, entries, rawAtOrigin, victim), ejected: world.ejected.slice() };
  } finally {
    await world.close();
  }
}

function judgeRequest(
  c: RequestCase, data: Buffer, r: Exchange, entries: Seen[], rawAtOrigin: Buffer,
  victim: { ok: boolean; status: number[]; seen: string[] },
): Omit<CaseResult, 'ejected'> {
  const reqs = entries.filter((e) => e.kind === 'req');
  const errs = entries.filter((e) => e.kind === 'err');
  const resps = splitResponses(r.bytes);
  const finals = resps.filter((x) => x.status >= 200);
  const smuggled = reqs.filter((e) => e.url === '/SMUGGLED');
  const forwarded = reqs.length > 0 || errs.length > 0;
  const notes: string[] = [];
  let verdict = 'PASS' as Verdict;
  const fail = (m: string): void => { verdict = 'FAIL'; notes.push(m); };
  const warn = (m: string): void => { if (verdict === 'PASS') verdict = 'WARN'; notes.push(m); };

  // Checks that hold for every case.
  if (!victim.ok) fail(`victim probe broken: got ${victim.status.join(',') || 'nothing'}, origins saw ${victim.seen.join(',') || 'nothing'}`);
  if (r.why === 'cap' && resps.length === 0) fail('hang: no response and no close');
  for (const x of resps) {
    if (x.status < 200 && x.status !== 101 && x.setCookies.length > 0) warn(`Set-Cookie on a ${x.status} interim response`);
    const names = x.setCookies.map((sc) => sc.split('=')[0]);
    if (new Set(names).size !== names.length) warn(`one response sets a cookie name twice: ${names.join(',')}`);
  }
  const h2 = data.subarray(0, 14).toString('latin1') === 'PRI * HTTP/2.0';
  if (h2 && r.bytes.length > 0 && r.bytes.subarray(0, 5).toString('latin1') !== 'HTTP/') warn('HTTP/2 preface answered in HTTP/2: requests on it bypass the HTTP/1 peek');
  const tunnel = h2 || resps.some((x) => x.status === 101);
  // A request the origin answered that the client never saw is a request
  // hidden from the proxy (its response went to the wrong place or nowhere).
  if (!tunnel && r.why !== 'cap' && finals.length < reqs.length) {
    fail(`origins handled ${reqs.length} request(s), the client got ${finals.length} final response(s)`);
  }

  const where = (): string => reqs.map((e) => `${e.origin}${e.url}`).concat(errs.map((e) => `${e.origin}!${e.code}`)).join(',');
  switch (c.expect.kind) {
    case 'reject':
      if (!forwarded) {
        if (finals.some((x) => x.status < 400)) fail(`proxy answered ${finals.map((x) => x.status).join(',')} itself`);
        else if (finals.length === 0 && r.closed === null) warn('no answer and the connection left open: the proxy waits for more bytes');
      } else if (verdict !== 'FAIL') {
        const headEnd = data.indexOf('\r\n\r\n');
        const verbatim = rawAtOrigin.includes(data.subarray(0, headEnd > 0 ? headEnd : data.length));
        if (smuggled.length > 0) warn('the embedded /SMUGGLED was a separate request for proxy and origin alike');
        else warn(`forwarded ${verbatim ? 'verbatim' : 're-framed'} -> ${where()}`);
      }
      break;
    case 'forward': {
      const want = c.expect.requests ?? 1;
      const real = reqs.filter((e) => e.url !== '/SMUGGLED');
      if (smuggled.length > 0) fail('/SMUGGLED reached an origin as a request');
      if (!forwarded && finals.length > 0 && finals[0]!.status >= 400) warn(`refused by the proxy (${finals[0]!.status}), a legal request`);
      else if (real.length !== want) fail(`origins handled ${real.length} request(s), expected ${want}`);
      else if (finals.length !== want) fail(`client got ${finals.length} final response(s), expected ${want}`);
      break;
    }
    case 'accept':
      if (!forwarded) warn(`not forwarded (${finals.map((x) => x.status).join(',') || r.why}); its source calls it valid`);
      else if (reqs.length === 0) warn(`forwarded; the origin refused it (${errs.map((e) => e.code).join(',')})`);
      break;
    case 'ambiguous':
      if (smuggled.length > 0 && verdict !== 'FAIL') warn('the embedded /SMUGGLED was a separate request');
      if (reqs.length > 0 && r.closed === null) warn('forwarded an ambiguous request and the connection stayed open');
      if (!forwarded && finals.length > 0 && finals[0]!.status < 400) fail(`proxy answered ${finals[0]!.status} itself`);
      break;
    case 'route': {
      const first = reqs[0];
      if (first !== undefined) {
        // The origin's reading of the head decides where it should have gone.
        const want = firstCookie(first.cookie, COOKIE) === 'b' ? 'b' : 'a';
        if (first.origin !== want) fail(`routed to ${first.origin}, but the origin read Cookie ${JSON.stringify(first.cookie)} (belongs on ${want})`);
        if (smuggled[0] === first) fail('the head the proxy peeked at was not the first request the origin saw');
      } else if (errs[0] !== undefined && errs[0].origin === 'b') {
        warn(`routed to b on a head origin b could not parse (${errs[0].code})`);
      }
      break;
    }
    case 'info':
      break;
  }
  if (c.id.includes('h2c') && reqs.some((e) => e.upgrade === 'h2c')) warn('Upgrade: h2c reached the origin');
  if (c.id.includes('ws-early-data') && !r.bytes.includes(data.subarray(-11))) warn('the early WebSocket frame did not come back through the proxy');

  const summary = `${resps.map((x) => `${x.status}${x.origin ? `@${x.origin}` : ''}${x.setCookies.length ? '+sc' : ''}`).join(' ') || '-'}`
    + ` | origins: ${where() || '-'} | ${r.why}${r.closed ? `/${r.closed}` : ''} ${r.ms}ms`;
  return { id: c.id, kind: c.expect.kind, verdict: c.expect.kind === 'info' && verdict === 'PASS' ? 'INFO' : verdict, notes, summary };
}

// ------------------------------------------------------------------ judging responses

/** Runs one response case: its request through the proxy to a canned origin. */
export async function runResponseCase(c: ResponseCase, all: readonly ResponseCase[], extra: Partial<ProxyOptions> = {}): Promise<CaseResult> {
  const world = await cannedWorld(all, extra);
  try {
    const req = Buffer.from(c.request.replace(/\{id\}/g, c.id).replace(/\{cookie\}/g, COOKIE), 'latin1');
    // As for request cases: while no final response came, a busy machine gets more time.
    const owed = (got: Buffer): number => (splitResponses(got).some((x) => x.status >= 200) ? 0 : 1);
    const r = await exchange(world.port, req, { idle: 800, cap: 6000, owed, grace: 3000 });
    return { ...judgeResponse(c, r), ejected: world.ejected.slice() };
  } finally {
    await world.close();
  }
}

/** Every status line with its header block, unframed: we want to see anything that ended up inside a body. */
function allHeads(s: string): Array<{ status: number; headEnd: number; setCookies: string[] }> {
  const out: Array<{ status: number; headEnd: number; setCookies: string[] }> = [];
  const re = /HTTP\/1\.[01] (\d{3})[^\r\n]*\r?\n/g;
  for (let m = re.exec(s); m !== null; m = re.exec(s)) {
    const crlf = s.indexOf('\r\n\r\n', m.index);
    const lf = s.indexOf('\n\n', m.index);
    const end = crlf !== -1 && (lf === -1 || crlf < lf) ? crlf : lf;
    const block = s.slice(m.index, end === -1 ? s.length : end);
    out.push({ status: Number(m[1]), headEnd: end, setCookies: block.split(/\r?\n/).filter((l) => /^set-cookie:/i.test(l)) });
  }
  return out;
}

function judgeResponse(c: ResponseCase, r: Exchange): Omit<CaseResult, 'ejected'> {
  const s = r.bytes.toString('latin1');
  const heads = allHeads(s);
  const finals = heads.filter((h) => h.status >= 200);
  const ours = (h: { setCookies: string[] }): string[] => h.setCookies.filter((l) => new RegExp(`^set-cookie:\\s*${COOKIE}=`, 'i').test(l));
  const notes: string[] = [];
  let verdict = 'PASS' as Verdict;
  const fail = (m: string): void => { verdict = 'FAIL'; notes.push(m); };
  const warn = (m: string): void => { if (verdict === 'PASS') verdict = 'WARN'; notes.push(m); };
  const f0 = finals[0];
  if (f0 === undefined) fail(`no final response (${r.why})`);
  if (f0 !== undefined && ours(f0).length === 0 && c.expect.cookieOnFinal !== false) fail('our Set-Cookie is missing from the first final response');
  for (const h of heads) if (h.status < 200 && h.status !== 101 && ours(h).length > 0) warn(`our Set-Cookie on a ${h.status} interim response`);
  if (f0 !== undefined && ours(f0).length > 1) warn('our Set-Cookie twice on one response');
  if (c.expect.body !== undefined && !s.includes(c.expect.body)) fail(`body "${c.expect.body}" not delivered intact`);
  if (c.expect.bodyHasNoSetCookie) {
    const bodyAt = f0 !== undefined && f0.headEnd > 0 ? f0.headEnd : s.length;
    const body = s.slice(bodyAt).replace(/^\s+/, '');
    if (/set-cookie/i.test(body) && !/set-cookie/i.test(c.expect.body ?? '')) fail('a Set-Cookie line ended up inside a body');
  }
  if (c.expect.finals !== undefined && finals.length !== c.expect.finals) fail(`${finals.length} final responses, expected ${c.expect.finals}`);
  for (const k of c.expect.keepsBackendCookies ?? []) if (!s.includes(k)) fail(`backend cookie "${k}" lost or altered`);
  if (c.expect.rejectOk && f0 !== undefined && f0.status >= 500) {
    // Refusing a malformed response outright is always acceptable.
    verdict = 'PASS';
    notes.length = 0;
    notes.push(`proxy refused the malformed response (${f0.status})`);
  }
  const summary = `${heads.map((h) => `${h.status}${ours(h).length ? '+sc' : ''}`).join(' ') || '-'} (${r.why})`;
  return { id: c.id, kind: 'info', verdict, notes, summary };
}

// ------------------------------------------------------------------ running many

/** Runs `fn` over `items`, at most `width` at a time, keeping the input order in the result. */
export async function inBatches<T, R>(items: readonly T[], width: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
  return out;
}

export function counts(results: readonly CaseResult[]): Record<Verdict, number> {
  const n: Record<Verdict, number> = { PASS: 0, FAIL: 0, WARN: 0, INFO: 0 };
  for (const r of results) n[r.verdict]++;
  return n;
}

export function line(r: CaseResult): string {
  const ej = r.ejected.length ? ` | ejected: ${r.ejected.join(',')}` : '';
  return `${r.verdict.padEnd(4)} ${r.id.padEnd(28)} ${r.summary}${ej}${r.notes.length ? `\n       ${r.notes.join('; ')}` : ''}`;
}
