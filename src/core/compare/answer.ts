import { createHash, type Hash } from 'node:crypto';
import { ChunkedScanner, FramingError } from '../http/chunked.js';
import { headLines, parseResponseHead } from '../http/response-head.js';
import { flatten } from './flatten.js';

/** One answer, reduced to what is compared. */
export interface Answer {
  readonly status: number;
  /** Compared header fields: lower-case name → values joined by `, ` in order (`set-cookie`: the cookie names only). */
  readonly headers: ReadonlyMap<string, string>;
  /** A JSON body's leaves (see `flatten.ts`); null when the body is compared by digest only. */
  readonly json: ReadonlyMap<string, string> | null;
  /** SHA-1 of the body's content (chunked coding removed), base64. */
  readonly digest: string;
  /** Bytes of the body's content. */
  readonly length: number;
}

/** What a reader needs of the `compare` options. */
export interface ReaderOptions {
  readonly ignoreHeaders: readonly string[];
  readonly jsonLimit: number;
}

/** A response head larger than this is not compared (the connection's own limit bounds the client's answer anyway). */
const HEAD_LIMIT = 64 * 1024;
const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');
const JSON_TYPE = /^[^;]*[/+]json\s*(;|$)/i;

const enum Framing { None, Length, Chunked, Eof }

export type ReaderState = 'head' | 'body' | 'done' | 'failed';

/**
 * Reads one answer from its raw bytes as they come (head, then body) and
 * reduces it to an `Answer`. Nothing of a body is kept but its digest and
 * length, except a JSON body up to `jsonLimit` (it is parsed when complete):
 * a body of any size costs a hash state. Interim (1xx) heads are skipped.
 * `settled` is called once, when the answer is complete or cannot be read
 * (a broken head or coding, an early close, `fail()`).
 */
export class AnswerReader {
  state: ReaderState = 'head';
  answer: Answer | null = null;
  private head: Buffer | null = null;
  private framing = Framing.None;
  private left = 0;
  private scan: ChunkedScanner | null = null;
  private readonly hash: Hash = createHash('sha1');
  private length = 0;
  private status = 0;
  private headers: Map<string, string> | null = null;
  /** JSON body pieces while it may still be compared field by field; null otherwise. */
  private pieces: Buffer[] | null = null;
  private jsonBytes = 0;
  private readonly consume = (buf: Buffer, start: number, end: number): void => this.content(buf, start, end);

  constructor(
    private readonly method: string,
    private readonly opts: ReaderOptions,
    private readonly settled: (r: AnswerReader) => void,
  ) {}

  /** The answer is read (or given up): later bytes are ignored. */
  get over(): boolean {
    return this.state === 'done' || this.state === 'failed';
  }

  /** More of the answer's bytes, in order. */
  feed(chunk: Buffer): void {
    if (this.state === 'head') this.headBytes(chunk);
    else if (this.state === 'body') this.bodyBytes(chunk, 0);
  }

  /** The server closed: a body that runs to the close is complete, any other answer is cut. */
  end(): void {
    if (this.state === 'body' && this.framing === Framing.Eof) this.finish();
    else this.fail();
  }

  /** Gives the answer up (its connection failed, the time ran out, the client went away). */
  fail(): void {
    if (this.over) return;
    this.state = 'failed';
    this.pieces = null;
    this.head = null;
    this.settled(this);
  }

  private headBytes(chunk: Buffer): void {
    const buf = this.head = this.head === null ? chunk : Buffer.concat([this.head, chunk]);
    const at = buf.indexOf(CRLFCRLF);
    if (at === -1) {
      if (buf.length > HEAD_LIMIT) this.fail();
      return;
    }
    const offs: number[] = [];
    let info;
    try {
      info = parseResponseHead(buf, 0, at + 4, offs);
    } catch {
      this.fail();
      return;
    }
    const rest = buf.subarray(info.end);
    this.head = null;
    if (info.status < 200) {
      if (info.status === 101) this.fail();
      else if (rest.length > 0) this.headBytes(rest);
      return;
    }
    this.status = info.status;
    let contentType = '';
    let coded = false;
    const headers = this.headers = new Map();
    const lines = headLines(buf, offs, []);
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      const name = line.slice(0, colon).toLowerCase();
      let value = line.slice(colon + 1).trim();
      if (name === 'content-type') contentType = value;
      else if (name === 'content-encoding' && value.toLowerCase() !== 'identity') coded = true;
      if (this.opts.ignoreHeaders.includes(name)) continue;
      // Cookie values are per session and per server: only which cookies are set is compared.
      if (name === 'set-cookie') value = value.slice(0, Math.max(0, value.indexOf('='))).trim();
      const had = headers.get(name);
      headers.set(name, had === undefined ? value : `${had}, ${value}`);
    }
    // A coded body (gzip...) is compared as it came: its bytes, not its content.
    if (!coded && JSON_TYPE.test(contentType) && this.opts.jsonLimit > 0) this.pieces = [];
    const status = info.status;
    if (this.method === 'HEAD' || status === 204 || status === 304) this.framing = Framing.None;
    else if (info.chunked) {
      this.framing = Framing.Chunked;
      this.scan = new ChunkedScanner(HEAD_LIMIT);
      this.scan.onData = this.consume;
    } else if (info.otherCoding || info.contentLength === -1) this.framing = Framing.Eof;
    else if (info.contentLength === 0) this.framing = Framing.None;
    else {
      this.framing = Framing.Length;
      this.left = info.contentLength;
    }
    this.state = 'body';
    if (this.framing === Framing.None) this.finish();
    else if (rest.length > 0) this.bodyBytes(rest, 0);
  }

  private bodyBytes(chunk: Buffer, from: number): void {
    switch (this.framing) {
      case Framing.Length: {
        const n = Math.min(chunk.length - from, this.left);
        this.content(chunk, from, from + n);
        this.left -= n;
        if (this.left === 0) this.finish();
        return;
      }
      case Framing.Chunked: {
        let end: number;
        try {
          end = this.scan!.scan(chunk, from);
        } catch (err) {
          if (err instanceof FramingError) this.fail();
          else throw err;
          return;
        }
        if (end !== -1) this.finish();
        return;
      }
      default:
        this.content(chunk, from, chunk.length);
    }
  }

  private content(buf: Buffer, start: number, end: number): void {
    if (end <= start) return;
    const piece = start === 0 && end === buf.length ? buf : buf.subarray(start, end);
    this.hash.update(piece);
    this.length += piece.length;
    if (this.pieces === null) return;
    this.jsonBytes += piece.length;
    if (this.jsonBytes > this.opts.jsonLimit) this.pieces = null;
    else this.pieces.push(piece);
  }

  private finish(): void {
    if (this.over) return;
    let json: Map<string, string> | null = null;
    if (this.pieces !== null) {
      try {
        json = flatten(JSON.parse(Buffer.concat(this.pieces).toString('utf8')));
      } catch {
        json = null;
      }
    }
    this.pieces = null;
    this.scan = null;
    this.answer = { status: this.status, headers: this.headers!, json, digest: this.hash.digest('base64'), length: this.length };
    this.state = 'done';
    this.settled(this);
  }
}
