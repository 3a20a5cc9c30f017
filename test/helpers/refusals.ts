import type { Test } from 'tap';

/** A bad input, the field its error must name, and the rule its message must state. */
export type Refusal = readonly [input: unknown, field: string, rule: RegExp];

/**
 * `check()` throws the coded error `code` naming `field`, with a message that matches `rule`
 * (a bad config names the field and the rule). `what` says which input in each assertion.
 */
export function refused(t: Test, check: () => unknown, code: string, field: string, rule: RegExp, what: string): void {
  let thrown = false;
  let err: unknown;
  try {
    check();
  } catch (e) {
    thrown = true;
    err = e;
  }
  if (!thrown) {
    t.fail(`accepted ${what}`);
    return;
  }
  const e = err as { code?: unknown; field?: unknown; message?: unknown };
  t.equal(e.code, code, `${what}: ${code}`);
  t.equal(e.field, field, `${what} names ${field}`);
  t.match(e.message, rule, `${what}: the rule`);
}

/** Each case is refused by `check` with `code`, naming its field and rule (the validation tables). */
export function refusesEach(t: Test, check: (input: unknown) => unknown, code: string, cases: readonly Refusal[]): void {
  for (const [input, field, rule] of cases) refused(t, () => check(input), code, field, rule, JSON.stringify(input));
}
