import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import t from 'tap';

// `npm test` reads tap's TAP stream through scripts/tap-summary.mjs: a line
// per file (or one progress line on a terminal), every failing file's TAP in
// full, and "N passed, N failed" last, as CI's .ci/run expects.
const SCRIPT = fileURLToPath(new URL('../../scripts/tap-summary.mjs', import.meta.url));
const TAP = `TAP version 14
1..2
# Subtest: test/a.test.ts
    # Subtest: works
    ok 1 - works # time=1ms
    1..1
ok 1 - test/a.test.ts # time=1200.5ms

# Subtest: test/b.test.ts
    # Subtest: breaks
        not ok 1 - should be equal
          ---
          found: 1
          wanted: 2
          at:
            fileName: test/b.test.ts
          ...
        1..1
    not ok 1 - breaks # time=3ms
    1..1
not ok 2 - test/b.test.ts # time=20ms

# No coverage generated
# { total: 7, pass: 6, fail: 1 }
# time=1300ms
`;

function summary(args: string[], input: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [SCRIPT, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.on('close', (code) => resolve({ code, out }));
    child.stdin.end(input);
  });
}

t.test('a line per file, the failure in full, the totals last', async (t) => {
  const { code, out } = await summary([], TAP);
  t.equal(code, 1, 'a failure fails');
  t.match(out, /^ok {3}test\/a\.test\.ts 1\.2s\n/, 'a passing file is one line');
  t.match(out, /# Subtest: breaks\n {8}not ok 1 - should be equal\n {10}---\n {10}found: 1\n {10}wanted: 2\n/, 'the failing file\'s TAP, diagnostics and all');
  t.notMatch(out, /ok 1 - works/, 'but not a passing file\'s');
  t.match(out, /FAIL test\/b\.test\.ts 0\.0s\n/);
  t.match(out, /failed: test\/b\.test\.ts\n/);
  t.match(out, /\n6 passed, 1 failed\n$/, 'the last line counts assertions');
});

t.test('on a terminal, one progress line rewritten in place', async (t) => {
  const { out } = await summary(['--tty'], TAP);
  t.match(out, /^\[1\] 0 failed {2}ok {3}test\/a\.test\.ts 1\.2s\r\x1b\[K/, 'the line is cleared before the next');
  t.match(out, /\[2\] 1 failed {2}FAIL test\/b\.test\.ts/);
  t.match(out, /\n6 passed, 1 failed\n$/);
});

t.test('a runner that stops before its totals fails', async (t) => {
  const { code, out } = await summary([], TAP.slice(0, TAP.indexOf('# No coverage')) + 'Error: out of memory\n');
  t.equal(code, 1);
  t.match(out, /Error: out of memory/, 'what it said last is shown');
  t.match(out, /\n0 passed, 1 failed\n$/, 'and counts as a failure');
});
