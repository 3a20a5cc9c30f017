import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { nearest } from '../core/suggest.js';
import { changes } from './diff.js';
import { differencesTable } from './differences.js';
import { ApiCallError, call, resolveTarget, table, type ApiTarget } from './client.js';
import { renderFleet } from './store/fleet-text.js';
import type { SharedStatus } from './store/routing.js';
import { jsonErrorAt } from './json.js';
import { rewritePrototypeFlags } from './prototype-flags.js';
import type { Sidecar } from './sidecar.js';
import { tokenFromArgs } from './token.js';

const EXAMPLE = `
Example config (the seed's format; everything but proxy.port,
configService.port and a cluster is optional):

  {
    "proxy": { "port": 8080 },
    "configService": { "port": 9090 },
    "cluster": {
      "version": "1.0.0",
      "servers": [{ "hostname": "127.0.0.1", "port": 3001 }],
      "upgradeTransition": { "mode": "INSTANT" }
    }
  }

Examples:
  upshift --config upshift.json                  start the sidecar
  upshift --config upshift.json --log-level DEBUG
  upshift -configFile=upshift.json -logLevel=DEBUG   the same, in the prototype's flags
  upshift status --config upshift.json           versions, health and traffic share
  upshift watch                                  the same, live (Ctrl-C ends it)
  upshift open                                   print the status page's address
  upshift cluster add v2.json                    add a version ({"cluster": {...}})
  upshift cluster list
  upshift cluster rm <uuid>
  upshift rollback <uuid>                        roll a version back now (promote, resume likewise)
  upshift diff <uuid>                            how its answers differ from the previous version's
  upshift demo                                   two demo versions behind a sidecar

Log levels: CRITICAL, ERROR, WARNING, NOTICE, INFO, DEBUG (the seed's) or
fatal, error, warn, info, debug, trace, silent (pino's). Logs go to stderr:
readable lines on a terminal, JSON lines otherwise (--log-format json|pretty).
`;

function fail(message: string): never {
  process.stderr.write(`upshift: ${message}\n`);
  process.exit(1);
}

/** A value given on the command line was refused: named and echoed as config errors are (`field: rule, got "value"`). */
function rejected(field: string, rule: string, value: string): never {
  fail(`${field}: ${rule}, got ${JSON.stringify(value)}`);
}

/** `upshift bogus`, `upshift cluster bogus`: the commands there are, and the nearest one. */
function unknownCommand(cmd: Command, name: string): never {
  const names = cmd.commands.map((c) => c.name()).filter((n) => n !== 'help');
  const near = nearest(name, names);
  const where = cmd.parent === null ? 'upshift' : `upshift ${cmd.name()}`;
  fail(`unknown command '${name}'${near !== undefined ? ` — did you mean ${near}?` : ''} (commands: ${names.join(', ')}; see ${where} --help)`);
}

function parseJsonArg(field: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    rejected(field, `is not valid JSON: ${jsonErrorAt(text)}`, text);
  }
}

function apiOptions(cmd: Command): Command {
  return cmd
    .option('--api <url>', 'config API of the running sidecar (default: from --config, else UPSHIFT_API, else http://127.0.0.1:9090)')
    .option('-c, --config <file>', 'read the config API address and token from this config file')
    .option('--api-token <token>', 'bearer token (default: UPSHIFT_API_TOKEN, else the config file\'s)');
}

function target(cmd: Command): ApiTarget {
  const o = cmd.optsWithGlobals<{ api?: string; config?: string; apiToken?: string }>();
  return resolveTarget(o);
}

/** Runs a subcommand body; API failures become one line on stderr and exit 1. */
function run(fn: (...args: any[]) => Promise<void>): (...args: any[]) => Promise<void> {
  return async (...args) => {
    try {
      await fn(...args);
    } catch (err) {
      if (err instanceof ApiCallError) fail(err.message);
      throw err;
    }
  };
}

