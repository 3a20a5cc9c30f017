import httpParser from 'http-parser-js';

/**
 * Incremental head finder over http-parser-js.
 *
 * The parser consumes bytes as they arrive, whatever the TCP segmentation,
 * and tells us where a message head ends. We stop it right there: the
 * headers-complete callback returns 2 ("skip body, stop"), which makes
 * `execute()` return at the end of the head, so no body byte is ever
 * interpreted: in stream mode everything after the first head is piped
 * verbatim. (Throwing a sentinel would work too, but a V8 throw from a
 * callback costs ~10 µs, twice per connection.)
 */
const { HTTPParser } = httpParser;
type Parser = InstanceType<typeof HTTPParser>;

/** onHeadersComplete's return value that makes http-parser-js stop after the head. */
const STOP_AFTER_HEAD = 2;

export interface HeadEnd {
  /** Offset just past the blank line that ends the head, counted from the first byte fed. */
  end: number;
  /** Offset where that head starts (after any interim 1xx responses, for responses). */
  start: number;
  /** Response status code (responses only). */
  statusCode: number;
}

export type FeedResult = HeadEnd | Error | null;

export class HeadFinder {
  private readonly parser: Parser;
  private fed = 0;
  private messageStart = 0;
  private found: HeadEnd | null = null;
  private failed: Error | null = null;

  /**
   * @param kind REQUEST or RESPONSE.
   * @param maxHeadSize total bytes allowed before the head must be complete.
   * @param skipInterim for responses: pass over 1xx interim heads (not 101) and find the final one.
   */
  constructor(kind: 'REQUEST' | 'RESPONSE', private readonly maxHeadSize: number, private readonly skipInterim = false) {
    this.parser = new HTTPParser(kind === 'REQUEST' ? HTTPParser.REQUEST : HTTPParser.RESPONSE);
    // Our own limit applies (checked on every feed); keep the parser's from firing first.
    this.parser.maxHeaderSize = Number.MAX_SAFE_INTEGER;
    const self = this;
    const onHeadersComplete = function (this: Parser, ...args: unknown[]): number | undefined {
      const info = args[0];
      const statusCode = typeof info === 'object' && info !== null
        ? (info as { statusCode?: number }).statusCode ?? 0
        : (args[5] as number | undefined) ?? 0;
      const end = self.fed + (self.parser as unknown as { offset: number }).offset;
      if (self.skipInterim && statusCode >= 100 && statusCode < 200 && statusCode !== 101) {
        // An interim response: the parser starts over on the next message.
        self.messageStart = end;
        return undefined;
      }
      self.found = { end, start: self.messageStart, statusCode };
      return STOP_AFTER_HEAD;
    };
    (this.parser as unknown as Record<number, unknown>)[HTTPParser.kOnHeadersComplete] = onHeadersComplete;
  }

  /**
   * Feeds the next chunk. Returns the head's end once it is complete, an Error
   * when the bytes are not HTTP, or null when more bytes are needed.
   */
  feed(chunk: Buffer): FeedResult {
    if (this.failed !== null) return this.failed;
    if (this.found !== null) return this.found;
    let ret: number | Error;
    try {
      ret = this.parser.execute(chunk);
    } catch (err) {
      this.failed = err instanceof Error ? err : new Error(String(err));
      return this.failed;
    }
    // `found` was set inside the callback, which TypeScript cannot see.
    const found = this.found as HeadEnd | null;
    if (found !== null) {
      if (found.end - found.start > this.maxHeadSize) {
        this.failed = new HeadSizeExceeded();
        return this.failed;
      }
      return found;
    }
    if (ret instanceof Error) {
      this.failed = ret;
      return ret;
    }
    this.fed += chunk.length;
    if (this.fed - this.messageStart > this.maxHeadSize) {
      this.failed = new HeadSizeExceeded();
      return this.failed;
    }
    return null;
  }

  /** True while the first line (request or status line) is still being read. */
  get inFirstLine(): boolean {
    const state = (this.parser as unknown as { state: string }).state;
    return state === 'REQUEST_LINE' || state === 'RESPONSE_LINE';
  }

  /** Bytes fed so far. */
  get bytes(): number {
    return this.fed;
  }
}

/** The head grew past its limit before it was complete. */
export class HeadSizeExceeded extends Error {
  constructor() {
    super('head size limit exceeded');
    this.name = 'HeadSizeExceeded';
  }
}
