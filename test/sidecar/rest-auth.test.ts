import t from 'tap';
import { backend } from '../helpers/net.js';
import { api, config, startBinary, tmpDir, writeJson } from './helpers.js';

t.test('with a token, every call but /healthz needs it', async (t) => {
  const v1 = await backend('v1');
  t.teardown(() => v1.close());
  const dir = tmpDir(t);
  const sc = await startBinary(t, ['--config', writeJson(dir, 'c.json', config(v1.port)), '--no-state'], { UPSHIFT_API_TOKEN: 's3cret-token' });
  const port = sc.apiPort;
  t.equal(sc.apiHost, '127.0.0.1', 'the config port listens on 127.0.0.1 unless told otherwise');

  t.equal((await api(port, 'GET', '/healthz')).status, 200, '/healthz is open (for liveness probes)');
  const cases: Array<[string, string, Record<string, string>]> = [
    ['GET', '/configuration/cluster', {}],
    ['GET', '/status', {}],
    ['GET', '/metrics', {}],
    ['PUT', '/configuration/cluster', { authorization: 'Bearer wrong' }],
    ['DELETE', '/configuration/cluster/v1', { authorization: 'Bearer s3cret-toke' }],
    ['GET', '/configuration/cluster', { authorization: 'Bearer s3cret-token-and-more' }],
    ['GET', '/configuration/cluster', { authorization: 'Basic czNjcmV0LXRva2Vu' }],
    ['GET', '/configuration/cluster', { authorization: 's3cret-token' }],
    ['GET', '/nowhere', {}],
  ];
  for (const [method, path, headers] of cases) {
    const r = await api(port, method, path, method === 'PUT' ? { cluster: { version: '9', servers: [{ hostname: '127.0.0.1', port: v1.port }] } } : undefined, headers);
    t.equal(r.status, 401, `${method} ${path} ${headers['authorization'] ?? '(no header)'}: 401`);
    t.equal(r.json?.error?.code, 'UPS_ERR_UNAUTHORIZED');
    t.match(r.headers['www-authenticate'], /^Bearer/);
  }
  const auth = { authorization: 'Bearer s3cret-token' };
  const list = await api(port, 'GET', '/configuration/cluster', undefined, auth);
  t.equal(list.status, 200, 'the right token works');
  t.equal(list.json.length, 1, 'and the rejected PUT and DELETE changed nothing');
  t.equal((await api(port, 'GET', '/configuration/cluster', undefined, { authorization: 'bearer   s3cret-token' })).status, 200, 'the scheme is case-insensitive');
  t.equal((await api(port, 'GET', '/metrics', undefined, auth)).status, 200);
});

t.test('--api-token wins over the config file', async (t) => {
  const v1 = await backend('v1');
  t.teardown(() => v1.close());
  const dir = tmpDir(t);
  const cfg = config(v1.port, { configService: { port: 0, token: 'from-file' } });
  const sc = await startBinary(t, ['--config', writeJson(dir, 'c.json', cfg), '--no-state', '--api-token', 'from-flag']);
  t.equal((await api(sc.apiPort, 'GET', '/status', undefined, { authorization: 'Bearer from-file' })).status, 401);
  t.equal((await api(sc.apiPort, 'GET', '/status', undefined, { authorization: 'Bearer from-flag' })).status, 200);
});
