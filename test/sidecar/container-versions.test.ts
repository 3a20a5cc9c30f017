import { EventEmitter } from 'node:events';
import t from 'tap';
import type { Test } from 'tap';
import { InvalidVersionError, type ServerAddress } from '../../src/core/index.js';
import { startSidecar, type Launcher, type LaunchProgress, type LaunchSpec } from '../../src/sidecar/index.js';
import { backend, get, until, type Backend } from '../helpers/net.js';
import { api, tmpDir } from './helpers.js';

/**
 * A launcher whose "containers" are real HTTP backends on 127.0.0.1, started
 * when a test opens the gate: it exercises the sidecar's wiring (202 at once,
 * progress, ready, died, stop, reconcile) without Docker.
 */
class FakeLauncher extends EventEmitter implements Launcher {
  readonly launched: string[] = [];
  readonly stopped: string[] = [];
  reconciled: LaunchSpec[] | undefined;
  running = new Map<string, ServerAddress[]>();
  readonly backends = new Map<string, Backend>();
  private gates = new Map<string, () => void>();

  validate(containers: unknown, field: string): unknown {
    const c = containers as { app?: unknown; environment?: unknown } | null;
    if (typeof c !== 'object' || c === null || typeof c.app !== 'string') throw new InvalidVersionError(`${field}.app`, 'is required (a name)');
    return c.environment === undefined ? { app: c.app, normalized: true } : { app: c.app, normalized: true, environment: c.environment };
  }

  /** Lets the launch of `uuid` finish. */
  open(uuid: string): void {
    const g = this.gates.get(uuid);
    if (g) g();
    else this.gates.set(uuid, () => {});
  }

  async launch(spec: LaunchSpec, onProgress: (p: LaunchProgress) => void): Promise<ServerAddress[]> {
    this.launched.push(spec.uuid);
    onProgress({ state: 'starting', message: 'creating container' });
    if (!this.gates.has(spec.uuid)) await new Promise<void>((r) => this.gates.set(spec.uuid, r));
    const app = (spec.containers as { app: string }).app;
    if (app === 'broken') throw new Error('image broken:latest not found');
    const b = await backend(app);
    this.backends.set(spec.uuid, b);
    return [{ hostname: '127.0.0.1', port: b.port }];
  }

  async stop(uuid: string): Promise<void> {
    this.stopped.push(uuid);
    await this.backends.get(uuid)?.close();
  }

  async reconcile(specs: LaunchSpec[]): Promise<Map<string, ServerAddress[]>> {
    this.reconciled = specs;
    return this.running;
  }

  /** Like Docker's, closing the launcher leaves its containers running (the next start adopts them). */
  async close(): Promise<void> {}

  async destroyAll(): Promise<void> {
    for (const b of this.backends.values()) await b.close();
  }
}

const base = (v1Port: number, stateFile?: string) => ({
  proxy: { port: 0, host: '127.0.0.1' }, configService: { port: 0 }, logLevel: 'silent', drainTimeout: 200,
  cluster: { uuid: 'v1', version: '1.0', servers: [{ hostname: '127.0.0.1', port: v1Port }] },
  ...(stateFile ? { stateFile } : {}),
});

/** v1 on a real backend, a fake launcher and a sidecar using it (optionally with a state file), all closed at the end. */
async function withLauncher(t: Test, stateFile?: string, before: (launcher: FakeLauncher) => void = () => {}) {
  const v1 = await backend('v1');
  t.teardown(() => v1.close());
  const launcher = new FakeLauncher();
  t.teardown(() => launcher.destroyAll());
  before(launcher);
  const sc = await startSidecar(base(v1.port, stateFile), { launcher });
  t.teardown(() => sc.close({ drainTimeout: 0 }));
  return { launcher, sc };
}

