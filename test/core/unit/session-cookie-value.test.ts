import t from 'tap';
import { formatSessionCookie, needsRefresh, newSessionId, parseSessionCookie, sessionAnswer } from '../../../src/core/routing/session-cookie.js';

const NOW = 1_796_000_000;

t.test('the value is <uuid>~<id>~<issued>; the first ~ ends the uuid whatever it holds', async (t) => {
  const v = formatSessionCookie('v-2.0_rc.1', 'AbCdEfGh-_123456', NOW);
  t.equal(v, `v-2.0_rc.1~AbCdEfGh-_123456~${NOW.toString(36)}`);
  t.same(parseSessionCookie(v), { uuid: 'v-2.0_rc.1', id: 'AbCdEfGh-_123456', issued: NOW });
});

t.test("the prototype's bare <uuid> still names its version, without id or time", async (t) => {
  t.same(parseSessionCookie('3f2a9c1e-1b2c-4d5e-8f90-123456789abc'), { uuid: '3f2a9c1e-1b2c-4d5e-8f90-123456789abc', id: undefined, issued: undefined });
  t.equal(parseSessionCookie(''), undefined);
  t.equal(parseSessionCookie(undefined), undefined);
});

t.test('a damaged id or time is dropped, the uuid kept', async (t) => {
  t.same(parseSessionCookie('v1~short~zz'), { uuid: 'v1', id: undefined, issued: parseInt('zz', 36) });
  t.same(parseSessionCookie('v1~AbCdEfGh12345678~NOT-A-TIME'), { uuid: 'v1', id: 'AbCdEfGh12345678', issued: undefined });
  t.same(parseSessionCookie('v1~AbCdEfGh12345678'), { uuid: 'v1', id: 'AbCdEfGh12345678', issued: undefined });
});

t.test('set again only when missing, naming another version, or past half its lifetime', async (t) => {
  const fresh = parseSessionCookie(formatSessionCookie('v1', 'AbCdEfGh12345678', NOW))!;
  t.equal(needsRefresh(undefined, 'v1', 3600, NOW), true, 'no cookie yet');
  t.equal(needsRefresh(parseSessionCookie('v1'), 'v1', 3600, NOW), true, "the prototype's value gets an id");
  t.equal(needsRefresh(fresh, 'v1', 3600, NOW + 1800), false, 'half its lifetime left: not yet');
  t.equal(needsRefresh(fresh, 'v1', 3600, NOW + 1801), true, 'less than half left');
  t.equal(needsRefresh(fresh, 'v2', 3600, NOW + 1), true, 'the version changed');
  t.equal(needsRefresh(fresh, 'v1', 3600, NOW - 5), true, 'written in the future (a clock ahead): written anew');
});

t.test('the session id survives a change of version and a refresh', async (t) => {
  const given = parseSessionCookie(formatSessionCookie('v1', 'AbCdEfGh12345678', NOW));
  const a = sessionAnswer(given, 'v2', 3600, NOW + 10, () => 'never-used-here');
  t.equal(a.id, 'AbCdEfGh12345678');
  t.equal(a.value, formatSessionCookie('v2', 'AbCdEfGh12345678', NOW + 10));
  t.same(sessionAnswer(given, 'v1', 3600, NOW + 10), { id: 'AbCdEfGh12345678', value: undefined });
  const b = sessionAnswer(parseSessionCookie('v1'), 'v1', 3600, NOW, () => 'NewIdNewId123456');
  t.equal(b.value, formatSessionCookie('v1', 'NewIdNewId123456', NOW));
});

t.test('new session ids: 16 base64url characters, never the same twice', async (t) => {
  const ids = new Set<string>();
  for (let i = 0; i < 2000; i++) ids.add(newSessionId());
  t.equal(ids.size, 2000);
  for (const id of ids) if (!/^[A-Za-z0-9_-]{16}$/.test(id)) t.fail(id);
  t.ok([...ids].every((id) => parseSessionCookie(formatSessionCookie('v1', id, NOW))?.id === id), 'each is read back');
});
