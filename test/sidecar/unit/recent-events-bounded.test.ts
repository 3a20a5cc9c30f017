import t from 'tap';
import { ProxyEventEmitter } from '../../../src/core/index.js';
import { RECENT_EVENTS, RecentEvents } from '../../../src/sidecar/recent-events.js';

t.test('the recent events keep the notable ones, newest last, bounded', async (t) => {
  const events = new ProxyEventEmitter();
  const recent = new RecentEvents({ events });
  events.publish('version:add', { proxyId: 1, uuid: 'v2', version: '2.0.0', mode: 'SESSION' });
  events.publish('route', { proxyId: 1, connectionId: 1, uuid: 'v2', version: '2.0.0', mode: 'SESSION', reason: 'newest' });
  events.publish('upstream:eject', { proxyId: 1, uuid: 'v2', version: '2.0.0', server: '127.0.0.1:3000', failures: 3, until: 0 });
  recent.launch('v2', '2.0.0', 'ready', undefined);
  const list = recent.list();
  t.same(list.map((e) => [e.type, e.uuid, e.text]), [
    ['version:add', 'v2', '2.0.0 added (SESSION)'],
    ['upstream:eject', 'v2', 'server 127.0.0.1:3000 of 2.0.0 ejected after 3 failure(s)'],
    ['launch', 'v2', '2.0.0: ready'],
  ], 'per-request events (route) are not kept');
  t.ok(list.every((e) => !Number.isNaN(Date.parse(e.at))), 'each has its time');

  for (let i = 0; i < RECENT_EVENTS * 3; i++) events.publish('recover', { proxyId: 1, uuid: `u${i}`, version: String(i) });
  const after = recent.list();
  t.equal(after.length, RECENT_EVENTS, `at most ${RECENT_EVENTS}`);
  t.equal(after.at(-1)!.uuid, `u${RECENT_EVENTS * 3 - 1}`, 'the newest kept');
  t.equal(after[0]!.uuid, `u${RECENT_EVENTS * 2}`, 'the oldest dropped');

  recent.close();
  events.publish('version:add', { proxyId: 1, uuid: 'v3', version: '3.0.0', mode: 'INSTANT' });
  t.equal(recent.list().at(-1)!.uuid, after.at(-1)!.uuid, 'closed: it listens no more');
  t.equal(events.listenerCount('version:add'), 0);
});