t.test('a containers version: 202 at once, starting, ready, routed; died falls back; DELETE drains then stops', async (t) => {
  const { launcher, sc } = await withLauncher(t);
  const A = sc.apiAddress.port;
  const P = sc.proxyAddress.port;
  t.same(launcher.reconciled, [], 'reconcile runs at startup');

  const put = await api(A, 'PUT', '/configuration/cluster', { cluster: { uuid: 'v2', version: '2.0', containers: { app: 'v2' } } });
  t.equal(put.status, 202, 'answered while the container is still starting');
  const starting = await api(A, 'GET', '/configuration/cluster/v2');
  t.equal(starting.json.cluster.launch.state, 'starting');
  t.equal(starting.json.cluster.launch.message, 'creating container', 'progress messages are shown');
  t.same(starting.json.cluster.containers, { app: 'v2', normalized: true }, 'the launcher\'s normalized containers');
  t.same(starting.json.cluster.servers, []);
  t.equal((await get(P)).body, 'v1', 'a starting version gets no traffic');
  const st = await api(A, 'GET', '/status');
  t.equal(st.json.versions[0].state, 'down');
  t.equal(st.json.versions[0].launch.state, 'starting', '/status shows the progress too');

  launcher.open('v2');
  t.ok(await until(async () => (await api(A, 'GET', '/configuration/cluster/v2')).json.cluster.launch.state === 'ready'), 'ready');
  t.equal((await api(A, 'GET', '/configuration/cluster/v2')).json.cluster.servers.length, 1, 'servers filled in');
  t.equal((await get(P)).body, 'v2', 'routed once ready');

  // The backend still listens: only emptying the version's servers can move traffic back this fast.
  launcher.emit('died', 'v2', 'exited with code 137');
  const died = await api(A, 'GET', '/configuration/cluster/v2');
  t.equal(died.json.cluster.launch.state, 'failed');
  t.equal(died.json.cluster.launch.message, 'container died: exited with code 137');
  t.equal((await get(P)).body, 'v1', 'traffic falls back at once');
  t.equal((await api(A, 'GET', '/status')).json.versions[0].state, 'down');

  t.equal((await api(A, 'DELETE', '/configuration/cluster/v2')).status, 202);
  t.ok(await until(() => launcher.stopped.includes('v2')), 'containers stopped after the drain');
  t.equal((await api(A, 'GET', '/configuration/cluster/v2')).status, 404);
});

t.test('a launch that fails says why and leaves traffic where it was', async (t) => {
  const dir = tmpDir(t);
  const { launcher, sc } = await withLauncher(t, `${dir}/state.json`, (l) => l.open('bad'));
  t.equal((await api(sc.apiAddress.port, 'PUT', '/configuration/cluster', { cluster: { uuid: 'bad', version: '2.0', containers: { app: 'broken' } } })).status, 202);
  t.ok(await until(async () => (await api(sc.apiAddress.port, 'GET', '/configuration/cluster/bad')).json.cluster.launch.state === 'failed'), 'failed');
  t.equal((await api(sc.apiAddress.port, 'GET', '/configuration/cluster/bad')).json.cluster.launch.message, 'image broken:latest not found');
  t.equal((await get(sc.proxyAddress.port)).body, 'v1');

  // Environment values are secrets: the API shows names only, the state file (0600) keeps the values to launch again.
  launcher.open('env');
  t.equal((await api(sc.apiAddress.port, 'PUT', '/configuration/cluster', { cluster: { uuid: 'env', version: '3.0', containers: { app: 'env', environment: [['DB_PASSWORD', 'hunter2'], ['MODE', 'x']] } } })).status, 202);
  const shown = await api(sc.apiAddress.port, 'GET', '/configuration/cluster/env');
  t.same(shown.json.cluster.containers.environment, [['DB_PASSWORD', '(hidden)'], ['MODE', '(hidden)']]);
  t.notOk((await api(sc.apiAddress.port, 'GET', '/configuration/cluster')).text.includes('hunter2'), 'not in the list either');
  const { readFileSync, statSync } = await import('node:fs');
  t.ok(readFileSync(`${dir}/state.json`, 'utf8').includes('hunter2'), 'the state file keeps the value');
  t.equal(statSync(`${dir}/state.json`).mode & 0o777, 0o600, 'readable by the sidecar\'s user only');
});

