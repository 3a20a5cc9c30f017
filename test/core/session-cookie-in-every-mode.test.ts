import t from 'tap';
import { get } from '../helpers/net.js';
import { at, backends, proxyFor } from '../helpers/proxy.js';

import { MODES, modeOptions } from '../helpers/modes.js';
const COOKIE = /^dynsoftup=([A-Za-z0-9._-]+)~([A-Za-z0-9_-]{16})~([0-9a-z]+); Max-Age=(\d+);/;

/** The `dynsoftup` value a response sets, or undefined. */
function session(r: { headers: Record<string, unknown> }): { value: string; uuid: string; id: string; maxAge: number } | undefined {
  const all = (r.headers['set-cookie'] as string[] | undefined) ?? [];
  const line = all.find((c) => c.startsWith('dynsoftup='));
  const m = line === undefined ? null : COOKIE.exec(line);
  return m === null ? undefined : { value: `${m[1]}~${m[2]}~${m[3]}`, uuid: m[1]!, id: m[2]!, maxAge: Number(m[4]) };
}

for (const mode of MODES) {
  t.test(`${mode}: one INSTANT version sets the session cookie, only when needed`, async (t) => {
    const [v1] = await backends(t, ['v1']);
    const proxy = await proxyFor(t, { ...modeOptions(mode), versions: [{ uuid: 'v1', version: '1.0', servers: at(v1!) }] });
    const port = proxy.address.port;
    const first = await get(port);
    const s = session(first);
    t.equal(s?.uuid, 'v1', 'a new client gets a cookie naming the version that served it');
    t.equal(s?.maxAge, 3600, 'with the default lifetime');
    const again = await get(port, { cookie: `dynsoftup=${s!.value}` });
    t.equal(again.headers['set-cookie'], undefined, 'a fresh cookie is not set again (static assets stay cacheable)');
    const proto = session(await get(port, { cookie: 'dynsoftup=v1' }));
    t.equal(proto?.uuid, 'v1', "the prototype's value keeps its version and gets an id");
    const old = Math.floor(Date.now() / 1000) - 1801;
    const slid = session(await get(port, { cookie: `dynsoftup=v1~${s!.id}~${old.toString(36)}` }));
    t.equal(slid?.id, s!.id, 'less than half its lifetime left: set again, same session id');
  });

  t.test(`${mode}: sessions begun under INSTANT stay on their version when a SESSION transition starts`, async (t) => {
    const [v1, v2] = await backends(t, ['v1', 'v2']);
    const proxy = await proxyFor(t, { ...modeOptions(mode), versions: [{ uuid: 'v1', version: '1.0', servers: at(v1!) }] });
    const port = proxy.address.port;
    const jars = await Promise.all([1, 2, 3].map(async () => session(await get(port))!.value));
    proxy.addVersion({ uuid: 'v2', version: '2.0', servers: at(v2!), upgradeTransition: { mode: 'SESSION', sessionTimeout: 120 } });
    for (const jar of jars) {
      const r = await get(port, { cookie: `dynsoftup=${jar}` });
      t.equal(r.body, 'v1', 'an existing client stays on v1');
    }
    const fresh = await get(port);
    t.equal(fresh.body, 'v2', 'a new client goes to v2');
    t.same([session(fresh)?.uuid, session(fresh)?.maxAge], ['v2', 120], "with a v2 session of the newest's lifetime");
    t.equal((await get(port, { cookie: `dynsoftup=${session(fresh)!.value}` })).body, 'v2');
  });
}
