import { randomBytes } from 'node:crypto';

/**
 * The SESSION cookie's value, and when a response must set it again.
 *
 * Format: `<uuid>~<id>~<issued>`: the uuid of the version the session is on,
 * the client's session id (16 base64url characters, random), and when the
 * cookie was last written (epoch seconds, base 36). `~` cannot occur in a
 * uuid (`[A-Za-z0-9._-]`, see `spec.ts`) nor in base64url, so the first `~`
 * ends the uuid whatever the uuid holds. The prototype's value, a bare
 * `<uuid>`, still routes: it is read as a session without id, and the next
 * answer gives it one.
 *
 * Every answer in every mode carries the cookie where needed (`refresh`), so
 * a SESSION transition added later finds the sessions that began before it.
 * The time in the value is what lets the proxy (any host of it) tell how much
 * of its lifetime is left without keeping state; it is the client's to
 * change, which can only shorten or lengthen its own session.
 */
export interface SessionCookie {
  /** The version uuid the cookie names. */
  readonly uuid: string;
  /** The client's session id; undefined for the prototype's bare `<uuid>`. */
  readonly id: string | undefined;
  /** Epoch seconds the cookie was written; undefined when not given. */
  readonly issued: number | undefined;
}

export const SESSION_SEPARATOR = '~';
const ID_RE = /^[A-Za-z0-9_-]{8,64}$/;
const TIME_RE = /^[0-9a-z]{1,10}$/;

/** Reads a SESSION cookie value; undefined when absent or empty. */
export function parseSessionCookie(value: string | undefined): SessionCookie | undefined {
  if (value === undefined || value === '') return undefined;
  const a = value.indexOf(SESSION_SEPARATOR);
  if (a === -1) return { uuid: value, id: undefined, issued: undefined };
  const uuid = value.slice(0, a);
  const b = value.indexOf(SESSION_SEPARATOR, a + 1);
  const id = value.slice(a + 1, b === -1 ? value.length : b);
  const time = b === -1 ? '' : value.slice(b + 1);
  return {
    uuid,
    id: ID_RE.test(id) ? id : undefined,
    issued: TIME_RE.test(time) ? parseInt(time, 36) : undefined,
  };
}

// Every answer to a client that keeps no cookies writes one: the time's text is kept for the second it names.
let issuedAt = -1;
let issuedText = '';

export function formatSessionCookie(uuid: string, id: string, issued: number): string {
  const second = Math.floor(issued);
  if (second !== issuedAt) {
    issuedAt = second;
    issuedText = second.toString(36);
  }
  return uuid + SESSION_SEPARATOR + id + SESSION_SEPARATOR + issuedText;
}

// Ids are cut from a pool of random text: a client that keeps no cookie gets a new id on every answer.
// 12 bytes are 16 base64url characters exactly (no padding), so the pool's
// text, encoded once, falls into ids at every 16th character: a string
// slice per id instead of an encoding call.
const ID_CHARS = 16;
const POOL_IDS = 256;
let pool = '';
let at = 0;

/** 12 random bytes as 16 base64url characters. */
export function newSessionId(): string {
  if (at === pool.length) {
    pool = randomBytes(12 * POOL_IDS).toString('base64url');
    at = 0;
  }
  at += ID_CHARS;
  return pool.slice(at - ID_CHARS, at);
}

/**
 * Whether an answer must set the cookie again: the client has none (or one
 * without id or time), it names another version, or less than half of
 * `lifetime` (seconds) is left (a time in the future, from a host whose clock
 * is ahead, is written anew). Otherwise no `Set-Cookie`: one on every static
 * asset would keep shared caches from storing them. The session thus expires
 * after between half and all of `lifetime` idle.
 */
export function needsRefresh(given: SessionCookie | undefined, uuid: string, lifetime: number, nowSeconds: number): boolean {
  if (given === undefined || given.id === undefined || given.issued === undefined || given.uuid !== uuid) return true;
  const age = nowSeconds - given.issued;
  return age < 0 || age > lifetime / 2;
}

/** The session a response belongs to: its id, and the cookie value to set (undefined: the client's cookie stands). */
export function sessionAnswer(
  given: SessionCookie | undefined, uuid: string, lifetime: number, nowSeconds: number, newId: () => string = newSessionId,
): { id: string; value: string | undefined } {
  const id = given?.id ?? newId();
  return { id, value: needsRefresh(given, uuid, lifetime, nowSeconds) ? formatSessionCookie(uuid, id, nowSeconds) : undefined };
}