t.test('containers are validated by the launcher; servers come from them only', async (t) => {
  const { launcher, sc } = await withLauncher(t);
  const A = sc.apiAddress.port;
  const before = (await api(A, 'GET', '/configuration/cluster')).text;
  const bad = await api(A, 'PUT', '/configuration/cluster', { cluster: { version: '2.0', containers: { image: 'x' } } });
  t.equal(bad.status, 400);
  t.equal(bad.json.error.field, 'cluster.containers.app', 'the launcher names the field');
  const both = await api(A, 'PUT', '/configuration/cluster', { cluster: { version: '2.0', containers: { app: 'a' }, servers: [{ hostname: '127.0.0.1', port: 1 }] } });
  t.equal(both.status, 400);
  t.equal(both.json.error.field, 'cluster.servers');
  t.equal((await api(A, 'GET', '/configuration/cluster')).text, before, 'nothing added');
  t.same(launcher.launched, [], 'nothing launched');

  await api(A, 'PUT', '/configuration/cluster', { cluster: { uuid: 'c', version: '2.0', containers: { app: 'c' } } });
  const patch = await api(A, 'PATCH', '/configuration/cluster/c', { cluster: { servers: [{ hostname: '127.0.0.1', port: 1 }] } });
  t.equal(patch.status, 400, 'a container version\'s servers cannot be set by hand');
  t.equal(patch.json.error.field, 'cluster.servers');
  const patch2 = await api(A, 'PATCH', '/configuration/cluster/c', { cluster: { containers: { app: 'd' } } });
  t.equal(patch2.status, 400);
  t.equal(patch2.json.error.field, 'cluster.containers');

  // Removed while it is still starting: what it starts is stopped.
  t.equal((await api(A, 'DELETE', '/configuration/cluster/c')).status, 202);
  launcher.open('c');
  t.ok(await until(() => launcher.stopped.includes('c')), 'a launch that finishes after DELETE is stopped');
});

t.test('without a launcher, a containers version is a clear 400', async (t) => {
  const v1 = await backend('v1');
  t.teardown(() => v1.close());
  const sc = await startSidecar(base(v1.port), { launcher: null });
  t.teardown(() => sc.close({ drainTimeout: 0 }));
  const r = await api(sc.apiAddress.port, 'PUT', '/configuration/cluster', { cluster: { version: '2.0', containers: { app: 'x' } } });
  t.equal(r.status, 400);
  t.equal(r.json.error.code, 'UPS_ERR_NO_LAUNCHER');
  t.equal(r.json.error.field, 'cluster.containers');
  t.match(r.json.error.message, /cannot be started here/);
  t.equal((await api(sc.apiAddress.port, 'GET', '/configuration/cluster')).json.length, 1);
});

t.test('on restart, running containers are adopted and missing ones launched again', async (t) => {
  const v1 = await backend('v1');
  t.teardown(() => v1.close());
  const dir = tmpDir(t);
  const state = `${dir}/state.json`;
  const first = new FakeLauncher();
  t.teardown(() => first.destroyAll());
  first.open('a');
  const sc1 = await startSidecar(base(v1.port, state), { launcher: first });
  await api(sc1.apiAddress.port, 'PUT', '/configuration/cluster', { cluster: { uuid: 'a', version: '2.0', containers: { app: 'a' } } });
  await api(sc1.apiAddress.port, 'PUT', '/configuration/cluster', { cluster: { uuid: 'b', version: '1.5', containers: { app: 'b' } } });
  t.ok(await until(async () => (await api(sc1.apiAddress.port, 'GET', '/configuration/cluster/a')).json.cluster.launch.state === 'ready'));
  const aAddr = first.backends.get('a')!;
  await sc1.close({ drainTimeout: 0 });

  const second = new FakeLauncher();
  second.running.set('a', [{ hostname: '127.0.0.1', port: aAddr.port }]);
  t.teardown(() => second.destroyAll());
  const sc2 = await startSidecar(base(v1.port, state), { launcher: second });
  t.teardown(() => sc2.close({ drainTimeout: 0 }));
  t.same(second.reconciled?.map((s) => s.uuid).sort(), ['a', 'b'], 'reconcile gets every container version from the state file');
  t.same(second.reconciled?.find((s) => s.uuid === 'a')?.containers, { app: 'a', normalized: true });
  const a = (await api(sc2.apiAddress.port, 'GET', '/configuration/cluster/a')).json.cluster;
  t.equal(a.launch.state, 'ready', 'a running container is adopted');
  t.equal((await get(sc2.proxyAddress.port)).body, 'a', 'and routed');
  t.same(second.launched, ['b'], 'only the missing one is launched again');
});
