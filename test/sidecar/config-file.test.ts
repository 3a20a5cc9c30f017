import t from 'tap';
import { ConfigError, parseConfig } from '../../src/sidecar/index.js';

const cluster = { version: '1.0', servers: [{ hostname: '127.0.0.1', port: 3000 }] };

t.test('the seed\'s config is accepted as is, with modern defaults', async (t) => {
  const c = parseConfig({ proxy: { port: 8080 }, configService: { port: 9090 }, cluster, dockerHost: { host: '127.0.0.1', port: 2375 } });
  t.equal(c.proxy.port, 8080);
  t.equal(c.proxy.host, '0.0.0.0', 'the proxy listens on all interfaces, as the seed did');
  t.same(c.api, { host: '127.0.0.1', port: 9090, token: undefined, bodyLimit: 1024 * 1024 }, 'the config port does not');
  t.equal(c.clusters.length, 1);
  t.same(c.dockerHost, { host: '127.0.0.1', port: 2375 });
  t.equal(c.logLevel, 'info');
  t.equal(c.drainTimeout, 10_000);
  t.equal(c.stateFile, undefined);
});

t.test('additions: clusters, proxy options, token, body limit, log level, state file', async (t) => {
  const c = parseConfig({
    proxy: { port: 0, host: '127.0.0.1', timeouts: { connect: 500 }, cookies: { session: { name: 'sid', secure: true } }, health: { maxFails: 3 } },
    configService: { port: 0, host: '0.0.0.0', token: 'abc', bodyLimit: 4096 },
    clusters: [cluster, { ...cluster, version: '2.0', upgradeTransition: { mode: 'gradual', percentageTransitionPerRequest: 2 } }],
    logLevel: 'NOTICE', stateFile: 'state.json', drainTimeout: 0,
  }, { baseDir: '/srv/upshift' });
  t.same(c.proxy.timeouts, { connect: 500 });
  const http = parseConfig({ proxy: { port: 0, mode: 'http', http: { xForwardedFor: true } }, configService: { port: 0 }, cluster });
  t.equal(http.proxy.mode, 'http', 'http mode and its options pass through to the core');
  t.equal(parseConfig({ proxy: { port: 0, engine: 'uws' }, configService: { port: 0 }, cluster }).proxy.engine, 'uws', 'and the engine');
  t.equal(c.api.token, 'abc');
  t.equal(c.api.bodyLimit, 4096);
  t.equal(c.clusters.length, 2);
  t.equal(c.logLevel, 'info', 'NOTICE is pino\'s info');
  t.equal(c.stateFile, '/srv/upshift/state.json', 'a relative state file is next to the config file');
  t.equal(c.drainTimeout, 0);
  t.equal(parseConfig({ proxy: { port: 0 }, configService: { port: 0 }, cluster, logLevel: 'info' }, { logLevel: 'WARNING' }).logLevel, 'warn', 'the flag wins');
  t.equal(parseConfig({ proxy: { port: 0 }, configService: { port: 0 }, cluster, stateFile: 'a' }, { stateFile: 'b', baseDir: '/x' }).stateFile, 'b', 'and --state is taken as given');
});

t.test('every bad input gets a ConfigError naming the field', async (t) => {
  const ok = { proxy: { port: 0 }, configService: { port: 0 }, cluster };
  const cases: Array<[string, unknown, string, RegExp]> = [
    ['null', null, 'config', /JSON object/],
    ['no proxy', { configService: { port: 0 }, cluster }, 'proxy', /is required/],
    ['proxy not an object', { ...ok, proxy: 8080 }, 'proxy', /of type object/],
    ['proxy port float', { ...ok, proxy: { port: 80.5 } }, 'proxy.port', /must be an integer/],
    ['proxy port negative', { ...ok, proxy: { port: -1 } }, 'proxy.port', /from 0 to 65535/],
    ['proxy unknown key', { ...ok, proxy: { port: 0, listen: 1 } }, 'proxy.listen', /unknown field/],
    ['proxy host empty', { ...ok, proxy: { port: 0, host: '' } }, 'proxy.host', /./],
    ['proxy mode', { ...ok, proxy: { port: 0, mode: 'udp' } }, 'proxy.mode', /stream.*http/],
    ['proxy http option', { ...ok, proxy: { port: 0, mode: 'http', http: { maxIdle: 1 } } }, 'proxy.http.maxIdle', /unknown option/],
    ['proxy nonHttp', { ...ok, proxy: { port: 0, nonHttp: 'maybe' } }, 'proxy.nonHttp', /reject.*tcp/],
    ['proxy engine', { ...ok, proxy: { port: 0, engine: 'native' } }, 'proxy.engine', /node.*uws/],
    ['proxy engine in stream mode', { ...ok, proxy: { port: 0, mode: 'stream', engine: 'uws' } }, 'proxy.engine', /only applies to mode "http"/],
    ['cookie SameSite=None without secure', { ...ok, proxy: { port: 0, cookies: { session: { sameSite: 'None' } } } }, 'proxy.cookies.session.sameSite', /secure/],
    ['no configService', { proxy: { port: 0 }, cluster }, 'configService', /is required/],
    ['configService port missing', { ...ok, configService: {} }, 'configService.port', /is required/],
    ['token empty', { ...ok, configService: { port: 0, token: '' } }, 'configService.token', /./],
    ['bodyLimit tiny', { ...ok, configService: { port: 0, bodyLimit: 10 } }, 'configService.bodyLimit', /from 1024/],
    ['no cluster', { proxy: { port: 0 }, configService: { port: 0 } }, 'cluster', /is required/],
    ['cluster array', { ...ok, cluster: [cluster] }, 'cluster', /of type object/],
    ['cluster bad mode', { ...ok, cluster: { ...cluster, upgradeTransition: { mode: 'X' } } }, 'cluster.upgradeTransition.mode', /one of/],
    ['clusters item', { ...ok, clusters: [cluster, { version: '2', servers: [{ hostname: 'h', port: 99999 }] }] }, 'clusters[1].servers[0].port', /1 to 65535/],
    ['servers and containers', { ...ok, cluster: { ...cluster, containers: {} } }, 'cluster.servers', /not both/],
    ['drainTimeout', { ...ok, drainTimeout: -1 }, 'drainTimeout', /from 0/],
    ['logLevel', { ...ok, logLevel: 'verbose' }, 'logLevel', /must be one of/],
    ['sidecarId', { ...ok, sidecarId: 'a b' }, 'sidecarId', /pattern/],
    ['unknown top-level', { ...ok, clusterz: [] }, 'clusterz', /unknown field/],
  ];
  for (const [name, input, field, message] of cases) {
    try {
      parseConfig(input);
      t.fail(`${name}: accepted`);
    } catch (err) {
      t.ok(err instanceof ConfigError, `${name}: ConfigError`);
      t.equal((err as ConfigError).code, 'UPS_ERR_CONFIG');
      t.equal((err as ConfigError).field, field, `${name}: field ${field}`);
      t.match((err as Error).message, message, `${name}: message`);
      t.ok((err as Error).message.startsWith(`${field}: `), `${name}: the message starts with the field`);
    }
  }
});
