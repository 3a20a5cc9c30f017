import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The built binary, as `npm test` leaves it (scripts/test.mjs builds dist/ first). */
export const BIN = fileURLToPath(new URL('../../dist/sidecar/bin.js', import.meta.url));

export function tmpDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'upshift-test-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function writeJson(dir: string, name: string, value: unknown): string {
  const file = path.join(dir, name);
  writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value));
  return file;
}

/** A minimal valid config: proxy and config API on free ports of 127.0.0.1. */
export function config(backendPort: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    proxy: { port: 0, host: '127.0.0.1' },
    configService: { port: 0 },
    cluster: { uuid: 'v1', version: '1.0.0', servers: [{ hostname: '127.0.0.1', port: backendPort }] },
    ...extra,
  };
}

export interface Running {
  child: ChildProcess;
  proxyPort: number;
  apiPort: number;
  apiHost: string;
  /** Every stderr line so far (pino JSON). */
  logs: string[];
  stdout: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Spawns `upshift <args>` and resolves once its "started" log line names its ports.
 * `fdLimit` runs it under `ulimit -n`, which sets the soft and the hard limit, so
 * the process cannot raise it again.
 */
export function startBinary(
  t: { teardown(fn: () => void | Promise<void>): void }, args: string[], env: Record<string, string> = {}, opts: { fdLimit?: number } = {},
): Promise<Running> {
  const command = opts.fdLimit === undefined
    ? [process.execPath, BIN, ...args]
    : ['sh', '-c', `ulimit -n ${opts.fdLimit} && exec "$0" "$@"`, process.execPath, BIN, ...args];
  const child = spawn(command[0]!, command.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  const logs: string[] = [];
  const stdout: string[] = [];
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  lines(child.stdout!, (l) => stdout.push(l));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`sidecar did not start; stderr:\n${logs.join('\n')}`)), 60_000);
    lines(child.stderr!, (l) => {
      logs.push(l);
      try {
        const j = JSON.parse(l) as { event?: string; proxy?: { port: number }; api?: { host: string; port: number } };
        if (j.event === 'started') {
          clearTimeout(timer);
          resolve({ child, proxyPort: j.proxy!.port, apiPort: j.api!.port, apiHost: j.api!.host, logs, stdout, exited });
        }
      } catch { /* not JSON: an error line, kept in logs */ }
    });
    void exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`sidecar exited with ${code} before starting; stderr:\n${logs.join('\n')}`));
    });
  });
}

/** Runs `upshift <args>` to completion. */
export function runBinary(args: string[], env: Record<string, string> = {}, timeoutMs = 60_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function lines(stream: NodeJS.ReadableStream, fn: (line: string) => void): void {
  let buf = '';
  stream.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) !== -1) {
      fn(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
    }
  });
}

export interface ApiReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json: any;
}

/** One request to a config API (fresh connection each time). */
export function api(port: number, method: string, path: string, body?: string | object, headers: Record<string, string> = {}): Promise<ApiReply> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const req = http.request({ host: '127.0.0.1', port, method, path, headers: { ...headers, ...(data !== undefined ? { 'content-length': String(Buffer.byteLength(data)) } : {}) }, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { text += d; });
      res.on('end', () => {
        let json: unknown;
        try { json = JSON.parse(text); } catch { json = undefined; }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    req.end(data);
  });
}
