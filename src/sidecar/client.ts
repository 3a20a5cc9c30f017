import { readFileSync } from 'node:fs';
import { checkToken, tokenFromArgs } from './token.js';

/** Where a CLI subcommand finds the running sidecar's config API. */
export interface ApiTarget {
  base: string;
  token: string | undefined;
}

export class ApiCallError extends Error {
  constructor(message: string, readonly status?: number, readonly code?: string) {
    super(message);
  }
}

/**
 * `--api URL` wins; else the config file's `configService` (an `0.0.0.0`
 * listener is reached on 127.0.0.1); else `UPSHIFT_API`; else the seed's
 * default port on localhost. The token: `--api-token`, `UPSHIFT_API_TOKEN`,
 * then the config file's.
 */
export function resolveTarget(opts: { api?: string; config?: string; apiToken?: string }): ApiTarget {
  let base = opts.api ?? process.env['UPSHIFT_API'];
  const given = tokenFromArgs(opts.apiToken);
  let token: string | undefined;
  try {
    token = given === undefined ? undefined : checkToken(given);
  } catch (err) {
    throw new ApiCallError((err as Error).message);
  }
  if (opts.config !== undefined) {
    let cs: { host?: unknown; port?: unknown; token?: unknown } | undefined;
    try {
      cs = (JSON.parse(readFileSync(opts.config, 'utf8')) as { configService?: typeof cs }).configService;
    } catch (err) {
      throw new ApiCallError(`cannot read --config ${opts.config}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    if (opts.api === undefined && cs !== undefined && typeof cs.port === 'number') {
      let host = typeof cs.host === 'string' ? cs.host : '127.0.0.1';
      if (host === '0.0.0.0' || host === '::') host = '127.0.0.1';
      base = `http://${host.includes(':') ? `[${host}]` : host}:${cs.port}`;
    }
    if (token === undefined && typeof cs?.token === 'string') {
      try {
        token = checkToken({ value: cs.token, source: `${opts.config}: configService.token` });
      } catch (err) {
        throw new ApiCallError((err as Error).message);
      }
    }
  }
  base ??= 'http://127.0.0.1:9090';
  if (!/^https?:\/\//.test(base)) base = `http://${base}`;
  return { base: base.replace(/\/+$/, ''), token };
}

/** One call to the config API; resolves with the parsed JSON (or text), rejects with the API's error message. */
export async function call(target: ApiTarget, method: string, path: string, body?: unknown): Promise<{ status: number; data: unknown }> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (target.token !== undefined) headers['Authorization'] = `Bearer ${target.token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(target.base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(30_000) });
  } catch (err) {
    const cause = (err as { cause?: NodeJS.ErrnoException }).cause;
    throw new ApiCallError(`cannot reach the config API at ${target.base}: ${cause?.code ?? cause?.message ?? (err as Error).message} (is the sidecar running? see --api, --config)`);
  }
  const text = await res.text();
  let data: unknown = text;
  if ((res.headers.get('content-type') ?? '').includes('json')) {
    try { data = JSON.parse(text); } catch { /* keep the text */ }
  }
  if (res.status >= 400) {
    const e = (data as { error?: { code?: string; message?: string } } | null)?.error;
    throw new ApiCallError(`${res.status} ${e?.code ?? ''}: ${e?.message ?? text}`.replace(' :', ':'), res.status, e?.code);
  }
  return { status: res.status, data };
}

/** Left-aligned columns, for tables a person reads. */
export function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => { widths[i] = Math.max(widths[i] ?? 0, c.length); });
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n');
}
