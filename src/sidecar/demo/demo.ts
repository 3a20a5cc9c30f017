import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { startSidecar, type Sidecar } from '../sidecar.js';

interface App { name: string; port: number; pid: number; child: ChildProcess }

/** Starts one demo app version in a child process and waits for its address. */
function startApp(name: string): Promise<App> {
  const script = fileURLToPath(new URL('./app.js', import.meta.url));
  const child = spawn(process.execPath, [script, name], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (d: Buffer): void => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl === -1) return;
      child.stdout!.off('data', onData);
      const info = JSON.parse(buf.slice(0, nl)) as { port: number; pid: number };
      resolve({ name, port: info.port, pid: info.pid, child });
    };
    child.stdout!.on('data', onData);
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`demo app ${name} exited (${code}) before listening`)));
  });
}

/** `preferred` when it is free on 127.0.0.1, else 0 (the sidecar picks one). */
function portOr0(preferred: number): Promise<number> {
  if (preferred === 0) return Promise.resolve(0);
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(0));
    s.listen(preferred, '127.0.0.1', () => s.close(() => resolve(preferred)));
  });
}

/**
 * The README's demo: two app versions (v1 routed, v2 running but not yet
 * added), a sidecar in front of them with a state file in a temp dir, and
 * the curl commands that walk through INSTANT, SESSION, GRADUAL and a
 * rollback. Runs until Ctrl-C.
 */
export async function runDemo(opts: { proxyPort?: number; apiPort?: number } = {}): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'upshift-demo-'));
  const apps: App[] = [];
  let sidecar: Sidecar | undefined;
  let stopping = false;
  const cleanup = async (): Promise<void> => {
    await sidecar?.close({ drainTimeout: 0 }).catch(() => {});
    // The apps are waited for, so nothing of the demo outlives it.
    await Promise.all(apps.map((a) => new Promise<void>((resolve) => {
      if (a.child.exitCode !== null || a.child.signalCode !== null) return resolve();
      const timer = setTimeout(() => { a.child.kill('SIGKILL'); }, 2000);
      a.child.once('exit', () => { clearTimeout(timer); resolve(); });
      a.child.kill('SIGTERM');
    })));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    apps.push(await startApp('v1'), await startApp('v2'));
    const [v1, v2] = apps as [App, App];
    const config = {
      proxy: { port: await portOr0(opts.proxyPort ?? 8080), host: '127.0.0.1' },
      configService: { port: await portOr0(opts.apiPort ?? 9090) },
      cluster: { uuid: 'v1', version: '1.0.0', servers: [{ hostname: '127.0.0.1', port: v1.port }], upgradeTransition: { mode: 'INSTANT' } },
      stateFile: path.join(dir, 'state.json'),
      drainTimeout: 1000,
      logLevel: 'info',
    };
    writeFileSync(path.join(dir, 'upshift.json'), JSON.stringify(config, null, 2) + '\n');
    const logFile = path.join(dir, 'upshift.log');
    sidecar = await startSidecar(config, { logStream: pino.destination({ dest: logFile, sync: true }) });
    for (const a of apps) {
      a.child.once('exit', () => { if (!stopping) process.stdout.write(`\n[demo] app ${a.name} (pid ${a.pid}) stopped\n`); });
    }
    const P = `http://127.0.0.1:${sidecar.proxyAddress.port}`;
    const A = `http://127.0.0.1:${sidecar.apiAddress.port}`;
    const v2Cluster = JSON.stringify({ cluster: { uuid: 'v2', version: '2.0.0', servers: [{ hostname: '127.0.0.1', port: v2.port }], upgradeTransition: { mode: 'INSTANT' } } });
    // The README's form of the CLI: it works from the clone after npm install (npm link puts upshift on the PATH).
    const status = `npx upshift status --api ${A}`;
    const patch = (t: object): string => `curl -s -X PATCH ${A}/configuration/cluster/v2 -d '${JSON.stringify({ cluster: { upgradeTransition: t } })}'`;
    process.stdout.write(`demo: proxy ${P} config-api ${A} v1-pid ${v1.pid} v2-pid ${v2.pid}

upshift demo is running.
  proxy        ${P}   (clients connect here)
  config API   ${A}
  app v1       pid ${v1.pid} on 127.0.0.1:${v1.port}   (routed)
  app v2       pid ${v2.pid} on 127.0.0.1:${v2.port}   (running, not routed yet)
  config       ${path.join(dir, 'upshift.json')}
  logs         ${logFile}   (JSON lines; tail -f it in another terminal)

1. Only v1 is configured:
     curl -s ${P}/

2. INSTANT: add v2; every new client goes to the newest version.
     curl -s -X PUT ${A}/configuration/cluster -d '${v2Cluster}'
     curl -s ${P}/

3. SESSION: new clients get v2 and a session cookie; a client whose session is on v1 stays there.
     ${patch({ mode: 'SESSION', sessionTimeout: 300 })}
     curl -si ${P}/ | grep -i -e set-cookie -e hello
     curl -s -b dynsoftup=v1 ${P}/

4. GRADUAL: 30% of clients on v2, growing by one point for each good v2 answer.
     ${patch({ mode: 'GRADUAL', initialPercentage: 30, percentageTransitionPerRequest: 1 })}
     for i in $(seq 20); do curl -s ${P}/; done | sort | uniq -c
     ${status}       (v2's share and its GRADUAL percentage)

5. Rollback: stop v2's process; clients fall back to v1 without seeing an error.
     kill ${v2.pid}
     for i in $(seq 10); do curl -s ${P}/; done | sort | uniq -c
     ${status}       (v2 "down", its server ejected or probing; v1 has a share of 100)
   The sidecar checks every server with a TCP connect every 2 s, so v2 is "down"
   within 2 s of the kill even if no client asked.

   The same as JSON: curl -s ${A}/status      Prometheus metrics: curl -s ${A}/metrics | grep '^upshift_'
   Press Ctrl-C to stop the demo.
`);
  } catch (err) {
    await cleanup();
    process.stderr.write(`upshift demo: ${(err as Error).message}\n`);
    process.exit(1);
  }
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    void cleanup().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
