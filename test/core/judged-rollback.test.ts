import t from 'tap';
import type { ProxyEvents } from '../../src/core/index.js';
import { get } from '../helpers/net.js';
import { at, backends, proxyFor } from '../helpers/proxy.js';

import { MODES, modeOptions } from '../helpers/modes.js';

/** A backend answering 500 to the requests `fails(n)` picks (n counts from 1), its name otherwise. */
const failing = (fails: (n: number) => boolean) => (name: string) => {
  let n = 0;
  return (_req: unknown, res: import('node:http').ServerResponse) => {
    n++;
    if (name === 'v2' && fails(n)) {
      res.statusCode = 500;
      res.end('broken');
    } else {
      res.end(name);
    }
  };
};

for (const mode of MODES) {
  t.test(`${mode}: a newest answering 500 to everything is rolled back within 20 requests`, async (t) => {
    const [b1, b2] = await backends(t, ['v1', 'v2'], failing(() => true));
    const proxy = await proxyFor(t, { ...modeOptions(mode), versions: [{ uuid: 'v1', version: '1.0', servers: at(b1!) }, { uuid: 'v2', version: '2.0', servers: at(b2!) }] });
    const events: Array<ProxyEvents['rollback']> = [];
    proxy.events.on('rollback', (e) => events.push(e));
    let sent = 0;
    let saw5xx = 0;
    while (proxy.status().versions[0]!.state !== 'rolled-back' && sent < 100) {
      if ((await get(proxy.address.port)).status >= 500) saw5xx++;
      sent++;
    }
    // Every GET the newest answered 500 was sent on to the previous version.
    t.equal(saw5xx, 0, 'no client saw a 5xx');
    t.ok(sent <= 20, `rolled back after ${sent} requests`);
    const v2 = proxy.status().versions.find((v) => v.uuid === 'v2')!;
    t.equal(v2.state, 'rolled-back');
    t.equal(v2.rolledBack?.reason, 'errors');
    t.match(v2.rolledBack?.evidence, { newest: { failures: Number, status: Number }, reference: { rung: String } });
    t.equal(v2.judgement.verdict, 'rolled-back');
    t.equal(v2.judgement.lastDecision?.reason, 'errors');
    t.equal(events.length, 1, 'one rollback event');
    t.match(events[0], { fromUuid: 'v2', toUuid: 'v1', reason: 'errors' });
    const seen = b2!.requests.length;
    for (let i = 0; i < 10; i++) t.equal((await get(proxy.address.port)).body, 'v1', 'new traffic goes to the previous version');
    t.equal(b2!.requests.length, seen, 'the rolled-back version gets no new request');
    t.same(proxy.status().versions.map((v) => v.uuid), ['v2', 'v1'], 'it stays listed');
  });

  t.test(`${mode}: a newest failing 30 % is rolled back within 150 requests`, async (t) => {
    const [b1, b2] = await backends(t, ['v1', 'v2'], failing((n) => n % 10 < 3));
    const proxy = await proxyFor(t, { ...modeOptions(mode), versions: [{ uuid: 'v1', version: '1.0', servers: at(b1!) }, { uuid: 'v2', version: '2.0', servers: at(b2!) }] });
    // The previous version served alone before: its history is the reference.
    proxy.rollback('v2');
    for (let i = 0; i < 50; i++) await get(proxy.address.port);
    proxy.resume('v2');
    t.equal(proxy.status().versions[0]!.judgement.window.requests, 0, 'resume emptied the window');
    let sent = 0;
    while (proxy.status().versions[0]!.state !== 'rolled-back' && sent < 300) {
      await get(proxy.address.port);
      sent++;
    }
    t.ok(sent <= 150, `rolled back after ${sent} requests`);
    t.match(proxy.status().versions[0], { state: 'rolled-back', rolledBack: { reason: 'errors', evidence: { reference: { rung: 'history', failures: 0 } } } });
    // Its history: the 50 requests before, and the GETs the newest's 500s were retried on.
    const evidence = proxy.status().versions[0]!.rolledBack?.evidence as { reference?: { requests?: number } } | undefined;
    t.ok((evidence?.reference?.requests ?? 0) >= 50, 'the reference holds the earlier requests');
  });

  t.test(`${mode}: judge.enabled false keeps the old behaviour`, async (t) => {
    const [b1, b2] = await backends(t, ['v1', 'v2'], failing(() => true));
    const proxy = await proxyFor(t, { ...modeOptions(mode), judge: { enabled: false }, versions: [{ uuid: 'v1', version: '1.0', servers: at(b1!) }, { uuid: 'v2', version: '2.0', servers: at(b2!) }] });
    for (let i = 0; i < 40; i++) t.equal((await get(proxy.address.port)).status, 500);
    t.match(proxy.status().versions[0], { state: 'up', judgement: { verdict: 'off' } });
  });
}
