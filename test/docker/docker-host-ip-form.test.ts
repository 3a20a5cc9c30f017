import t from 'tap';
import { InvalidOptionError } from '../../src/core/errors.js';
import { dockerOptions } from '../../src/sidecar/docker/host.js';

// The prototype's dockerHost: {"ip", "port"}, the port 2375 by default.
t.test('dockerHost {"ip", "port"} reaches the engine over TCP', async (t) => {
  t.match(dockerOptions({ ip: '10.0.0.5', port: 4243 }, {}), { host: '10.0.0.5', port: 4243, protocol: 'http', describe: 'http://10.0.0.5:4243' });
  t.match(dockerOptions({ ip: '10.0.0.5' }, {}), { host: '10.0.0.5', port: 2375 }, 'port defaults to 2375');
  t.match(dockerOptions({ ip: '10.0.0.5', port: '2376' }, {}), { host: '10.0.0.5', port: 2376 }, 'a port given as a string');
  t.match(dockerOptions({ ip: '::1' }, {}), { host: '::1', port: 2375 }, 'an IPv6 address');
  t.match(dockerOptions({ ip: '10.0.0.5' }, { DOCKER_HOST: 'unix:///run/d.sock' }), { host: '10.0.0.5' }, 'the setting wins over DOCKER_HOST');
  const bad: Array<[unknown, string]> = [
    [{ ip: '' }, 'dockerHost.ip'],
    [{ ip: 5 }, 'dockerHost.ip'],
    [{ ip: '10.0.0.5', port: 'x' }, 'dockerHost.port'],
    [{ ip: '10.0.0.5', port: 70000 }, 'dockerHost'],
    [{ ip: '10.0.0.5', host: 'engine' }, 'dockerHost.host'],
  ];
  for (const [input, field] of bad) {
    t.throws(() => dockerOptions(input, {}), InvalidOptionError, JSON.stringify(input));
    try { dockerOptions(input, {}); } catch (err) { t.equal((err as InvalidOptionError).field, field, `${JSON.stringify(input)} names ${field}`); }
  }
});
