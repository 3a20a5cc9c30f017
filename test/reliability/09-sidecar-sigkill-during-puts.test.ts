import t from 'tap';
import { api, config, startBinary, tmpDir, writeJson } from '../sidecar/helpers.js';
import { figure, PROFILE, sleep, startBackend } from './lib.js';

// Scenario 9: the sidecar (the real binary) is SIGKILLed in the middle of a
// stream of PUTs, several rounds over the same state file. A 202 promises the
// version is on disk: every version acknowledged before the kill must be
// there after the restart. Requests cut by the kill may or may not have
// landed (the client cannot know), but nothing that was never sent may
// appear, and the state file must always load.
const ROUNDS = PROFILE === 'soak' ? 10 : 3;
const STREAMS = 4;

t.test(`SIGKILL during a stream of PUTs, ${ROUNDS} rounds: every 202 survives`, async (t) => {
  const v1 = await startBackend('v1');
  t.teardown(() => v1.kill());
  const dir = tmpDir(t);
  const state = `${dir}/state.json`;
  const cfg = writeJson(dir, 'upshift.json', config(v1.port));
  const acked = new Set<string>();
  const sent = new Set<string>(['v1']);
  let cut = 0;
  let lost: string[] = [];

  for (let round = 0; round < ROUNDS; round++) {
    const sc = await startBinary(t, ['--config', cfg, '--state', state]);
    const list = await api(sc.apiPort, 'GET', '/configuration/cluster');
    const present = new Set<string>((list.json ?? []).map((c: { cluster: { uuid: string } }) => c.cluster.uuid));
    lost = [...acked].filter((id) => !present.has(id));
    t.same(lost, [], `round ${round}: every version acknowledged so far is back (${acked.size} acked, ${present.size} present)`);
    t.same([...present].filter((id) => !sent.has(id)), [], `round ${round}: nothing appeared that was never sent`);

    let killed = false;
    let n = 0;
    const streams = Array.from({ length: STREAMS }, async (_, s) => {
      while (!killed) {
        const id = `r${round}-s${s}-${n++}`;
        sent.add(id);
        try {
          const r = await api(sc.apiPort, 'PUT', '/configuration/cluster', {
            cluster: { uuid: id, version: `${round + 2}.${s}.${n}`, servers: [{ hostname: '127.0.0.1', port: v1.port }], upgradeTransition: { mode: 'SESSION' } },
          });
          if (r.status === 202) acked.add(id);
          else if (!killed) t.fail(`PUT ${id} got ${r.status} ${r.text}`);
        } catch {
          cut++; // cut by the kill: may or may not have landed
        }
      }
    });
    // Kill at a different point of the stream each round.
    await sleep(300 + round * 170);
    killed = true;
    sc.child.kill('SIGKILL');
    await sc.exited;
    await Promise.all(streams);
  }
  const last = await startBinary(t, ['--config', cfg, '--state', state]);
  const list = await api(last.apiPort, 'GET', '/configuration/cluster');
  const present = new Set<string>((list.json ?? []).map((c: { cluster: { uuid: string } }) => c.cluster.uuid));
  lost = [...acked].filter((id) => !present.has(id));
  t.same(lost, [], `after the last kill every acknowledged version is back (${acked.size} acked, ${present.size} present)`);
  t.ok(acked.size >= ROUNDS * STREAMS, `the PUTs went through between kills (${acked.size})`);

  figure(t, {
    scenario: '9 sidecar SIGKILL mid-PUTs',
    requests: acked.size + cut,
    errors: cut,
    faults: `${ROUNDS}/${ROUNDS} SIGKILLs survived (state file reloaded each time)`,
    lost: lost.length === 0 ? `none of ${acked.size} acknowledged versions` : `${lost.length} acknowledged versions`,
    notes: `${cut} PUTs cut by the kills (unacknowledged, may or may not have landed)`,
  });
});
