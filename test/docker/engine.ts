import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import Docker from 'dockerode';
import { dockerOptions } from '../../src/sidecar/docker/host.js';

/**
 * The docker tests run against a real engine: DOCKER_HOST, else
 * /var/run/docker.sock (`.ci/dockerd.sh start` starts a private one). When
 * none answers, a test file says so clearly: in CI (CI=true) that is a
 * failure, since CI always starts an engine (so is UPSHIFT_REQUIRE_DOCKER=1, which .ci/run sets); elsewhere the file plans no
 * assertions and prints how to start one.
 */

type Tap = {
  fail(msg: string): void;
  comment(...msg: unknown[]): void;
  plan(n: number): void;
  teardown(fn: () => unknown): void;
};

export const APP_IMAGE = 'upshift-test-app';
const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '..', '..');

export function engine(): Docker {
  const { describe: _d, ...opts } = dockerOptions(undefined);
  return new Docker({ ...opts, timeout: 30_000 });
}

export function engineName(): string {
  return dockerOptions(undefined).describe;
}

/** Resolves to the engine when it answers within 5 s, else explains (see above) and resolves undefined. */
export async function engineOrExplain(t: Tap): Promise<Docker | undefined> {
  const docker = engine();
  let reason: string | undefined;
  try {
    await Promise.race([
      docker.ping(),
      new Promise((_, reject) => setTimeout(() => reject(new Error('no answer within 5 s')), 5000).unref()),
    ]);
  } catch (err) {
    reason = (err as Error).message;
  }
  if (reason === undefined) return docker;
  const msg = `no Docker engine at ${engineName()} (${reason}); start one with \`export DOCKER_HOST=$(.ci/dockerd.sh start)\``;
  if (process.env.CI === 'true' || process.env.UPSHIFT_REQUIRE_DOCKER === '1') {
    t.fail(`${msg}: CI must provide an engine`);
  } else {
    t.comment(`docker tests not run: ${msg}`);
    t.plan(0);
  }
  return undefined;
}

function run(cmd: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs, cwd: repoRoot }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')} failed: ${stderr || err.message}`));
      else resolve(stdout);
    });
  });
}

/** Builds upshift-test-app:1 and :2 unless they exist. */
export async function ensureAppImages(): Promise<void> {
  await run(path.join(repoRoot, 'test/docker/build-images.sh'), ['--if-missing'], 240_000);
}

/** A sidecar id no other test file uses, so each file's reconcile only sees its own containers. */
export function testSidecarId(name: string): string {
  return `t-${name}-${process.pid}`;
}

/** Containers carrying this sidecar id's label (running or not). */
export async function containersOf(docker: Docker, sidecarId: string, uuid?: string): Promise<Docker.ContainerInfo[]> {
  const label = [`io.upshift.sidecar=${sidecarId}`];
  if (uuid !== undefined) label.push(`io.upshift.uuid=${uuid}`);
  return docker.listContainers({ all: true, filters: { label } });
}

/** Removes every container of this sidecar id: the tests' teardown, so no run leaves containers behind. */
export async function removeContainersOf(docker: Docker, sidecarId: string): Promise<void> {
  for (const c of await containersOf(docker, sidecarId)) {
    await docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => {});
  }
}

/** One GET over a fresh connection; resolves with status and body, or the error's code. */
export function fetchText(host: string, port: number, urlPath = '/', headers: Record<string, string> = {}): Promise<{ status: number; body: string; headers: Record<string, string | string[] | undefined> } | { error: string }> {
  return import('node:http').then(({ default: http }) => new Promise((resolve) => {
    const req = http.request({ host, port, path: urlPath, agent: false, timeout: 5000, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      res.on('error', (e) => resolve({ error: (e as NodeJS.ErrnoException).code ?? e.message }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve({ error: (e as NodeJS.ErrnoException).code ?? e.message }));
    req.end();
  }));
}

/** A pino-shaped logger that keeps every line as text, to check what reaches the logs. */
export function memoryLogger(): { lines: string[]; logger: { debug(o: object, m?: string): void; info(o: object, m?: string): void; warn(o: object, m?: string): void; error(o: object, m?: string): void } } {
  const lines: string[] = [];
  const put = (level: string) => (o: object, m?: string): void => { lines.push(`${level} ${m ?? ''} ${JSON.stringify(o)}`); };
  return { lines, logger: { debug: put('debug'), info: put('info'), warn: put('warn'), error: put('error') } };
}
