import t from 'tap';
import { closePayload, FrameReader, maskedFrame, OP_BINARY, OP_CLOSE, OP_PING, OP_TEXT, sendableCode, type FrameSink } from '../../../src/core/engine/uws/frames.js';

/** A server's (unmasked) frame. */
function frame(b0: number, payload: Buffer): Buffer {
  const n = payload.length;
  const head = n < 126 ? Buffer.from([b0, n]) : n < 65536 ? Buffer.from([b0, 126, n >> 8, n & 0xff]) : Buffer.concat([Buffer.from([b0, 127]), (() => { const b = Buffer.alloc(8); b.writeUInt32BE(Math.floor(n / 2 ** 32), 0); b.writeUInt32BE(n >>> 0, 4); return b; })()]);
  return Buffer.concat([head, payload]);
}

/** What a reader makes of `bytes` fed in pieces of `step` bytes: messages joined, controls, the error. */
function read(bytes: Buffer, step: number): { messages: Array<[boolean, string]>; controls: Array<[number, string]>; broken: string[]; firsts: number } {
  const out = { messages: [] as Array<[boolean, string]>, controls: [] as Array<[number, string]>, broken: [] as string[], firsts: 0 };
  let current: Buffer[] = [];
  const sink: FrameSink = {
    piece(data, binary, first, last) {
      if (first) { current = []; out.firsts++; }
      current.push(data);
      if (last) out.messages.push([binary, Buffer.concat(current).toString('latin1')]);
    },
    control(op, payload) { out.controls.push([op, payload.toString('latin1')]); },
    broken(code, why) { out.broken.push(`${code} ${why}`); },
  };
  const r = new FrameReader(sink);
  for (let i = 0; i < bytes.length; i += step) r.feed(bytes.subarray(i, i + step));
  return out;
}

t.test('frames of every length class, fragments with a ping between them, split at every size', async (t) => {
  const big = Buffer.alloc(70_000, 'b');
  const mid = Buffer.alloc(300, 'm');
  const bytes = Buffer.concat([
    frame(0x81, Buffer.from('hello')),
    frame(0x82, mid),
    frame(0x01, Buffer.from('frag-')),
    frame(0x89, Buffer.from('ping!')),
    frame(0x00, Buffer.from('ment')),
    frame(0x80, Buffer.from('ed')),
    frame(0x82, big),
    frame(0x81, Buffer.alloc(0)),
    frame(0x88, Buffer.from([0x0f, 0xa1, 0x62, 0x79, 0x65])),
  ]);
  for (const step of [1, 2, 3, 7, 13, 125, 4096, bytes.length]) {
    const r = read(bytes, step);
    t.same(r.messages, [[false, 'hello'], [true, mid.toString('latin1')], [false, 'frag-mented'], [true, big.toString('latin1')], [false, '']], `messages whole, in order (pieces of ${step})`);
    t.same(r.controls, [[OP_PING, 'ping!'], [OP_CLOSE, '\x0f\xa1bye']], `controls whole (pieces of ${step})`);
    t.equal(r.firsts, 5, 'one first piece per message');
    t.same(r.broken, []);
  }
});

t.test('what breaks the framing', async (t) => {
  const cases: Array<[string, Buffer, string]> = [
    ['a masked frame', Buffer.from([0x81, 0x81, 1, 2, 3, 4, 0x61]), '1002 masked frame from the server'],
    ['an RSV bit', Buffer.from([0xc1, 0x01, 0x61]), '1002 RSV bit set with no extension negotiated'],
    ['an unknown opcode', Buffer.from([0x83, 0x00]), '1002 unknown opcode 3'],
    ['a continuation with no message', Buffer.from([0x80, 0x00]), '1002 continuation with no message'],
    ['a new message inside a fragmented one', Buffer.concat([frame(0x01, Buffer.from('a')), frame(0x81, Buffer.from('b'))]), '1002 new message inside a fragmented one'],
    ['a fragmented ping', Buffer.from([0x09, 0x00]), '1002 fragmented or long control frame'],
    ['a 126-byte ping', frame(0x89, Buffer.alloc(126)), '1002 fragmented or long control frame'],
    ['a 2^53-byte frame', Buffer.from([0x82, 0x7f, 0, 0x20, 0, 0, 0, 0, 0, 0]), '1009 frame too long'],
  ];
  for (const [name, bytes, want] of cases) t.same(read(bytes, 1).broken, [want], name);
});

t.test('masked frames and close payloads', async (t) => {
  for (const n of [0, 5, 125, 126, 65535, 65536]) {
    const payload = Buffer.alloc(n, 0x5a);
    const f = maskedFrame(OP_BINARY, payload);
    const headLen = n < 126 ? 2 : n < 65536 ? 4 : 10;
    t.equal(f.length, headLen + 4 + n, `${n}: head, key, payload`);
    t.equal(f[0], 0x82, 'FIN and opcode');
    t.equal(f[1]! & 0x80, 0x80, 'masked');
    const key = f.subarray(headLen, headLen + 4);
    const unmasked = Buffer.from(f.subarray(headLen + 4).map((b, i) => b ^ key[i & 3]!));
    t.ok(unmasked.equals(payload), 'the payload, once unmasked');
  }
  t.not(maskedFrame(OP_TEXT, Buffer.from('x')).readUInt32BE(2), maskedFrame(OP_TEXT, Buffer.from('x')).readUInt32BE(2), 'a fresh key each frame');
  t.same(closePayload(1005, Buffer.alloc(0)), Buffer.alloc(0), 'no code: an empty close');
  t.same(closePayload(4001, Buffer.from('asked to')), Buffer.from([0x0f, 0xa1, ...Buffer.from('asked to')]), 'code and reason');
  t.equal(closePayload(1000, Buffer.alloc(200, 'r')).length, 125, 'a reason cut to fit a control frame');
  t.same([1000, 1004, 1005, 1006, 1013, 1014, 1015, 2999, 3000, 4999, 5000].map(sendableCode), [true, false, false, false, true, true, false, false, true, true, false], 'codes one may send');
});
