import t from 'tap';
import { runBinary } from './helpers.js';

// What the CLI refuses it names: an unknown command with the commands there
// are (and the nearest), a rejected value echoed as config errors echo it.
t.test('unknown commands and rejected values', async (t) => {
  const cases: Array<[string[], string]> = [
    [['bogus'], "upshift: unknown command 'bogus' (commands: status, watch, open, cluster, rollback, promote, resume, diff, demo; see upshift --help)\n"],
    [['statsu'], "upshift: unknown command 'statsu' — did you mean status? (commands: status, watch, open, cluster, rollback, promote, resume, diff, demo; see upshift --help)\n"],
    [['cluster', 'lst'], "upshift: unknown command 'lst' — did you mean list? (commands: list, get, add, patch, rm; see upshift cluster --help)\n"],
    [['cluster', 'add', 'v2.json', '--timeout', 'soon'], 'upshift: --timeout: must be a number of seconds above 0, got "soon"\n'],
    [['demo', '--proxy-port', '80800'], 'upshift: --proxy-port: must be an integer from 0 to 65535, got "80800"\n'],
    [['cluster', 'patch', 'v2', '{percentage: 5}'], 'upshift: <json>: is not valid JSON: line 1, column 2: unexpected "p", expected a "key" or }, got "{percentage: 5}"\n'],
  ];
  for (const [args, expected] of cases) {
    const r = await runBinary(args);
    t.equal(r.code, 1, `${args.join(' ')}: exit 1`);
    t.equal(r.stderr, expected, args.join(' '));
  }
  const opt = await runBinary(['--bogus']);
  t.match(opt.stderr, /^upshift: unknown option '--bogus'\n/, 'commander\'s own errors speak in the same voice');
});
