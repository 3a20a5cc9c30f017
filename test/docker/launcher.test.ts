import t from 'tap';
import { createProxy } from '../../src/core/index.js';
import { createDockerLauncher, type DockerLauncher } from '../../src/sidecar/docker/index.js';
import type { LaunchProgress } from '../../src/sidecar/launcher.js';
import {
  APP_IMAGE, containersOf, engineOrExplain, ensureAppImages, fetchText, memoryLogger, removeContainersOf, testSidecarId,
} from './engine.js';

// The Docker launcher against a real engine: launch, readiness, failure
// clean-up, death detection, stop and reconcile. Each subtest uses its own
// sidecar id, and the teardown removes whatever carries it.

const docker = await engineOrExplain(t);
if (docker !== undefined) {
  await ensureAppImages();
  const SECRET = 'sk-live-do-not-log-4711';

  async function launcherFor(tt: { teardown(fn: () => unknown): void }, name: string, logger?: ReturnType<typeof memoryLogger>['logger'], watchEvents = true): Promise<{ launcher: DockerLauncher; sidecarId: string }> {
    const sidecarId = testSidecarId(name);
    const launcher = await createDockerLauncher({ sidecarId, logger, stopTimeout: 1, watchEvents });
    tt.teardown(async () => {
      await launcher.close();
      await removeContainersOf(docker!, sidecarId);
    });
    return { launcher, sidecarId };
  }

  const app = (tag: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    image: APP_IMAGE, tag, portToProxy: 8080, ...extra,
  });

  t.test('launch reports progress, publishes on loopback, labels the container and keeps secrets out of messages', async (t) => {
    const mem = memoryLogger();
    const { launcher, sidecarId } = await launcherFor(t, 'launch', mem.logger);
    const progress: LaunchProgress[] = [];
    const spec = { uuid: 'u-launch', version: '1.0', containers: launcher.validate([app('1', { environment: { API_KEY: SECRET } })], 'cluster.containers') };
    const servers = await launcher.launch(spec, (p) => progress.push(p));
    t.equal(servers.length, 1, 'one address per container with portToProxy');
    t.equal(servers[0]!.hostname, '127.0.0.1', 'published on loopback only');
    const r = await fetchText(servers[0]!.hostname, servers[0]!.port);
    t.same(r, { status: 200, body: 'upshift-test-app version 1\n', headers: (r as { headers: unknown }).headers }, 'the address serves the container');
    t.equal(progress[0]!.state, 'starting');
    t.equal(progress.at(-1)!.state, 'ready');
    t.ok(progress.some((p) => /waiting for container .* to be ready/.test(p.message ?? '')), 'the readiness wait is reported');

    const list = await containersOf(docker!, sidecarId, 'u-launch');
    t.equal(list.length, 1, 'exactly one container');
    t.equal(list[0]!.Labels['io.upshift.version'], '1.0', 'labelled with the version');
    const info = await docker!.getContainer(list[0]!.Id).inspect();
    t.ok(info.Config.Env.includes(`API_KEY=${SECRET}`), 'the environment reaches the container');
    t.notOk(JSON.stringify(info.Config.Cmd ?? []).includes(SECRET), 'the secret is not on the command line');
    const said = [...mem.lines, ...progress.map((p) => p.message ?? '')].join('\n');
    t.notOk(said.includes(SECRET), 'the secret is in no log line or progress message');
    t.equal(launcher.stateOf('u-launch'), 'ready');

    await launcher.stop('u-launch');
    t.equal((await containersOf(docker!, sidecarId, 'u-launch')).length, 0, 'stop removes the container');
    t.equal(launcher.stateOf('u-launch'), undefined);
  });

  t.test('a missing image fails cleanly: clear reason, nothing left behind', async (t) => {
    const { launcher, sidecarId } = await launcherFor(t, 'missing');
    const progress: LaunchProgress[] = [];
    const spec = { uuid: 'u-missing', version: '9.9', containers: launcher.validate([{ image: 'upshift-test-missing', tag: 'nope', portToProxy: 80 }], 'c') };
    await t.rejects(launcher.launch(spec, (p) => progress.push(p)), /image upshift-test-missing:nope is not present and could not be pulled/);
    t.equal(progress.at(-1)!.state, 'failed', 'the last progress says failed');
    t.match(progress.at(-1)!.message, /could not be pulled/);
    t.equal((await containersOf(docker!, sidecarId)).length, 0, 'no container was left');
    t.equal(launcher.stateOf('u-missing'), undefined);
  });

  t.test('the tcp probe waits for the server inside, not for the port proxy in front of it', async (t) => {
    const { launcher } = await launcherFor(t, 'slow');
    // httpd starts 2 s after the container: Docker's port proxy accepts connections before that.
    const spec = { uuid: 'u-slow', version: '1.0', containers: launcher.validate([app('1', { cmd: ['sh', '-c', 'sleep 2; exec httpd -f -p 8080 -h /www'] })], 'c') };
    const started = Date.now();
    const servers = await launcher.launch(spec, () => {});
    t.ok(Date.now() - started >= 1800, `ready only after the server listens (${Date.now() - started} ms)`);
    const r = await fetchText(servers[0]!.hostname, servers[0]!.port);
    t.equal((r as { status?: number }).status, 200, 'the first request after ready is served');
  });

  t.test('an http probe on a path that never answers 2xx fails at its deadline and removes the container', async (t) => {
    const { launcher, sidecarId } = await launcherFor(t, 'deadline');
    const spec = { uuid: 'u-deadline', version: '1.0', containers: launcher.validate([app('1', { readiness: { type: 'http', path: '/nothing-here', deadline: 1.5 } })], 'c') };
    await t.rejects(launcher.launch(spec, () => {}), /was not ready within 1.5 s \(http probe/);
    t.equal((await containersOf(docker!, sidecarId)).length, 0, 'no container was left');
  });

  t.test('a container that exits while starting fails with its exit code', async (t) => {
    const { launcher, sidecarId } = await launcherFor(t, 'exit');
    const spec = { uuid: 'u-exit', version: '1.0', containers: launcher.validate([app('1', { cmd: ['sh', '-c', 'sleep 0.3; exit 3'] })], 'c') };
    await t.rejects(launcher.launch(spec, () => {}), /exited with code 3/);
    t.equal((await containersOf(docker!, sidecarId)).length, 0, 'no container was left');
  });

  t.test('stop during a launch aborts it and leaves nothing', async (t) => {
    const { launcher, sidecarId } = await launcherFor(t, 'abort');
    const spec = { uuid: 'u-abort', version: '1.0', containers: launcher.validate([app('1', { cmd: ['sleep', '60'], readiness: { deadline: 60 } })], 'c') };
    const p = launcher.launch(spec, () => {});
    const rejected = t.rejects(p, /stopped before it was ready/);
    await new Promise((r) => setTimeout(r, 800));
    await launcher.stop('u-abort');
    await rejected;
    t.equal((await containersOf(docker!, sidecarId)).length, 0, 'no container was left');
  });

  t.test('a killed container is reported as died, once', async (t) => {
    const { launcher, sidecarId } = await launcherFor(t, 'died');
    const died: Array<[string, string]> = [];
    launcher.on('died', (uuid, reason) => died.push([uuid, reason]));
    const spec = { uuid: 'u-died', version: '1.0', containers: launcher.validate([app('1')], 'c') };
    await launcher.launch(spec, () => {});
    const [c] = await containersOf(docker!, sidecarId, 'u-died');
    await docker!.getContainer(c!.Id).kill();
    const deadline = Date.now() + 5000;
    while (died.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    t.equal(died.length, 1, 'died was emitted');
    t.equal(died[0]?.[0], 'u-died');
    t.match(died[0]?.[1], /exited with code 137/, 'the reason names the exit');
    t.equal(launcher.stateOf('u-died'), 'dead');
    await launcher.stop('u-died');
    t.equal((await containersOf(docker!, sidecarId)).length, 0, 'stop removes a dead version\'s container');
    t.equal(died.length, 1, 'a stop is not a death');
  });

  t.test('without the event stream, a death is found through the proxy\'s failed dials', async (t) => {
    const { launcher, sidecarId } = await launcherFor(t, 'dials', undefined, false);
    const died: Array<[string, string]> = [];
    launcher.on('died', (uuid, reason) => died.push([uuid, reason]));
    const servers = await launcher.launch({ uuid: 'u-dials', version: '2.0', containers: launcher.validate([app('2')], 'c') }, () => {});
    // A proxy in this process, as in the sidecar: its failed dials are published on diagnostics_channel.
    const proxy = await createProxy({ host: '127.0.0.1', versions: [{ uuid: 'u-dials', version: '2.0', servers }] });
    t.teardown(() => proxy.close({ drainTimeout: 0 }));
    t.equal((await fetchText('127.0.0.1', proxy.address.port) as { body?: string }).body, 'upshift-test-app version 2\n');
    const [c] = await containersOf(docker!, sidecarId, 'u-dials');
    await docker!.getContainer(c!.Id).kill();
    await new Promise((r) => setTimeout(r, 500));
    t.equal(died.length, 0, 'nothing is reported before a dial fails (no event stream)');
    await fetchText('127.0.0.1', proxy.address.port);
    const deadline = Date.now() + 5000;
    while (died.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    t.equal(died[0]?.[0], 'u-dials', 'the failed dial led to a check of the container, and died');
    t.match(died[0]?.[1], /exited with code 137 \(the proxy could not reach it\)/);
  });

  t.test('reconcile adopts running containers of known versions and removes orphans', async (t) => {
    const { launcher, sidecarId } = await launcherFor(t, 'reconcile');
    const keep = { uuid: 'u-keep', version: '1.0', containers: launcher.validate([app('1')], 'c') };
    const orphan = { uuid: 'u-orphan', version: '2.0', containers: launcher.validate([app('2')], 'c') };
    const changed = { uuid: 'u-changed', version: '3.0', containers: launcher.validate([app('2')], 'c') };
    const kept = await launcher.launch(keep, () => {});
    await launcher.launch(orphan, () => {});
    await launcher.launch(changed, () => {});
    const before = await containersOf(docker!, sidecarId, 'u-keep');
    await launcher.close();

    // A new launcher, as after a sidecar restart. The state kept u-keep as it was,
    // u-changed with another spec, and has no u-orphan.
    const again = await createDockerLauncher({ sidecarId, stopTimeout: 1 });
    t.teardown(() => again.close());
    const changedNow = { ...changed, containers: again.validate([app('1')], 'c') };
    const restored = await again.reconcile([
      { ...keep, containers: JSON.parse(JSON.stringify(keep.containers)) },
      changedNow,
    ]);
    t.same(restored.get('u-keep'), kept, 'the running container is adopted at its address');
    t.equal(restored.has('u-changed'), false, 'a container made from another spec is not adopted');
    const after = await containersOf(docker!, sidecarId);
    t.same(after.map((c) => c.Id), before.map((c) => c.Id), 'only the adopted container remains: no duplicate, orphan and stale ones removed');
    t.equal(again.stateOf('u-keep'), 'ready');
    const died: string[] = [];
    again.on('died', (uuid) => died.push(uuid));
    await docker!.getContainer(before[0]!.Id).kill();
    const deadline = Date.now() + 5000;
    while (died.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    t.same(died, ['u-keep'], 'an adopted container\'s death is reported too');
  });
}
