import { ConfigError } from './errors.js';

/** The config API's bearer token and where it was given (`--api-token`, `UPSHIFT_API_TOKEN`, `configService.token`). */
export interface TokenSource {
  value: string;
  source: string;
}

/**
 * The token given on the command line or in the environment, flag first.
 * An empty value counts as given (and is then refused by `checkToken`):
 * `--api-token ""` must never silently cancel a token set elsewhere.
 */
export function tokenFromArgs(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): TokenSource | undefined {
  if (flag !== undefined) return { value: flag, source: '--api-token' };
  const fromEnv = env['UPSHIFT_API_TOKEN'];
  if (fromEnv !== undefined) return { value: fromEnv, source: 'UPSHIFT_API_TOKEN' };
  return undefined;
}

/**
 * The one token rule: non-empty, no whitespace. An empty token would switch
 * authentication off, so it is an error wherever it comes from.
 */
export function checkToken(t: TokenSource): string {
  if (t.value === '') throw new ConfigError(t.source, 'must not be empty (an empty token would switch authentication off; leave it unset for none)');
  if (/\s/.test(t.value)) throw new ConfigError(t.source, 'must not contain spaces or other whitespace');
  return t.value;
}
