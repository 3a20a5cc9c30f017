import type net from 'node:net';
import t from 'tap';
import type { Test } from 'tap';
import { createProxy, type VersionInput } from '../../src/core/index.js';
import type { Backend } from '../helpers/net.js';
import { get, until } from '../helpers/net.js';
import { MODES, modeOptions, type ModeName } from '../helpers/modes.js';
import { at, backends } from '../helpers/proxy.js';

// A comparison reads the previous version's answer on a connection no client
// waits for (a shadow copy, a CONCURRENT leg read on), bounded by
// `compare.timeout`. Closing the proxy ends those at once: it must not keep the
// connections (and the process) alive for up to that long.
const COMPARE_TIMEOUT = 60_000;

/** The previous version's server: it takes requests and never answers; its open connections are counted. */
function hanging(b: Backend): () => number {
  const open = new Set<net.Socket>();
  b.server.on('connection', (s) => {
    open.add(s);
    s.on('close', () => open.delete(s));
  });
  return () => open.size;
}

async function closesPromptly(t: Test, mode: ModeName, newest: Omit<VersionInput, 'servers'>): Promise<void> {
  const [v1, v2] = await backends(t, ['v1', 'v2'], (name) => (_req, res) => {
    if (name === 'v2') res.end('v2');
  });
  const openAtPrevious = hanging(v1!);
  const proxy = await createProxy({ host: '127.0.0.1', ...modeOptions(mode), compare: { timeout: COMPARE_TIMEOUT }, versions: [
    { uuid: 'v1', version: '1.0', servers: at(v1!) },
    { uuid: 'v2', version: '2.0', servers: at(v2!), ...newest },
  ] });
  let closed = false;
  t.teardown(() => (closed ? undefined : proxy.close({ drainTimeout: 0 })));
  t.equal((await get(proxy.address.port)).body, 'v2', 'the client gets the newest answer');
  t.ok(await until(() => v1!.requests.length === 1 && openAtPrevious() === 1), 'the previous version got its copy and holds it unanswered');
  t.equal(proxy.status().versions.find((v) => v.uuid === 'v2')!.comparison.compared, 0, 'the comparison is still pending');

  const closing = proxy.close({ drainTimeout: 5000 }).then(() => { closed = true; });
  // Without an end at close, the copy's connection stays until compare.timeout (60 s).
  t.ok(await until(() => closed, 10_000), 'close() resolved');
  t.ok(await until(() => openAtPrevious() === 0, 10_000), 'the pending comparison\'s connection to the previous version is closed');
  await closing;
}

for (const mode of MODES) {
  t.test(mode, async (t) => {
    t.test('a shadow copy in flight ends when the proxy closes', (t) => closesPromptly(t, mode, { compare: { sample: 1 } }));
    t.test('a CONCURRENT leg read on for comparison ends when the proxy closes', (t) => closesPromptly(t, mode, { upgradeTransition: { mode: 'CONCURRENT' } }));
  });
}
