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
    this.name = 'UpshiftError';
    this.code = code;
    this.field = field;
  }

  toJSON(): { code: string; message: string; field?: string } {
    return this.field === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, field: this.field };
  }
}

/** A proxy option is missing, of the wrong type or out of range. */
export class InvalidOptionError extends UpshiftError {
  constructor(field: string, message: string) {
    super('UPS_ERR_INVALID_OPTION', `${field}: ${message}`, field);
    this.name = 'InvalidOptionError';
  }
}

/** A version (the seed's "cluster" object) does not validate. */
export class InvalidVersionError extends UpshiftError {
  constructor(field: string, message: string) {
    super('UPS_ERR_INVALID_VERSION', `${field}: ${message}`, field);
    this.name = 'InvalidVersionError';
  }
}

/** No version with that id. */
export class VersionNotFoundError extends UpshiftError {
  constructor(id: string) {
    super('UPS_ERR_VERSION_NOT_FOUND', `no version with id ${JSON.stringify(id)}`, 'uuid');
    this.name = 'VersionNotFoundError';
  }
}

/** A version with that id exists already. */
export class VersionExistsError extends UpshiftError {
  constructor(id: string) {
    super('UPS_ERR_VERSION_EXISTS', `a version with id ${JSON.stringify(id)} exists already`, 'uuid');
    this.name = 'VersionExistsError';
  }
}

/** A rollback needs another version to send traffic to, and none is left that is not rolled back. */
export class NoRollbackTargetError extends UpshiftError {
  constructor(id: string) {
    super('UPS_ERR_NO_ROLLBACK_TARGET', `version ${JSON.stringify(id)} cannot be rolled back: no other version is left to take its traffic`, 'uuid');
    this.name = 'NoRollbackTargetError';
  }
}

/** Every candidate server of every eligible version failed or is ejected. */
export class NoUpstreamError extends UpshiftError {
  constructor(message = 'no version can serve this request') {
    super('UPS_ERR_NO_UPSTREAM', message);
    this.name = 'NoUpstreamError';
  }
}

/** TCP connect to an upstream server did not finish within `timeouts.connect`. */
export class ConnectTimeoutError extends UpshiftError {
  constructor(server: string) {
    super('UPS_ERR_CONNECT_TIMEOUT', `connect to ${server} timed out`);
    this.name = 'ConnectTimeoutError';
  }
}

/** TCP connect to an upstream server failed (refused, unreachable, reset). */
export class ConnectError extends UpshiftError {
  constructor(server: string, cause: Error) {
    super('UPS_ERR_CONNECT', `connect to ${server} failed: ${(cause as NodeJS.ErrnoException).code ?? cause.message}`, undefined, { cause });
    this.name = 'ConnectError';
  }
}

/** The upstream closed or reset before a complete response head arrived. */
export class UpstreamClosedError extends UpshiftError {
  constructor(server: string) {
    super('UPS_ERR_UPSTREAM_CLOSED', `${server} closed the connection before a response head`);
    this.name = 'UpstreamClosedError';
  }
}

/** The upstream sent no response head within the first-byte deadline. */
export class FirstByteTimeoutError extends UpshiftError {
  constructor(server: string) {
    super('UPS_ERR_FIRST_BYTE_TIMEOUT', `${server} sent no response head in time`);
    this.name = 'FirstByteTimeoutError';
  }
}

/** The upstream's response head does not parse or is too large. */
export class BadResponseError extends UpshiftError {
  constructor(server: string, reason: string) {
    super('UPS_ERR_BAD_RESPONSE', `${server} sent an invalid response head: ${reason}`);
    this.name = 'BadResponseError';
  }
}

/**
 * A server's answer was dropped to try another candidate (its status is one
 * judgement retries), and that candidate failed without an answer: the client
 * gets the dropped answer's status from the proxy.
 */
export class UpstreamStatusError extends UpshiftError {
  constructor(server: string, readonly status: number) {
    super('UPS_ERR_UPSTREAM_STATUS', `${server} answered ${status}`);
    this.name = 'UpstreamStatusError';
  }
}

/** The client's request head is not valid HTTP/1.1 (see `reason`). */
export class BadRequestError extends UpshiftError {
  constructor(reason: string) {
    super('UPS_ERR_BAD_REQUEST', reason);
    this.name = 'BadRequestError';
  }
}

/** The client's request head exceeds `limits.headSize`. */
export class HeadTooLargeError extends UpshiftError {
  constructor(limit: number) {
    super('UPS_ERR_HEAD_TOO_LARGE', `request head larger than ${limit} bytes`);
    this.name = 'HeadTooLargeError';
  }
}

/** The client did not send a complete request head within `timeouts.head`. */
export class HeadTimeoutError extends UpshiftError {
  constructor() {
    super('UPS_ERR_HEAD_TIMEOUT', 'request head not received in time');
    this.name = 'HeadTimeoutError';
  }
}

/** The proxy is closing and accepts no new work. */
export class ProxyClosedError extends UpshiftError {
  constructor() {
    super('UPS_ERR_CLOSED', 'the proxy is closed');
    this.name = 'ProxyClosedError';
  }
}

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
