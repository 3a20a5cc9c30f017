import { randomFillSync } from 'node:crypto';

/**
 * The client's half of RFC 6455 framing, for the uws engine's relay to the
 * server (uWS speaks the client's side itself): frames from the server are
 * read (unmasked, no extension: none is negotiated), frames to it are written
 * masked. A data frame's payload is handed on piece by piece as it arrives,
 * so no message is held whole.
 */

export const OP_TEXT = 1;
export const OP_BINARY = 2;
export const OP_CLOSE = 8;
export const OP_PING = 9;
export const OP_PONG = 10;

/** What the reader finds. */
export interface FrameSink {
  /** A piece of a data message: `first` begins it (`binary` from its first frame), `last` ends it. */
  piece(data: Buffer, binary: boolean, first: boolean, last: boolean): void;
  /** A whole control frame (close, ping or pong). */
  control(opcode: number, payload: Buffer): void;
  /** The server broke the framing (RFC 6455 §7.4.1 code 1002, or 1009 for a 2^53-byte frame). */
  broken(code: number, why: string): void;
}

/**
 * Reads the server's frames. State: the bytes of a frame head still being
 * read (`head`), else the payload bytes left of the current frame (`left`);
 * control frames (at most 125 bytes) are gathered whole.
 */
export class FrameReader {
  private head: Buffer | null = null;
  private left = 0;
  private fin = false;
  private opcode = 0;
  private inFrame = false;
  /** A data message is open (its first frame came, its FIN not yet). */
  private inMessage = false;
  private binary = false;
  /** No piece of the open message went out yet. */
  private first = false;
  private control: Buffer[] | null = null;
  private done = false;

  constructor(private readonly sink: FrameSink) {}

  feed(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length && !this.done) {
      if (!this.inFrame) {
        const buf = this.head === null ? chunk.subarray(at) : Buffer.concat([this.head, chunk.subarray(at)]);
        const used = this.frameHead(buf);
        if (used === 0) {
          this.head = Buffer.from(buf);
          return;
        }
        at += used - (this.head === null ? 0 : this.head.length);
        this.head = null;
        if (this.done) return;
        if (this.left === 0) this.endFrame(Buffer.alloc(0));
        continue;
      }
      const n = Math.min(this.left, chunk.length - at);
      const data = chunk.subarray(at, at + n);
      at += n;
      this.left -= n;
      this.payload(data);
    }
  }

  /** Parses a frame head at the start of `buf`; returns its length, 0 when incomplete. */
  private frameHead(buf: Buffer): number {
    if (buf.length < 2) return 0;
    const b0 = buf[0]!;
    const b1 = buf[1]!;
    let len = b1 & 0x7f;
    let at = 2;
    if (len === 126) {
      if (buf.length < 4) return 0;
      len = buf.readUInt16BE(2);
      at = 4;
    } else if (len === 127) {
      if (buf.length < 10) return 0;
      const hi = buf.readUInt32BE(2);
      if (hi > 0x1fffff) return this.fail(1009, 'frame too long'), 2;
      len = hi * 2 ** 32 + buf.readUInt32BE(6);
      at = 10;
    }
    const opcode = b0 & 0x0f;
    const fin = (b0 & 0x80) !== 0;
    if ((b0 & 0x70) !== 0) return this.fail(1002, 'RSV bit set with no extension negotiated'), at;
    if ((b1 & 0x80) !== 0) return this.fail(1002, 'masked frame from the server'), at;
    if (opcode >= OP_CLOSE) {
      if (opcode > OP_PONG) return this.fail(1002, `unknown opcode ${opcode}`), at;
      if (!fin || len > 125) return this.fail(1002, 'fragmented or long control frame'), at;
      this.control = [];
    } else if (opcode === 0) {
      if (!this.inMessage) return this.fail(1002, 'continuation with no message'), at;
    } else if (opcode <= OP_BINARY) {
      if (this.inMessage) return this.fail(1002, 'new message inside a fragmented one'), at;
      this.inMessage = true;
      this.first = true;
      this.binary = opcode === OP_BINARY;
    } else {
      return this.fail(1002, `unknown opcode ${opcode}`), at;
    }
    this.opcode = opcode;
    this.fin = fin;
    this.left = len;
    this.inFrame = true;
    return at;
  }

  private payload(data: Buffer): void {
    if (this.control !== null) {
      this.control.push(data);
      if (this.left === 0) this.endFrame(Buffer.concat(this.control));
      return;
    }
    const last = this.left === 0 && this.fin;
    // Empty pieces in the middle of a message carry nothing: left out.
    if (data.length > 0 || last) this.dataPiece(data, last);
    if (this.left === 0) this.inFrame = false;
  }

  private endFrame(payload: Buffer): void {
    this.inFrame = false;
    if (this.control !== null) {
      this.control = null;
      this.sink.control(this.opcode, payload);
    } else if (this.fin) {
      this.dataPiece(payload, true);
    }
  }

  private dataPiece(data: Buffer, last: boolean): void {
    const first = this.first;
    this.first = false;
    if (last) this.inMessage = false;
    this.sink.piece(data, this.binary, first, last);
  }

  private fail(code: number, why: string): void {
    this.done = true;
    this.sink.broken(code, why);
  }
}

/** A masked frame (RFC 6455 §5.3: a client masks every frame, with a key of its own choosing each time). */
export function maskedFrame(opcode: number, payload: Uint8Array): Buffer {
  const n = payload.length;
  const headLen = n < 126 ? 2 : n < 65536 ? 4 : 10;
  const out = Buffer.allocUnsafe(headLen + 4 + n);
  out[0] = 0x80 | opcode;
  if (n < 126) {
    out[1] = 0x80 | n;
  } else if (n < 65536) {
    out[1] = 0x80 | 126;
    out.writeUInt16BE(n, 2);
  } else {
    out[1] = 0x80 | 127;
    out.writeUInt32BE(Math.floor(n / 2 ** 32), 2);
    out.writeUInt32BE(n >>> 0, 6);
  }
  const key = out.subarray(headLen, headLen + 4);
  randomFillSync(key);
  const k0 = key[0]!, k1 = key[1]!, k2 = key[2]!, k3 = key[3]!;
  const body = headLen + 4;
  let i = 0;
  for (const end = n - 3; i < end; i += 4) {
    out[body + i] = payload[i]! ^ k0;
    out[body + i + 1] = payload[i + 1]! ^ k1;
    out[body + i + 2] = payload[i + 2]! ^ k2;
    out[body + i + 3] = payload[i + 3]! ^ k3;
  }
  for (; i < n; i++) out[body + i] = payload[i]! ^ key[i & 3]!;
  return out;
}

/** A close frame's payload: no code (1005, or 0 from uWS) gives an empty one. */
export function closePayload(code: number, reason: Uint8Array): Buffer {
  if (code === 0 || code === 1005) return Buffer.alloc(0);
  const r = reason.length > 123 ? reason.subarray(0, 123) : reason;
  const out = Buffer.allocUnsafe(2 + r.length);
  out.writeUInt16BE(code, 0);
  out.set(r, 2);
  return out;
}

/** A close code an endpoint may send (RFC 6455 §7.4; IANA's 1012-1014 too): not 1004-1006, 1015, below 1000 or above 4999. */
export function sendableCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}
