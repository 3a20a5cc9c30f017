import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { Etcd3 } from 'etcd3';
import { freePort, until } from '../../helpers/net.js';
import { startBinary, writeJson, type Running } from '../helpers.js';

/**
 * The etcd tests run a real etcd (Debian's `etcd-server`, `/usr/bin/etcd`,
 * or `ETCD_BIN`) on free ports with a temp data dir, killed by its PID.
 * Without one a file plans nothing and says so, unless CI or
 * UPSHIFT_REQUIRE_ETCD=1 (which .ci/run sets): then that is a failure.
 */

type Tap = { fail(msg: string): void; comment(...msg: unknown[]): void; plan(n: number): void; teardown(fn: () => unknown): void };

export function etcdBinary(): string | undefined {
  const candidates = [process.env['ETCD_BIN'], '/usr/bin/etcd', '/usr/local/bin/etcd'].filter((p): p is string => p !== undefined && p !== '');
  return candidates.find((p) => existsSync(p));
}

/** The etcd binary, or undefined after failing (CI, UPSHIFT_REQUIRE_ETCD=1) or planning nothing (elsewhere). */
export function etcdOrExplain(t: Tap): string | undefined {
  const bin = etcdBinary();
  if (bin !== undefined) return bin;
  const msg = 'no etcd binary (install Debian\'s etcd-server, or set ETCD_BIN)';
  if (process.env['CI'] === 'true' || process.env['UPSHIFT_REQUIRE_ETCD'] === '1') t.fail(`${msg}: CI must provide etcd`);
  else {
    t.comment(`etcd tests not run: ${msg}`);
    t.plan(0);
  }
  return undefined;
}

export interface EtcdServer {
  endpoint: string;
  /** Starts it again on the same ports and data (after `kill`). */
  start(): Promise<void>;
  /** Sends `signal` (default SIGKILL) to its PID and waits for it to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** A client for the test's own reads, writes and compactions. */
  client: Etcd3;
}

/** An etcd serving its clients over TLS: its certificate and key, and the CA of the client certificates it asks for (`clientCA`). */
export interface EtcdTls {
  ca: string;
  cert: string;
  key: string;
  /** Client certificates are required, signed by this CA. */
  clientCA?: string;
  /** The certificate the test's own calls present (with `clientCA`). */
  client?: { cert: string; key: string };
}

function healthy(port: number, tls: EtcdTls | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    const opts = { host: '127.0.0.1', port, path: '/health', agent: false, timeout: 1000 };
    const get = tls === undefined
      ? (cb: (res: http.IncomingMessage) => void) => http.get(opts, cb)
      : (cb: (res: http.IncomingMessage) => void) => https.get({ ...opts, ca: readFileSync(tls.ca), ...(tls.client ? { cert: readFileSync(tls.client.cert), key: readFileSync(tls.client.key) } : {}) }, cb);
    const req = get((res) => {
      let text = '';
      res.on('data', (d: Buffer) => { text += d.toString(); });
      res.on('end', () => resolve(res.statusCode === 200 && text.includes('true')));
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
  });
}

