import type { ContainerSpec } from './spec.js';

/**
 * Environment values are secrets, and the engine may echo them: raw, JSON-
 * escaped (once or twice, Go's HTML-safe escapes included), or URL-encoded
 * (`%20` or `+`, either hex case). Two rules, both applied to every form:
 *
 * - `redact`, on the launcher's own messages: every value of 4 characters or
 *   more is replaced with `***` wherever it occurs;
 * - `engineTextRedactor`, on text that comes from the engine (error answers,
 *   a container's `State.Error`): in addition, shorter values are replaced
 *   where they stand alone (not inside a longer word or number), so a value
 *   like `ab` is hidden in `PASS=ab` but `1` does not blank every digit.
 */
export const MASK = '***';
const SHORT = 4;

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The forms in which `value` may appear in an engine's text. */
export function encodings(value: string): string[] {
  const json = JSON.stringify(value).slice(1, -1);
  const goJson = json.replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
  const twice = JSON.stringify(json).slice(1, -1);
  const url = encodeURIComponent(value);
  const forms = [value, json, goJson, twice, url, url.replace(/%20/g, '+'), encodeURI(value)];
  return [...new Set(forms.filter((f) => f !== ''))];
}

function patterns(specs: readonly ContainerSpec[], short: boolean): RegExp[] {
  const out: RegExp[] = [];
  const values = new Set<string>();
  for (const c of specs) for (const [, v] of c.environment) if (v !== '') values.add(v);
  // Longest first: a value that contains another is replaced whole.
  for (const v of [...values].sort((a, b) => b.length - a.length)) {
    const isShort = v.length < SHORT;
    if (isShort && !short) continue;
    for (const form of encodings(v)) {
      const body = escapeRe(form);
      // Percent-encoding is case-insensitive in its hex digits.
      const flags = form.includes('%') ? 'gi' : 'g';
      out.push(new RegExp(isShort ? `(?<![A-Za-z0-9])${body}(?![A-Za-z0-9])` : body, flags));
    }
  }
  return out;
}

function apply(text: string, res: RegExp[]): string {
  let out = text;
  for (const re of res) out = out.replace(re, MASK);
  return out;
}

/** Replaces every environment value of 4 or more characters, in every form, with `***`. */
export function redact(text: string, specs: readonly ContainerSpec[]): string {
  return apply(text, patterns(specs, false));
}

/** A function that hides every environment value (short ones where they stand alone) in engine text. */
export function engineTextRedactor(specs: readonly ContainerSpec[]): (engineText: string) => string {
  const res = patterns(specs, true);
  return (text) => apply(text, res);
}
