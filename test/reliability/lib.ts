/**
 * Shared pieces of the reliability scenarios: backends and upshift in child
 * processes (killable, measurable), a bounded load generator, and the
 * figures each scenario reports to scripts/reliability.mjs.
 *
 * A client-visible error, everywhere in this suite, is a request that did not
 * end in a complete response with status 200 from a backend: a refused or
 * reset connection, no complete response within 5 s, a status the proxy
 * generated (502, 503, 504, ...), or a body cut short of its Content-Length.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { appendFileSync, readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import type { ProxyOptions } from '../../src/core/index.js';

/** `ci` (the default, sized for CI on 2 cores) or `soak`. */
export const PROFILE = process.env['RELIABILITY_PROFILE'] === 'soak' ? 'soak' : 'ci';

const here = (f: string): string => fileURLToPath(new URL(f, import.meta.url));

// ------------------------------------------------------------------ figures

export interface Figure {
  scenario: string;
  /** Requests sent while the scenario held load, and how many were client-visible errors. */
  requests?: number;
  errors?: number;
  /** Faults injected and survived, e.g. "4/4 SIGKILLs". */
  faults?: string;
  /** Hostile inputs tried, e.g. "10000 fuzzed heads". */
  inputs?: string;
  /** What was lost (connections, fds, versions), "none" when nothing. */
  lost?: string;
  /** Anything else worth a line: timings, counts. */
  notes?: string;
}

/** Records a scenario's figures for the runner's table (and in the TAP output). */
export function figure(t: { comment(...a: unknown[]): void }, f: Figure): void {
  t.comment(`FIGURE ${JSON.stringify(f)}`);
  const out = process.env['RELIABILITY_FIGURES'];
  if (out) appendFileSync(out, `${JSON.stringify(f)}\n`);
}

// ------------------------------------------------------------------ children