/** Starts an etcd of its own; it is killed when the test ends. `extra` are more flags; with `tls` it serves its clients over TLS only. */
export async function startEtcd(t: Tap, bin: string, extra: string[] = [], tls?: EtcdTls): Promise<EtcdServer> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'upshift-etcd-'));
  const clientPort = await freePort();
  const peerPort = await freePort();
  const endpoint = `${tls === undefined ? 'http' : 'https'}://127.0.0.1:${clientPort}`;
  const tlsArgs = tls === undefined ? [] : [
    '--cert-file', tls.cert, '--key-file', tls.key,
    ...(tls.clientCA !== undefined ? ['--client-cert-auth', '--trusted-ca-file', tls.clientCA] : []),
  ];
  let child: ChildProcess | undefined;
  const args = [
    '--name', 'test', '--data-dir', dir,
    '--listen-client-urls', endpoint, '--advertise-client-urls', endpoint,
    '--listen-peer-urls', `http://127.0.0.1:${peerPort}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${peerPort}`,
    '--initial-cluster', `test=http://127.0.0.1:${peerPort}`, '--log-level', 'error', ...tlsArgs, ...extra,
  ];
  const server: EtcdServer = {
    endpoint,
    client: new Etcd3({
      hosts: endpoint,
      ...(tls !== undefined ? { credentials: { rootCertificate: readFileSync(tls.ca), ...(tls.client ? { certChain: readFileSync(tls.client.cert), privateKey: readFileSync(tls.client.key) } : {}) } } : {}),
    }),
    async start() {
      child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr!.on('data', (d: Buffer) => { err = (err + d.toString()).slice(-4000); });
      if (!(await until(() => healthy(clientPort, tls), 20_000, 100))) throw new Error(`etcd did not start: ${err}`);
    },
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      const c = child;
      if (c === undefined || c.exitCode !== null || c.signalCode !== null) return;
      const exited = new Promise((r) => c.once('exit', r));
      process.kill(c.pid!, signal);
      await exited;
    },
  };
  t.teardown(async () => {
    server.client.close();
    await server.kill();
    rmSync(dir, { recursive: true, force: true });
  });
  await server.start();
  return server;
}

export interface Host extends Running {
  id: string;
  configFile: string;
}

/** The config of one host of a fleet sharing `prefix` in `etcd`. */
export function hostConfig(etcd: EtcdServer, prefix: string, id: string, backendPort: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    proxy: { port: 0, host: '127.0.0.1' },
    configService: { port: 0 },
    sidecarId: id,
    logLevel: 'info',
    store: { etcd: { endpoints: [etcd.endpoint], prefix } },
    cluster: { uuid: 'v1', version: '1.0.0', servers: [{ hostname: '127.0.0.1', port: backendPort }] },
    ...extra,
  };
}

/** Starts one host: the real CLI binary, its state file (the cache) in `dir`. */
export async function startHost(t: Tap, dir: string, id: string, cfg: Record<string, unknown>): Promise<Host> {
  const configFile = writeJson(dir, `${id}.json`, cfg);
  const running = await startBinary(t, ['--config', configFile, '--state', path.join(dir, `${id}.state.json`)]);
  return { ...running, id, configFile };
}

/** Starts `n` hosts (host-a, host-b, …) one after the other: the first seeds the routing. */
export async function startFleet(t: Tap, etcd: EtcdServer, n: number, backendPort: number, extra: Record<string, unknown> = {}): Promise<{ hosts: Host[]; dir: string; prefix: string }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'upshift-fleet-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const prefix = `/upshift/test-${process.pid}-${Math.random().toString(36).slice(2, 8)}/`;
  const hosts: Host[] = [];
  for (let i = 0; i < n; i++) {
    const id = `host-${String.fromCharCode(97 + i)}`;
    hosts.push(await startHost(t, dir, id, hostConfig(etcd, prefix, id, backendPort, extra)));
  }
  return { hosts, dir, prefix };
}

/** The body a host's proxy answers to a fresh GET (`ERR <code>` when the request fails). */
export async function answer(host: Running, cookie?: string): Promise<string> {
  const { get } = await import('../../helpers/net.js');
  try {
    const r = await get(host.proxyPort, cookie === undefined ? {} : { cookie });
    return r.status === 200 ? r.body : `HTTP ${r.status}`;
  } catch (err) {
    return `ERR ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
  }
}

/** Polls until every host answers `body`; resolves with the ms it took, or -1 after `ms`. */
export async function allAnswer(hosts: Running[], body: string, ms = 5000): Promise<number> {
  const start = performance.now();
  const ok = await until(async () => (await Promise.all(hosts.map((h) => answer(h)))).every((b) => b === body), ms, 5);
  return ok ? performance.now() - start : -1;
}

export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
