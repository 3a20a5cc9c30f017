import type Docker from 'dockerode';
import { api, startBinary, tmpDir, writeJson, type Running } from '../sidecar/helpers.js';
import { APP_IMAGE, engineName, fetchText, removeContainersOf, testSidecarId } from './engine.js';

/** Shared by the end-to-end docker tests: the real `upshift` binary with container versions. */

/** An environment value that must never show in the sidecar's logs. */
export const SECRET = 'pw-never-in-logs-90210';

/** A `containers` value running the test app `upshift-test-app:<tag>`. */
export const app = (tag: string, extra: Record<string, unknown> = {}) => [{ image: APP_IMAGE, tag, portToProxy: 8080, ...extra }];

/** The page body of a reply, or "error <code>" for a failed request. */
export const body = (r: Awaited<ReturnType<typeof fetchText>>): string => ('body' in r ? r.body.trim() : `error ${r.error}`);

export interface SidecarEnv { dir: string; sidecarId: string; cfgFile: string; sc: Running }

type T = { teardown(fn: () => void | Promise<void>): void };

/**
 * A sidecar (its own sidecar id and state file) with v1 (uuid "v1") as a container, started and
 * ready; `cluster` adds fields to v1 (`{ retire: 'when-drained' }`).
 */
export async function sidecarWithV1(t: T, docker: Docker, name: string, cluster: Record<string, unknown> = {}): Promise<SidecarEnv> {
  const dir = tmpDir(t);
  const sidecarId = testSidecarId(name);
  t.teardown(() => removeContainersOf(docker, sidecarId));
  const cfgFile = writeJson(dir, 'upshift.json', {
    proxy: { port: 0, host: '127.0.0.1' },
    configService: { port: 0 },
    dockerHost: engineName(),
    sidecarId,
    stateFile: `${dir}/state.json`,
    drainTimeout: 300,
    cluster: { uuid: 'v1', version: '1.0.0', containers: app('1', { environment: { DB_PASSWORD: SECRET } }), ...cluster },
  });
  const sc = await startBinary(t, ['--config', cfgFile]);
  await waitLaunch(sc, 'v1', 'ready');
  return { dir, sidecarId, cfgFile, sc };
}

/** Polls a version's launch state until it is `want` (or failed), recording every state seen. */
export async function waitLaunch(sc: Running, uuid: string, want: string, seen: string[] = [], ms = 30_000): Promise<{ state: string; message?: string }> {
  const end = Date.now() + ms;
  for (;;) {
    const r = await api(sc.apiPort, 'GET', `/configuration/cluster/${uuid}`);
    const launch = r.json?.cluster?.launch as { state: string; message?: string } | undefined;
    if (launch !== undefined && seen.at(-1) !== launch.state) seen.push(launch.state);
    if (launch?.state === want || launch?.state === 'failed') return launch;
    if (Date.now() > end) throw new Error(`version ${uuid} not ${want} after ${ms} ms: ${r.text}`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

/** Polls `fn` until it is true (resolves true) or `ms` passed (resolves false). */
export async function until(fn: () => Promise<boolean>, ms = 10_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return true;
    await new Promise((res) => setTimeout(res, 50));
  }
  return false;
}