export interface Child {
  proc: ChildProcess;
  port: number;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  alive(): boolean;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

function startChild(script: string, args: string[], env: Record<string, string>, execArgv: string[] = []): Promise<Child> {
  const proc = fork(here(script), args, { env: { ...process.env, ...env }, execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
  const alive = (): boolean => proc.exitCode === null && proc.signalCode === null;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} did not start`)), 15_000);
    proc.on('message', function onReady(m: { port?: number }) {
      if (typeof m?.port !== 'number') return;
      clearTimeout(timer);
      proc.off('message', onReady);
      resolve({
        proc, port: m.port, exited, alive,
        kill: async (signal: NodeJS.Signals = 'SIGKILL') => { if (alive()) { proc.kill(signal); await exited; } },
      });
    });
    void exited.then(({ code, signal }) => { clearTimeout(timer); reject(new Error(`${script} exited (${code ?? signal}) before it listened`)); });
  });
}

/** A backend process: `answer` (replies its name), `flaky` (the same, with 1 % random 500s), `hang` (never answers) or `stall` (head, then nothing). */
export function startBackend(name: string, behaviour: 'answer' | 'flaky' | 'hang' | 'stall' = 'answer', port = 0): Promise<Child> {
  return startChild('backend-child.mjs', [name, behaviour, String(port)], {});
}

export interface ProxyChild extends Child {
  call<T = any>(op: string, args?: Record<string, unknown>): Promise<T>;
  /** Open fds and RSS read from /proc/<pid> (not by the child itself), after a GC in the child. */
  /** `external`: memory outside the JS heap held by JS objects (Buffers among them), after the GC. */
  usage(): Promise<{ fds: number; rss: number; heapUsed: number; external: number; connections: number }>;
}

/**
 * upshift (built library) in a child process started with --expose-gc; in
 * stream mode, which the scenarios describe, unless `options.mode` says otherwise.
 */
export async function startProxy(options: ProxyOptions): Promise<ProxyChild> {
  const c = await startChild('proxy-child.mjs', [], { UPSHIFT_OPTIONS: JSON.stringify({ host: '127.0.0.1', port: 0, mode: 'stream', ...options }) }, ['--expose-gc']);
  let nextId = 1;
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  c.proc.on('message', (m: { id?: number; ok?: boolean; result?: unknown; error?: { code?: string; message: string } }) => {
    if (m.id === undefined) return;
    const p = pending.get(m.id);
    pending.delete(m.id);
    if (m.ok) p?.resolve(m.result);
    else p?.reject(Object.assign(new Error(m.error?.message ?? 'failed'), { code: m.error?.code }));
  });
  void c.exited.then(() => { for (const p of pending.values()) p.reject(new Error('proxy process exited')); pending.clear(); });
  const call = <T>(op: string, args: Record<string, unknown> = {}): Promise<T> => new Promise((resolve, reject) => {
    const id = nextId++;
    pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
    c.proc.send({ id, op, ...args });
  });
  const usage = async (): Promise<{ fds: number; rss: number; heapUsed: number; external: number; connections: number }> => {
    const inner = await call<{ heapUsed: number; external: number; connections: number }>('usage');
    const pid = c.proc.pid!;
    const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    return { fds: readdirSync(`/proc/${pid}/fd`).length, rss: rssKiB * 1024, heapUsed: inner.heapUsed, external: inner.external, connections: inner.connections };
  };
  return { ...c, call, usage };
}

export function server(port: number): { hostname: string; port: number } {
  return { hostname: '127.0.0.1', port };
}

// ------------------------------------------------------------------ load

export interface Sample {
  /** ms since the load started. */
  start: number;
  end: number;
  ok: boolean;
  status: number;
  /** X-Backend of the response, '' when none. */
  by: string;
  error?: string;
}

export interface LoadOptions {
  port: number;
  connections: number;
  /** Keep going while this returns true. */
  running(): boolean;
  /** Per-request extras (cookie, method). */
  request?(worker: number, n: number): { method?: string; path?: string; headers?: Record<string, string>; body?: string };
  /** Give up on one request after this many ms. Default 5000. */
  timeout?: number;
}

/**
 * `connections` workers, each sending one request at a time on a fresh
 * connection (`Connection: close`): stream mode routes per connection, so
 * every request is a new routing decision.
 */
export async function load(o: LoadOptions): Promise<{ t0: number; samples: Sample[] }> {
  const t0 = Date.now();
  const samples: Sample[] = [];
  await Promise.all(Array.from({ length: o.connections }, async (_, w) => {
    for (let n = 0; o.running(); n++) samples.push(await request(o.port, { ...(o.request?.(w, n) ?? {}), timeout: o.timeout }, t0));
  }));
  return { t0, samples };
}

/** One request on a fresh connection; times are ms since `t0`. */
export function request(
  port: number,
  extra: { method?: string; path?: string; headers?: Record<string, string>; body?: string; timeout?: number } = {},
  t0 = Date.now(),
): Promise<Sample> {
  return new Promise((resolve) => {
    const start = Date.now() - t0;
    let settled = false;
    const done = (s: Omit<Sample, 'start' | 'end'>): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ start, end: Date.now() - t0, ...s });
    };
    const req = http.request({
      host: '127.0.0.1', port, method: extra.method ?? 'GET', path: extra.path ?? '/', agent: false,
      headers: { connection: 'close', ...(extra.headers ?? {}) },
    }, (res) => {
      const want = Number(res.headers['content-length'] ?? -1);
      let got = 0;
      res.on('data', (d: Buffer) => { got += d.length; });
      res.on('end', () => {
        const by = String(res.headers['x-backend'] ?? '');
        const complete = want < 0 || got === want;
        done({ ok: res.statusCode === 200 && by !== '' && complete, status: res.statusCode ?? 0, by, error: complete ? undefined : 'truncated' });
      });
      // A response cut mid-body: the head arrived, the rest did not.
      res.on('aborted', () => done({ ok: false, status: res.statusCode ?? 0, by: String(res.headers['x-backend'] ?? ''), error: 'truncated' }));
      res.on('error', () => done({ ok: false, status: res.statusCode ?? 0, by: String(res.headers['x-backend'] ?? ''), error: 'truncated' }));
    });
    const timer = setTimeout(() => { req.destroy(); done({ ok: false, status: 0, by: '', error: 'timeout' }); }, extra.timeout ?? 5000);
    req.on('error', (e: NodeJS.ErrnoException) => done({ ok: false, status: 0, by: '', error: e.code ?? e.message }));
    req.end(extra.body);
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` until true or `ms` pass; returns the last value. */
export async function until(fn: () => boolean | Promise<boolean>, ms: number, step = 25): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return true;
    await sleep(step);
  }
  return fn();
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

export function errorKinds(samples: readonly Sample[]): string {
  const m = new Map<string, number>();
  for (const s of samples) if (!s.ok) { const k = s.error ?? String(s.status); m.set(k, (m.get(k) ?? 0) + 1); }
  return [...m].map(([k, n]) => `${k}:${n}`).join(' ') || 'none';
}
