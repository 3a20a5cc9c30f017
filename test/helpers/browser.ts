import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's chromium (`apt-get install chromium`); playwright-core drives it and downloads no browser. */
export const CHROMIUM = process.env['UPSHIFT_CHROMIUM'] ?? '/usr/bin/chromium';

type Tap = { fail(msg: string): void; comment(...msg: unknown[]): void; plan(n: number): void; teardown(fn: () => unknown): void };

/**
 * A headless chromium, closed at teardown. Without one, a test file says so:
 * with UPSHIFT_REQUIRE_BROWSER=1 (`.ci/run` sets it, and installs chromium)
 * that is a failure; elsewhere the file plans no assertions and says how to
 * install it.
 */
export async function browserOrExplain(t: Tap, extraArgs: string[] = []): Promise<Browser | undefined> {
  let reason: string;
  if (existsSync(CHROMIUM)) {
    try {
      const browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', ...extraArgs],
        timeout: 60_000,
      });
      t.teardown(() => browser.close());
      return browser;
    } catch (err) {
      reason = `${CHROMIUM} did not start: ${(err as Error).message.split('\n')[0]}`;
    }
  } else {
    reason = `no browser at ${CHROMIUM}; install it with \`apt-get install -y chromium\``;
  }
  if (process.env['UPSHIFT_REQUIRE_BROWSER'] === '1') {
    t.fail(`${reason}: UPSHIFT_REQUIRE_BROWSER=1 needs a browser`);
  } else {
    t.comment(`browser tests not run: ${reason}`);
    t.plan(0);
  }
  return undefined;
}
