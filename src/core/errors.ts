/**
 * Every failure upshift reports is an `UpshiftError` with a stable `code`.
 * Callers and tests branch on `err.code`, never on the message.
 */
export class UpshiftError extends Error {
  readonly code: string;
  /** Dotted path of the offending field, for validation errors (`cluster.servers[0].port`). */
  readonly field: string | undefined;

  constructor(code: string, message: string, field?: string, options?: { cause?: unknown }) {
    super(message, options);
    // The class's own name (`InvalidOptionError`), so a subclass need not repeat it.
    this.name = new.target.name;
    this.code = code;
    this.field = field;
  }

  toJSON(): { code: string; message: string; field?: string } {
    return this.field === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, field: this.field };
  }
}

/**
 * The one way a coded error class is made (fastify's `createError`): its code, its message from
 * the constructor's arguments and, for a validation error, the field it names.
 * `class X extends coded('UPS_ERR_X', (what: string) => `${what} failed`) {}`
 */
export function coded<A extends unknown[]>(code: string, message: (...args: A) => string, field?: string | ((...args: A) => string)): CodedErrorClass<A> {
  return class extends UpshiftError {
    constructor(...args: A) {
      super(code, message(...args), typeof field === 'function' ? field(...args) : field);
    }
  };
}

/** What `coded` makes: an `UpshiftError` constructed from `A`. */
export interface CodedErrorClass<A extends unknown[]> {
  new (...args: A): UpshiftError;
}

/** A validation error's message: the field, then the rule it breaks. */
const fieldFirst = (field: string, message: string): string => `${field}: ${message}`;
const firstArgument = (field: string): string => field;

/** A proxy option is missing, of the wrong type or out of range. */
export class InvalidOptionError extends coded('UPS_ERR_INVALID_OPTION', fieldFirst, firstArgument) {}

/** A version (the seed's "cluster" object) does not validate. */
export class InvalidVersionError extends coded('UPS_ERR_INVALID_VERSION', fieldFirst, firstArgument) {}

/** No version with that id. */
export class VersionNotFoundError extends coded('UPS_ERR_VERSION_NOT_FOUND', (id: string) => `no version with id ${JSON.stringify(id)}`, 'uuid') {}

/** A version with that id exists already. */
export class VersionExistsError extends coded('UPS_ERR_VERSION_EXISTS', (id: string) => `a version with id ${JSON.stringify(id)} exists already`, 'uuid') {}

/** A rollback needs another version to send traffic to, and none is left that is not rolled back. */
export class NoRollbackTargetError extends coded('UPS_ERR_NO_ROLLBACK_TARGET',
  (id: string) => `version ${JSON.stringify(id)} cannot be rolled back: no other version is left to take its traffic`, 'uuid') {}

/** Every candidate server of every eligible version failed or is ejected. */
export class NoUpstreamError extends coded('UPS_ERR_NO_UPSTREAM', (message: string = 'no version can serve this request') => message) {}

/** TCP connect to an upstream server did not finish within `timeouts.connect`. */
export class ConnectTimeoutError extends coded('UPS_ERR_CONNECT_TIMEOUT', (server: string) => `connect to ${server} timed out`) {}

/** TCP connect to an upstream server failed (refused, unreachable, reset). */
export class ConnectError extends UpshiftError {
  constructor(server: string, cause: Error) {
    super('UPS_ERR_CONNECT', `connect to ${server} failed: ${(cause as NodeJS.ErrnoException).code ?? cause.message}`, undefined, { cause });
  }
}

/** The upstream closed or reset before a complete response head arrived. */
export class UpstreamClosedError extends coded('UPS_ERR_UPSTREAM_CLOSED', (server: string) => `${server} closed the connection before a response head`) {}

/** The upstream sent no response head within the first-byte deadline. */
export class FirstByteTimeoutError extends coded('UPS_ERR_FIRST_BYTE_TIMEOUT', (server: string) => `${server} sent no response head in time`) {}

/** The upstream's response head does not parse or is too large. */
export class BadResponseError extends coded('UPS_ERR_BAD_RESPONSE', (server: string, reason: string) => `${server} sent an invalid response head: ${reason}`) {}

/**
 * A server's answer was dropped to try another candidate (its status is one
 * judgement retries), and that candidate failed without an answer: the client
 * gets the dropped answer's status from the proxy.
 */
export class UpstreamStatusError extends UpshiftError {
  constructor(server: string, readonly status: number) {
    super('UPS_ERR_UPSTREAM_STATUS', `${server} answered ${status}`);
  }
}

/** The client's request head is not valid HTTP/1.1 (see `reason`). */
export class BadRequestError extends coded('UPS_ERR_BAD_REQUEST', (reason: string) => reason) {}

/** The client's request head exceeds `limits.headSize`. */
export class HeadTooLargeError extends coded('UPS_ERR_HEAD_TOO_LARGE', (limit: number) => `request head larger than ${limit} bytes`) {}

/** The client did not send a complete request head within `timeouts.head`. */
export class HeadTimeoutError extends coded('UPS_ERR_HEAD_TIMEOUT', () => 'request head not received in time') {}

/** The proxy is closing and accepts no new work. */
export class ProxyClosedError extends coded('UPS_ERR_CLOSED', () => 'the proxy is closed') {}

/** `engine: "uws"` was asked for and no uWebSockets.js build loads here; the message says why for each package tried. */
export class EngineUnavailableError extends UpshiftError {
  constructor(message: string) {
    super('UPS_ERR_ENGINE_UNAVAILABLE', message, 'engine');
    this.name = 'EngineUnavailableError';
  }
}

/**
 * The one place that maps a failure to the status a client sees
 * (caddy's habit): timeouts are 504/408, framing errors 400, size 431,
 * an upstream that broke the protocol 502, nothing available 503.
 */
export function toHttpStatus(err: unknown): number {
  const code = (err as { code?: unknown } | null)?.code;
  switch (code) {
    case 'UPS_ERR_BAD_REQUEST': return 400;
    case 'UPS_ERR_HEAD_TIMEOUT': return 408;
    case 'UPS_ERR_HEAD_TOO_LARGE': return 431;
    case 'UPS_ERR_FIRST_BYTE_TIMEOUT': return 504;
    case 'UPS_ERR_UPSTREAM_STATUS': return (err as UpstreamStatusError).status;
    case 'UPS_ERR_BAD_RESPONSE':
    case 'UPS_ERR_UPSTREAM_CLOSED': return 502;
    case 'UPS_ERR_NO_UPSTREAM':
    case 'UPS_ERR_CONNECT':
    case 'UPS_ERR_CONNECT_TIMEOUT':
    case 'UPS_ERR_CLOSED': return 503;
    default: return 502;
  }
}
