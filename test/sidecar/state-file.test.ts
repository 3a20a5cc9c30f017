import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import t from 'tap';
import { StateStore } from '../../src/sidecar/index.js';
import { tmpDir } from './helpers.js';

t.test('writes are atomic and serialized; a later snapshot includes earlier changes', async (t) => {
  const dir = tmpDir(t);
  const store = new StateStore(`${dir}/state.json`);
  t.equal(await store.load(), undefined, 'no file yet: nothing to restore');
  let current: Array<{ uuid: string; version: string }> = [];
  const writes: Array<Promise<void>> = [];
  for (let i = 0; i < 20; i++) {
    current = [...current, { uuid: `u${i}`, version: `${i}.0` }];
    writes.push(store.save(() => current));
  }
  await Promise.all(writes);
  const loaded = await store.load();
  t.equal(loaded?.length, 20, 'the last write holds every change');
  t.same(readdirSync(dir), ['state.json'], 'no temp files left');
  t.equal(JSON.parse(readFileSync(`${dir}/state.json`, 'utf8')).format, 'upshift-state/1');
});

t.test('a failed write is reported and the queue goes on', async (t) => {
  const dir = tmpDir(t);
  const store = new StateStore(`${dir}/missing-dir/state.json`);
  await t.rejects(store.save(() => []), { code: 'ENOENT' });
  const ok = new StateStore(`${dir}/state.json`);
  await ok.save(() => { throw new Error('snapshot failed'); }).catch(() => {});
  await ok.save(() => [{ uuid: 'a', version: '1' }]);
  t.equal((await ok.load())?.length, 1);
});

t.test('a damaged or foreign file is refused with a reason, never silently replaced', async (t) => {
  const dir = tmpDir(t);
  const file = `${dir}/state.json`;
  writeFileSync(file, '{"format": "upshift-state/1", "clus');
  await t.rejects(new StateStore(file).load(), { code: 'UPS_ERR_STATE_FILE', message: /is not valid JSON/ });
  writeFileSync(file, '{"hello": 1}');
  await t.rejects(new StateStore(file).load(), { code: 'UPS_ERR_STATE_FILE', message: /not an upshift state file/ });
});
