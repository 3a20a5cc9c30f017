import t from 'tap';
import { InvalidVersionError, InvalidOptionError } from '../../src/core/errors.js';
import { validateContainers, imageRef } from '../../src/sidecar/docker/spec.js';
import { redact } from '../../src/sidecar/docker/redact.js';
import { dockerOptions } from '../../src/sidecar/docker/host.js';

// The `containers` schema and the `dockerHost` setting, without an engine:
// what is accepted, how it is normalized, and which field an error names.

const F = 'cluster.containers';

function fieldOf(v: unknown): string | undefined {
  try {
    validateContainers(v, F);
  } catch (err) {
    if (err instanceof InvalidVersionError) return err.field;
    throw err;
  }
  return undefined;
}

t.test('the seed\'s fields are accepted and normalized', async (t) => {
  const [c] = validateContainers([{
    image: 'registry.local:5000/team/app', name: 'app-1', environment: ['A=1', 'B=x=y'],
    cmd: ['serve'], entrypoint: ['/bin/app'], workingDir: '/srv', hostname: 'app', volumes: ['/data', '/host:/ctr:ro'],
    volumesFrom: ['store'], portBindings: { '9000': [{ HostIp: '0.0.0.0', HostPort: '9000' }], '53/udp': 5353 },
    portToProxy: 8080, links: ['db:db'], user: 'app', memory: '256m', cpuShares: 512, privileged: false,
    labels: { team: 'web' }, network: 'backend', readiness: { type: 'http', path: '/health', deadline: 5 }, restartPolicy: 'on-failure:3',
  }], F);
  t.equal(c!.image, 'registry.local:5000/team/app', 'a registry port is not a tag');
  t.equal(c!.tag, 'latest', 'tag defaults to latest');
  t.same(c!.environment, [['A', '1'], ['B', 'x=y']], 'NAME=value splits at the first "="');
  t.same(c!.portBindings, { '9000/tcp': [{ hostIp: '0.0.0.0', hostPort: '9000' }], '53/udp': [{ hostIp: '', hostPort: '5353' }] });
  t.equal(c!.memory, 256 * 1024 * 1024);
  t.same(c!.readiness, { type: 'http', port: undefined, path: '/health', deadline: 5, interval: 0.25 });
  t.same(c!.restartPolicy, { name: 'on-failure', maximumRetryCount: 3 });
  t.equal(imageRef(c!), 'registry.local:5000/team/app:latest');

  const [d] = validateContainers({ image: 'app:2.1', portToProxy: 80, environment: { TOKEN: 'abc', N: 3 } }, F);
  t.equal(d!.image, 'app', 'one object is one container; a tag in the image moves to tag');
  t.equal(d!.tag, '2.1');
  t.same(d!.environment, [['TOKEN', 'abc'], ['N', '3']]);
  t.same(d!.readiness.type, 'tcp', 'a container that takes traffic is probed over TCP by default');
  t.same(validateContainers(JSON.parse(JSON.stringify([d])), F), [d], 'validating the normalized form (as restored from a state file) gives it back');
});

