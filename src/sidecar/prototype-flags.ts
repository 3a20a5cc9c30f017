/**
 * The prototype's flags, in Go's `flag` syntax (one dash, camelCase), and
 * the upshift options they stand for. Commander reads a single-dash word as
 * bundled short options (`-configFile` would be `-c onfigFile`), so they are
 * rewritten before parsing.
 */
export const PROTOTYPE_FLAGS: Readonly<Record<string, string>> = {
  configFile: '--config',
  logLevel: '--log-level',
};

/**
 * Rewrites `-configFile=FILE`, `-configFile FILE`, `-logLevel=LEVEL` and
 * `-logLevel LEVEL` (also with two dashes, as Go's flag package allows) to
 * `--config` / `--log-level`. Everything else, and anything after `--`, is
 * left as it is.
 */
export function rewritePrototypeFlags(argv: readonly string[]): string[] {
  const out: string[] = [];
  let options = true;
  for (const arg of argv) {
    if (arg === '--') options = false;
    const m = options ? /^--?(configFile|logLevel)(=.*)?$/s.exec(arg) : null;
    out.push(m === null ? arg : `${PROTOTYPE_FLAGS[m[1]!]!}${m[2] ?? ''}`);
  }
  return out;
}