function readCluster(file: string): unknown {
  let text: string;
  try {
    text = file === '-' ? readFileSync(0, 'utf8') : readFileSync(file, 'utf8');
  } catch (err) {
    fail(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    fail(`${file} is not valid JSON: ${jsonErrorAt(text)}`);
  }
  // Both the seed's body ({"cluster": {...}}) and a bare cluster are accepted.
  return typeof json === 'object' && json !== null && 'cluster' in json ? json : { cluster: json };
}

/** State (up/down) and GRADUAL percentage of each version, from /status. */
async function versionStates(t: ApiTarget): Promise<Map<string, { state: string; percentage?: number }>> {
  const { data } = await call(t, 'GET', '/status');
  return new Map((data as { versions: Array<{ uuid: string; state: string; percentage?: number }> }).versions.map((v) => [v.uuid, v]));
}

/** A cluster with its GRADUAL share, which the cluster JSON does not carry. */
async function withPercentage(t: ApiTarget, c: Row): Promise<Row & { percentage?: number }> {
  const pct = (await versionStates(t)).get(c.uuid)?.percentage;
  return pct === undefined ? c : { ...c, percentage: pct };
}

type Row = { uuid: string; version: string; mode?: string; upgradeTransition?: { mode: string }; servers: Array<{ hostname: string; port: number }>; launch?: { state: string; message?: string } };

function servers(v: Row): string {
  const list = v.servers.map((s) => `${s.hostname}:${s.port}`).join(',');
  return v.launch ? `${v.launch.state}${v.launch.message ? ` (${v.launch.message})` : ''}${list ? ` ${list}` : ''}` : list;
}

const SPINNER = ['|', '/', '-', '\\'];

/** Follows a container version's start until it is ready or failed. */
async function follow(t: ApiTarget, uuid: string, seconds: number): Promise<void> {
  const end = Date.now() + seconds * 1000;
  let last = '';
  // On a terminal the current state is redrawn in place behind a spinner; elsewhere each change is a line.
  const tty = process.stdout.isTTY === true;
  let frame = 0;
  const draw = (line: string, final: boolean): void => {
    if (!tty) {
      if (line !== last) process.stdout.write(`  ${line}\n`);
    } else {
      process.stdout.write(`\r\x1b[2K${final ? ' ' : SPINNER[frame++ % SPINNER.length]} ${line}${final ? '\n' : ''}`);
    }
    last = line;
  };
  while (Date.now() < end) {
    const { data } = await call(t, 'GET', `/configuration/cluster/${uuid}`);
    const launch = (data as { cluster: Row }).cluster.launch;
    if (launch === undefined) return;
    const line = `${launch.state}${launch.message ? `: ${launch.message}` : ''}`;
    const final = launch.state === 'ready' || launch.state === 'failed';
    draw(line, final);
    if (launch.state === 'ready') return;
    if (launch.state === 'failed') fail(`version ${uuid} failed to start: ${launch.message ?? 'no reason given'}`);
    await new Promise((r) => setTimeout(r, tty ? 100 : 500));
  }
  if (tty) process.stdout.write('\n');
  fail(`version ${uuid} is not ready after ${seconds}s (still starting; see upshift status)`);
}

export function buildCli(): Command {
  const program = new Command('upshift')
    .description('A reverse proxy for zero-downtime upgrades: routes each client to the right version of your app and rolls back when the newest misbehaves.')
    .enablePositionalOptions()
    .option('-c, --config <file>', 'config file (JSON) to start the sidecar with; the prototype\'s -configFile=FILE and -configFile FILE work too')
    .addOption(new Option('-l, --log-level <level>', 'log level: CRITICAL, ERROR, WARNING, NOTICE, INFO, DEBUG or a pino level (default: the config\'s logLevel, else INFO); the prototype\'s -logLevel=LEVEL and -logLevel LEVEL work too'))
    .option('--log-format <format>', 'json or pretty (default: pretty when stderr is a terminal, else json)')
    .option('-s, --state <file>', 'state file that keeps runtime changes across restarts (default: <config>.state.json)')
    .option('--no-state', 'keep runtime changes in memory only')
    .option('--api-token <token>', 'require this bearer token on the config API (default: UPSHIFT_API_TOKEN, else configService.token)')
    .addHelpText('after', EXAMPLE)
    .showHelpAfterError('(upshift --help lists every option)')
    // Commander's own errors ("error: unknown option") in the style of ours ("upshift: ...").
    .configureOutput({ outputError: (str, write) => write(str.replace(/^error: /, 'upshift: ')) })
    .action(async (opts: { config?: string; logLevel?: string; logFormat?: string; state?: string | false; apiToken?: string }, cmd: Command) => {
      if (cmd.args.length > 0) unknownCommand(program, cmd.args[0]!);
      if (opts.config === undefined) fail('--config <file> is required to start the sidecar (see upshift --help)');
      await serve(opts.config, opts);
    });

  program.command('status')
    .description('show each version: mode, state, traffic share, requests, errors, fallbacks, ejections, servers')
    .option('--json', 'print the raw JSON')
    .action(run(async (opts: { json?: boolean }, cmd: Command) => {
      const { data } = await call(target(cmd), 'GET', '/status');
      if (opts.json) {
        process.stdout.write(JSON.stringify(data, null, 2) + '\n');
        return;
      }
      const s = data as { fleet?: SharedStatus; address: { host: string; port: number }; connections: number; stateFile?: { path: string; restored: boolean; note?: string }; versions: Array<Omit<Row, 'servers'> & { mode: string; state: string; rolledBack?: { reason: string }; newest: boolean; share: number; percentage?: number; counts?: string; sessions?: number; requests: number; errors: number; fallbacksIn: number; fallbacksOut: number; ejections: number; servers: Array<{ hostname: string; port: number; state?: string; healthy: boolean }> }> };
      process.stdout.write(`proxy ${s.address.host}:${s.address.port}, ${s.connections} open connection(s)\n`);
      if (s.stateFile?.restored === true) {
        const note = s.stateFile.note === undefined ? '' : ` ${s.stateFile.note}`;
        process.stdout.write(`versions restored from the state file ${s.stateFile.path}: the config's clusters were not used.${note}\n`);
      }
      const rows = [['VERSION', 'UUID', 'MODE', 'STATE', 'SHARE', 'SESSIONS', 'REQUESTS', 'ERRORS', 'FALLBACKS', 'EJECTIONS', 'SERVERS']];
      for (const v of s.versions) {
        rows.push([
          v.version + (v.newest ? ' *' : ''), v.uuid, v.mode + (v.percentage !== undefined ? ` ${v.percentage}%` : ''), v.state + (v.rolledBack ? ` (${v.rolledBack.reason})` : ''), `${v.share}%`,
          String(v.sessions ?? '-'), String(v.requests), String(v.errors), `${v.fallbacksOut} out/${v.fallbacksIn} in`, String(v.ejections),
          (v.launch ? `${v.launch.state}${v.launch.message ? ` (${v.launch.message})` : ''} ` : '') + v.servers.map((x) => `${x.hostname}:${x.port}${x.healthy ? '' : ` (${x.state ?? 'ejected'})`}`).join(','),
        ]);
      }
      process.stdout.write(table(rows) + '\n');
      if (s.fleet !== undefined) process.stdout.write(renderFleet(s.fleet) + '\n');
      if (s.versions.some((v) => v.counts === 'first-requests')) {
        process.stdout.write('stream mode: REQUESTS, ERRORS and FALLBACKS count the first request of each connection only (later requests on a kept-alive connection are piped unseen).\n');
      }
    }));
  apiOptions(program.commands.at(-1)!);

  apiOptions(program.command('watch')
    .description('a live view of the status: versions, share, requests/s, errors, p99, verdict, servers, last events (Ctrl-C ends it)')
    .option('--interval <seconds>', 'time between refreshes', '1')
    .option('--count <n>', 'stop after this many refreshes'))
    .action(run(async (opts: { interval: string; count?: string }, cmd: Command) => {
      const interval = Number(opts.interval);
      if (!(interval >= 0.1)) fail(`--interval must be a number of seconds, at least 0.1 (got ${opts.interval})`);
      const count = opts.count === undefined ? undefined : Number(opts.count);
      if (count !== undefined && !(Number.isInteger(count) && count >= 1)) fail(`--count must be a whole number, at least 1 (got ${opts.count})`);
      const { watch } = await import('./watch.js');
      await watch(target(cmd), { interval, count, out: process.stdout });
    }));

  apiOptions(program.command('open')
    .description('print the address of the status page (GET / of the config API), live in a browser'))
    .action(run(async (_o: unknown, cmd: Command) => {
      const t = target(cmd);
      // Reached first, so a wrong address is said here rather than in the browser.
      await call(t, 'GET', '/healthz');
      process.stdout.write(`${t.base}/\n`);
      if (t.token !== undefined) process.stderr.write('the page asks for the API token (it keeps it in memory only)\n');
    }));

  const cluster = program.command('cluster').description('list, add, change and remove versions of a running sidecar');
  cluster.on('command:*', (operands: string[]) => unknownCommand(cluster, operands[0]!));
  apiOptions(cluster.command('list').description('all versions, newest first, with their state (up/down/rolled-back)').option('--json', 'print the raw JSON'))
    .action(run(async (opts: { json?: boolean }, cmd: Command) => {
      const t = target(cmd);
      const { data } = await call(t, 'GET', '/configuration/cluster');
      if (opts.json) {
        process.stdout.write(JSON.stringify(data, null, 2) + '\n');
        return;
      }
      const list = (data as Array<{ cluster: Row }>).map((item) => item.cluster);
      const states = await versionStates(t);
      const rows = [['VERSION', 'UUID', 'MODE', 'STATE', 'SERVERS']];
      for (const v of list) rows.push([v.version, v.uuid, v.upgradeTransition?.mode ?? '', states.get(v.uuid)?.state ?? '?', servers(v)]);
      process.stdout.write(table(rows) + '\n');
    }));
  apiOptions(cluster.command('get').argument('<uuid>').description('one version as JSON'))
    .action(run(async (uuid: string, _o: unknown, cmd: Command) => {
      const { data } = await call(target(cmd), 'GET', `/configuration/cluster/${encodeURIComponent(uuid)}`);
      process.stdout.write(JSON.stringify(data, null, 2) + '\n');
    }));
  apiOptions(cluster.command('add').argument('<file>', 'JSON file with {"cluster": {...}} or the cluster itself; - reads stdin')
    .description('add a version; for containers, follow its start until ready')
    .option('--no-wait', 'do not wait for containers to be ready')
    .option('--timeout <seconds>', 'how long to wait for containers', '300'))
    .action(run(async (file: string, opts: { wait: boolean; timeout: string }, cmd: Command) => {
      const seconds = Number(opts.timeout);
      if (!(seconds > 0)) rejected('--timeout', 'must be a number of seconds above 0', opts.timeout);
      const t = target(cmd);
      const { data } = await call(t, 'PUT', '/configuration/cluster', readCluster(file));
      const uuid = (data as { uuid: string }).uuid;
      process.stdout.write(`${uuid}\n`);
      if (opts.wait) await follow(t, uuid, seconds);
    }));
  apiOptions(cluster.command('patch').argument('<uuid>').argument('<json>', 'the fields to change, e.g. \'{"percentage": 50}\' or \'{"upgradeTransition": {"mode": "SESSION"}}\'')
    .description('change a version: transition mode, GRADUAL share, servers, balancing; prints what changed'))
    .action(run(async (uuid: string, json: string, _o: unknown, cmd: Command) => {
      const patch = parseJsonArg('<json>', json);
      const body = typeof patch === 'object' && patch !== null && 'cluster' in patch ? patch : { cluster: patch };
      const t = target(cmd);
      const path = `/configuration/cluster/${encodeURIComponent(uuid)}`;
      const before = await withPercentage(t, ((await call(t, 'GET', path)).data as { cluster: Row }).cluster);
      const { data } = await call(t, 'PATCH', path, body);
      const after = await withPercentage(t, (data as { cluster: Row }).cluster);
      const changed = changes(before, after);
      process.stdout.write(changed.length === 0 ? `${uuid}: nothing changed\n` : `${uuid} changed:\n${changed.map((l) => `  ${l}\n`).join('')}`);
      process.stdout.write(JSON.stringify({ cluster: after }, null, 2) + '\n');
    }));
  apiOptions(cluster.command('rm').alias('remove').argument('<uuid>').description('remove a version (its connections drain first)'))
    .action(run(async (uuid: string, _o: unknown, cmd: Command) => {
      await call(target(cmd), 'DELETE', `/configuration/cluster/${encodeURIComponent(uuid)}`);
      process.stdout.write(`removed ${uuid}; its connections are draining\n`);
    }));

  const judgements = {
    rollback: ['roll a version back now: no new traffic, its clients go back to the previous version', 'rolled back'],
    promote: ['end the transition: the version takes every new client now and is no longer judged', 'promoted'],
    resume: ['put a rolled-back or promoted version back under judgement, its counters reset', 'resumed'],
  } as const;
  for (const [action, [description, done]] of Object.entries(judgements)) {
    apiOptions(program.command(action).argument('<uuid>').description(description))
      .action(run(async (uuid: string, _o: unknown, cmd: Command) => {
        const { data } = await call(target(cmd), 'POST', `/configuration/cluster/${encodeURIComponent(uuid)}/${action}`);
        const c = (data as { cluster: { uuid: string; version: string } }).cluster;
        process.stdout.write(`version ${c.version} (${c.uuid}) ${done}\n`);
      }));
  }

  apiOptions(program.command('diff').argument('<uuid>').description('how a version\'s answers differ from the previous version\'s: compared count, differing and noise fields, sample pairs')
    .option('--json', 'print the raw JSON'))
    .action(run(async (uuid: string, opts: { json?: boolean }, cmd: Command) => {
      const { data } = await call(target(cmd), 'GET', '/status');
      const versions = (data as { versions: Array<Parameters<typeof differencesTable>[0]> }).versions;
      const v = versions.find((x) => x.uuid === uuid);
      if (v === undefined) fail(`no version ${uuid} (versions: ${versions.map((x) => x.uuid).join(', ') || 'none'})`);
      process.stdout.write(opts.json ? JSON.stringify(v.comparison, null, 2) + '\n' : differencesTable(v));
    }));

  program.command('demo')
    .description('start two demo app versions behind a sidecar and print curl commands to try each transition mode')
    .option('--proxy-port <port>', 'proxy port (default 8080, else a free one)')
    .option('--api-port <port>', 'config API port (default 9090, else a free one)')
    .action(async (opts: { proxyPort?: string; apiPort?: string }) => {
      const port = (field: string, v: string | undefined): number | undefined => {
        if (v === undefined) return undefined;
        if (!/^\d{1,5}$/.test(v) || Number(v) > 65535) rejected(field, 'must be an integer from 0 to 65535', v);
        return Number(v);
      };
      const proxyPort = port('--proxy-port', opts.proxyPort);
      const apiPort = port('--api-port', opts.apiPort);
      const { runDemo } = await import('./demo/demo.js');
      await runDemo({ proxyPort, apiPort });
    });
  // Only the root takes operands (to name them as unknown commands); subcommands keep commander's check.
  program.allowExcessArguments(true);
  return program;
}

/** Starts the sidecar from a config file and stops it cleanly on SIGTERM/SIGINT (exit 0). */
async function serve(configFile: string, opts: { logLevel?: string; logFormat?: string; state?: string | false; apiToken?: string }): Promise<void> {
  const logFormat = opts.logFormat;
  if (logFormat !== undefined && logFormat !== 'json' && logFormat !== 'pretty') rejected('--log-format', 'must be json or pretty', logFormat);
  let sidecar: Sidecar;
  try {
    // Loaded here, not at the top: the subcommands (status, cluster) start faster without them.
    const [{ loadConfigFile }, { validateContainers }, { startSidecar }] = await Promise.all([
      import('./config.js'), import('./docker/spec.js'), import('./sidecar.js'),
    ]);
    const token = tokenFromArgs(opts.apiToken);
    const config = loadConfigFile(configFile, {
      ...(opts.logLevel !== undefined ? { logLevel: opts.logLevel } : {}),
      ...(typeof opts.state === 'string' ? { stateFile: opts.state } : {}),
      ...(token !== undefined ? { apiToken: token.value, apiTokenSource: token.source } : {}),
    }, validateContainers);
    if (opts.state === false) config.stateFile = undefined;
    else config.stateFile ??= `${configFile}.state.json`;
    sidecar = await startSidecar(config, logFormat === undefined ? {} : { logFormat });
  } catch (err) {
    fail((err as Error).message);
  }
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) {
      // A second signal: the operator does not want to wait for the drain.
      process.exit(1);
    }
    stopping = true;
    sidecar.log.info({ event: 'signal', signal }, `${signal}: draining for up to ${sidecar.config.drainTimeout} ms`);
    sidecar.close().then(() => process.exit(0), (err: Error) => {
      process.stderr.write(`upshift: ${err.message}\n`);
      process.exit(1);
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

export async function runCli(argv: string[] = process.argv): Promise<void> {
  await buildCli().parseAsync(rewritePrototypeFlags(argv));
}