t.test('errors name the field', async (t) => {
  t.equal(fieldOf('app'), F, 'not an array');
  t.equal(fieldOf([]), F, 'empty');
  t.equal(fieldOf([{ portToProxy: 80 }]), `${F}[0].image`, 'image is required');
  t.equal(fieldOf([{ image: 'a', portToProxy: 80, memory: 'lots' }]), `${F}[0].memory`);
  t.equal(fieldOf([{ image: 'a', portToProxy: 80, memory: 1024 }]), `${F}[0].memory`, 'below Docker\'s minimum');
  t.equal(fieldOf([{ image: 'a', portToProxy: 70000 }]), `${F}[0].portToProxy`);
  t.equal(fieldOf([{ image: 'a' }]), `${F}[0].portToProxy`, 'some container must take the traffic');
  t.equal(fieldOf([{ image: 'a:1', tag: '2', portToProxy: 80 }]), `${F}[0].tag`, 'a tag in two places');
  t.equal(fieldOf([{ image: 'a', portToProxy: 80, environment: ['NOVALUE'] }]), `${F}[0].environment[0]`);
  t.equal(fieldOf([{ image: 'a', portToProxy: 80, environment: { K: { nested: 1 } } }]), `${F}[0].environment.K`);
  t.equal(fieldOf([{ image: 'a', portToProxy: 80, cmd: 'serve --fast' }]), `${F}[0].cmd`, 'cmd is an array');
  t.equal(fieldOf([{ image: 'a', portToProxy: 80, name: '-bad' }]), `${F}[0].name`);
  t.equal(fieldOf([{ image: 'a', portToProxy: 80, name: 'x' }, { image: 'b', name: 'x' }]), `${F}[1].name`, 'names are unique');
  t.equal(fieldOf([{ image: 'a', portToProxy: 80, labels: { 'io.upshift.uuid': 'x' } }]), `${F}[0].labels.io.upshift.uuid`, 'upshift\'s labels are reserved');
  t.equal(fieldOf([{ image: 'a', portToProxy: 80, readiness: { type: 'grpc' } }]), `${F}[0].readiness.type`);
  t.equal(fieldOf([{ image: 'a', portToProxy: 80, readiness: { deadline: 0 } }]), `${F}[0].readiness.deadline`);
  t.equal(fieldOf([{ image: 'a', portToProxy: 80, restartPolicy: 'sometimes' }]), `${F}[0].restartPolicy`);
  t.equal(fieldOf([{ image: 'a', portToProxy: 80, portBindings: { http: 80 } }]), `${F}[0].portBindings.http`);
  t.equal(fieldOf([{ image: 'a', portToProxy: 80, network: 'none' }]), `${F}[0].network`, 'no network, no traffic');
  t.equal(fieldOf([{ image: 'a', portToProxy: 80, imagee: 'typo' }]), `${F}[0].imagee`, 'unknown fields are refused');
});

t.test('no error message repeats an environment value', async (t) => {
  const secret = 'sup3r-s3cret-value';
  for (const bad of [[`=${secret}`], { '': secret }, [`A=${secret}`, `A=${secret}`], { A: secret, B: [secret] }]) {
    try {
      validateContainers([{ image: 'a', portToProxy: 80, environment: bad }], F);
      t.fail('should have thrown');
    } catch (err) {
      t.notOk((err as Error).message.includes(secret), (err as Error).message);
    }
  }
  const specs = validateContainers([{ image: 'a', portToProxy: 80, environment: { K: secret } }], F);
  t.equal(redact(`engine said: bad value ${secret}!`, specs), 'engine said: bad value ***!', 'engine messages are redacted');
});

t.test('dockerHost: socket path, host:port, URL or {host, port}; default DOCKER_HOST, else the standard socket', async (t) => {
  t.match(dockerOptions(undefined, {}), { socketPath: '/var/run/docker.sock' });
  t.match(dockerOptions(undefined, { DOCKER_HOST: 'unix:///run/d.sock' }), { socketPath: '/run/d.sock' });
  t.match(dockerOptions('/tmp/d.sock', { DOCKER_HOST: 'tcp://x:1' }), { socketPath: '/tmp/d.sock' }, 'the setting wins over DOCKER_HOST');
  t.match(dockerOptions('10.0.0.5:2375', {}), { host: '10.0.0.5', port: 2375, protocol: 'http' });
  t.match(dockerOptions('tcp://engine:2375', {}), { host: 'engine', port: 2375, protocol: 'http' });
  t.match(dockerOptions('https://engine:2376', {}), { host: 'engine', port: 2376, protocol: 'https' });
  t.match(dockerOptions({ host: 'engine', port: 2375 }, {}), { host: 'engine', port: 2375 }, 'the seed\'s object form');
  t.match(dockerOptions({ host: 'unix:///var/run/docker.sock' }, {}), { socketPath: '/var/run/docker.sock' });
  t.throws(() => dockerOptions('engine', {}), InvalidOptionError, 'a host without a port is refused');
  t.throws(() => dockerOptions('engine:99999', {}), InvalidOptionError);
  t.throws(() => dockerOptions(42, {}), InvalidOptionError);
});
