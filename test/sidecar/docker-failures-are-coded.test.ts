import t from 'tap';
import { createDockerLauncher } from '../../src/sidecar/docker/index.js';
import { fakeEngine } from '../helpers/fake-docker-engine.js';

// Every Docker failure is an UpshiftError with a stable UPS_ERR_DOCKER_* code
// (callers branch on the code), against a fake engine over HTTP.

const containers = [{ image: 'app', portToProxy: 8080, readiness: { type: 'none' } }];

t.test('an engine that does not answer the ping: UPS_ERR_DOCKER_UNREACHABLE, within startupTimeout', async (t) => {
  const engine = await fakeEngine();
  engine.hang.add('ping');
  t.teardown(() => engine.close());
  const started = Date.now();
  await t.rejects(createDockerLauncher({ dockerHost: engine.address, startupTimeout: 300 }), { code: 'UPS_ERR_DOCKER_UNREACHABLE', message: /did not answer within 0\.3 s/ });
  t.ok(Date.now() - started < 3000, 'bounded');
});

t.test('a refused create: UPS_ERR_DOCKER_CALL with the engine\'s status; a hung start: UPS_ERR_DOCKER_TIMEOUT', async (t) => {
  const engine = await fakeEngine();
  t.teardown(() => engine.close());
  const launcher = await createDockerLauncher({ dockerHost: engine.address, startupTimeout: 300, apiTimeout: 300, watchEvents: false });
  t.teardown(() => launcher.close());
  engine.onCreate = () => ({ status: 500, message: 'no space left on device' });
  await t.rejects(launcher.launch({ uuid: 'a', version: '1', containers }, () => {}), { code: 'UPS_ERR_DOCKER_CALL', status: 500, message: /^cannot create container .*: no space left on device$/ });
  engine.onCreate = undefined;
  engine.hang.add('start');
  await t.rejects(launcher.launch({ uuid: 'b', version: '1', containers }, () => {}), { code: 'UPS_ERR_DOCKER_TIMEOUT', message: /^cannot start container .*: the Docker engine at .* did not answer within 0\.3 s$/ });
  t.same(engine.live(), [], 'what the failed launches created is removed');
  engine.hang.delete('start');
  engine.onStart = (c) => { c.running = false; c.state = { ExitCode: 3, Error: '' }; };
  await t.rejects(launcher.launch({ uuid: 'c', version: '1', containers }, () => {}), { code: 'UPS_ERR_DOCKER_CONTAINER', message: /exited with code 3/ });
  engine.onStart = undefined;
  const aborted = t.rejects(launcher.launch({ uuid: 'd', version: '1', containers, launchId: 'l1' }, () => {}), { code: 'UPS_ERR_DOCKER_ABORTED' });
  await launcher.stop('d', 'l1');
  await aborted;
  await launcher.close();
  await t.rejects(launcher.launch({ uuid: 'e', version: '1', containers }, () => {}), { code: 'UPS_ERR_DOCKER_STATE' });
});
