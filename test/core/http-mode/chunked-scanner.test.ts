import t from 'tap';
import { ChunkedScanner } from '../../../src/core/http/chunked.js';

/** Feeds `text` in pieces of `step` bytes; returns the end offset in the whole text, or -1, or the error message. */
function scan(text: string, step = text.length): number | string {
  const s = new ChunkedScanner(1024);
  const buf = Buffer.from(text, 'latin1');
  try {
    for (let i = 0; i < buf.length; i += step) {
      const end = s.scan(buf.subarray(i, i + step), 0);
      if (end !== -1) return i + end;
    }
  } catch (err) {
    return (err as Error).message;
  }
  return -1;
}

t.test('the chunked scanner finds the end of a body whatever the segmentation, and refuses what RFC 9112 §7.1 does not allow', async (t) => {
  const good = ['0\r\n\r\n', '5\r\nhello\r\n0\r\n\r\n', 'A;name=val;q="a \\" b"\r\n0123456789\r\n0\r\n\r\n', '5\r\nhello\r\n0\r\nX-T: 1\r\nY: 2\r\n\r\n', '000\r\n\r\n', 'f\r\n0123456789abcde\r\n0\r\n\r\n'];
  for (const g of good) {
    for (const step of [1, 2, 3, 7, g.length]) t.equal(scan(`${g}NEXT`, step), g.length, `${JSON.stringify(g)} in pieces of ${step}`);
  }
  t.equal(scan('5\r\nhel'), -1, 'incomplete: more bytes needed');
  const bad: Array<[string, RegExp]> = [
    ['5x\r\nhello\r\n0\r\n\r\n', /invalid chunk size/],
    ['\r\n', /invalid chunk size/],
    ['-5\r\n', /invalid chunk size/],
    ['1_0\r\n', /invalid chunk size/],
    ['FFFFFFFFFFFFFF\r\n', /too large/],
    ['5\nhello\r\n', /invalid chunk size/],
    ['5;\r\nhello\r\n', /invalid chunk extension/],
    ['5;a=b c\r\n', /invalid chunk extension/],
    ['5;a\nb\r\n', /invalid chunk extension/],
    ['5\r\nhello\n0\r\n\r\n', /bare CR|longer than its size/],
    ['3\r\nhello\r\n', /longer than its size/],
    ['5\rhello', /bare CR in chunk line/],
    ['0\r\nX: a\rb\r\n\r\n', /bare CR in trailer/],
    ['0\r\nX: \u0000\r\n\r\n', /invalid character in trailer/],
    ['0\r\n\rX', /bare CR at end/],
  ];
  for (const [b, msg] of bad) t.match(scan(b), msg, JSON.stringify(b));
});
