import t from 'tap';
import { InvalidVersionError } from '../../src/core/errors.js';
import { proxyTarget } from '../../src/sidecar/docker/ports.js';
import { validateContainers } from '../../src/sidecar/docker/spec.js';

// portToProxy's two meanings, without an engine: a host port of portBindings
// (the prototype's model, dialed where it is bound) or a container port
// (published by upshift at a port the engine picks).
const F = 'cluster.containers';
const one = (c: Record<string, unknown>) => validateContainers([{ image: 'app', ...c }], F)[0]!;

t.test('a portToProxy that is a host port of portBindings is dialed there', async (t) => {
  const c = one({ portBindings: { '8080/tcp': [{ hostIp: '127.0.0.1', hostPort: '9001' }] }, portToProxy: 9001 });
  t.same(proxyTarget(c), { model: 'host', address: { hostname: '127.0.0.1', port: 9001 } });
  t.same(c.portBindings, { '8080/tcp': [{ hostIp: '127.0.0.1', hostPort: '9001' }] }, 'the bindings are kept as given');
  for (const hostIp of ['', '0.0.0.0']) {
    t.same(proxyTarget(one({ portBindings: { '8080/tcp': [{ hostIp, hostPort: '9001' }] }, portToProxy: 9001 })), { model: 'host', address: { hostname: '127.0.0.1', port: 9001 } }, `hostIp ${JSON.stringify(hostIp)} is reached on 127.0.0.1`);
  }
  t.same(proxyTarget(one({ portBindings: { '8080/tcp': [{ HostIp: '10.1.2.3', HostPort: '9001' }] }, portToProxy: 9001 })), { model: 'host', address: { hostname: '10.1.2.3', port: 9001 } }, 'Docker\'s capitalized keys, a given address');
  t.same(proxyTarget(one({ portBindings: { 8080: 9001 }, portToProxy: 9001 })), { model: 'host', address: { hostname: '127.0.0.1', port: 9001 } }, 'the short form (a bare host port)');
  t.same(proxyTarget(one({ portBindings: { '8080/tcp': [{ hostIp: '', hostPort: '9001' }] }, portToProxy: '9001' })), { model: 'host', address: { hostname: '127.0.0.1', port: 9001 } }, 'portToProxy as a string, as the prototype\'s JSON may give it');
});

t.test('otherwise portToProxy is a container port, published by upshift', async (t) => {
  t.same(proxyTarget(one({ portToProxy: 8080 })), { model: 'published', containerPort: 8080 });
  t.same(proxyTarget(one({ portToProxy: 8080, portBindings: { '9090/tcp': [{ hostIp: '', hostPort: '9090' }] } })), { model: 'published', containerPort: 8080 }, 'other bindings are extra publications');
  t.same(proxyTarget(one({ portToProxy: 8080, portBindings: { '8080/tcp': [{ hostIp: '', hostPort: '' }] } })), { model: 'published', containerPort: 8080 }, 'a binding of the container port without a host port');
  t.same(proxyTarget(one({ portToProxy: 8080, network: 'host' })), { model: 'published', containerPort: 8080 }, 'the host network: the port the container listens on');
  const [, helper] = validateContainers([{ image: 'app', portToProxy: 80 }, { image: 'db' }], F);
  t.equal(proxyTarget(helper!), undefined, 'a helper container takes no traffic');
});

t.test('what fits neither model is refused, naming portToProxy', async (t) => {
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ portBindings: { '53/udp': [{ hostIp: '', hostPort: '9001' }] }, portToProxy: 9001 }, /must be exposed in portBindings as a tcp host port: 9001 is bound for 53\/udp only/],
    [{ portBindings: { '8080/tcp': 9001, '8081/tcp': [{ hostIp: '127.0.0.2', hostPort: '9001' }] }, portToProxy: 9001 }, /host port 9001 is bound for 8080\/tcp and 8081\/tcp/],
    [{ portBindings: { '8080/tcp': 9001 }, portToProxy: 9001, network: 'host' }, /must be exposed in portBindings, which do not apply with network "host"/],
  ];
  for (const [c, message] of cases) {
    try {
      one(c);
      t.fail(`accepted ${JSON.stringify(c)}`);
    } catch (err) {
      t.ok(err instanceof InvalidVersionError, 'a coded error');
      t.equal((err as InvalidVersionError).field, `${F}[0].portToProxy`);
      t.match((err as Error).message, message);
    }
  }
});
