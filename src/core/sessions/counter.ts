import { randomBytes } from 'node:crypto';

/** Session ids kept at most (about 130 bytes each: some 8 MB when full). */
export const DEFAULT_SESSION_CAP = 65_536;

interface Seen {
  uuid: string;
  /** Epoch ms after which the session no longer counts. */
  expires: number;
}

/**
 * Live sessions per version: the distinct session ids (see
 * `routing/session-cookie.ts`) seen within their cookie's lifetime, each
 * counted for the version its cookie names now (a session that moved counts
 * only where it went).
 *
 * Memory is bounded by `cap` ids. Below it the count is exact. When more
 * are live, the counter samples: it keeps only the ids whose (salted) hash
 * has its `level` low bits zero, about one in 2^level, and counts each kept
 * one 2^level times; each time the cap is reached again the level goes up
 * by one and half the kept ids are dropped. This is adaptive distinct
 * sampling (Gibbons, "Distinct sampling", VLDB 2001): the count is unbiased,
 * with a relative error of about 1/√(ids kept), i.e. a few percent at the
 * cap. The level goes back to 0 only when every session has expired, so
 * after a peak the figures stay sampled (still unbiased) until then.
 *
 * Time is passed in (epoch ms), so tests need no clock. `touch` is O(1);
 * `counts` scans every id kept (it runs per status request or scrape).
 */
export class SessionCounter {
  private readonly seen = new Map<string, Seen>();
  private level = 0;
  private readonly salt: number;

  constructor(readonly cap = DEFAULT_SESSION_CAP, salt = randomBytes(4).readUInt32LE(0)) {
    this.salt = salt;
  }

  /** Session `id` was seen at `now` on the version `uuid`; it stays live for `lifetimeMs`. */
  touch(id: string, uuid: string, now: number, lifetimeMs: number): void {
    if (this.level > 0 && !this.sampled(id)) return;
    const e = this.seen.get(id);
    if (e !== undefined) {
      e.uuid = uuid;
      e.expires = now + lifetimeMs;
      return;
    }
    this.seen.set(id, { uuid, expires: now + lifetimeMs });
    if (this.seen.size > this.cap) this.shrink(now);
  }

  /** Estimated live sessions per version uuid at `now`. Forgets the expired ones. */
  counts(now: number): Map<string, number> {
    const out = new Map<string, number>();
    const weight = 2 ** this.level;
    for (const [id, e] of this.seen) {
      if (e.expires <= now) this.seen.delete(id);
      else out.set(e.uuid, (out.get(e.uuid) ?? 0) + weight);
    }
    if (this.seen.size === 0) this.level = 0;
    return out;
  }

  /** Session ids kept now (at most `cap`). */
  get kept(): number {
    return this.seen.size;
  }

  /** Whether the counts are estimates (more sessions were live than `cap`). */
  get sampling(): boolean {
    return this.level > 0;
  }

  private shrink(now: number): void {
    for (const [id, e] of this.seen) if (e.expires <= now) this.seen.delete(id);
    while (this.seen.size > this.cap && this.level < 31) {
      this.level++;
      for (const id of this.seen.keys()) if (!this.sampled(id)) this.seen.delete(id);
    }
  }

  private sampled(id: string): boolean {
    return (hash(id, this.salt) & ((1 << this.level) - 1)) === 0;
  }
}

/** FNV-1a (32 bit) over the characters, seeded: ids a client makes up cannot aim at the sample. */
function hash(id: string, salt: number): number {
  let h = (0x811c9dc5 ^ salt) >>> 0;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  // The low bits of FNV-1a are weak: mix them (murmur3's finaliser).
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h >>> 0;
}
