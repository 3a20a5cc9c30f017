import t from 'tap';
import { parseRequestHead } from '../../../src/core/http/request-head.js';
import { parseResponseHead } from '../../../src/core/http/response-head.js';
import { connectionTokens, hasToken } from '../../../src/core/http/tokens.js';

const request = (fields: string, version = '1.1') => {
  const b = Buffer.from(`GET / HTTP/${version}\r\nHost: x\r\n${fields}\r\n`, 'latin1');
  return parseRequestHead(b, b.length);
};
const response = (fields: string, version = '1.1') => {
  const b = Buffer.from(`HTTP/${version} 200 OK\r\n${fields}\r\n`, 'latin1');
  return parseResponseHead(b, 0, b.length, []);
};

t.test('hasToken finds what connectionTokens lists', async (t) => {
  const lists = ['close', ' close ', 'keep-alive,close', 'keep-alive, \tclose\t', 'closed', 'xclose', 'close,', ',close', ',,', '', 'upgrade , close', 'close\xa0', 'clo se'];
  for (const list of lists) {
    for (const token of ['close', 'keep-alive', 'upgrade']) {
      t.equal(hasToken(list, token), connectionTokens(list).includes(token), `${JSON.stringify(list)} has ${token}`);
    }
  }
});

t.test('Connection decides close and upgrade the same way in both heads', async (t) => {
  t.equal(request('Connection: close\r\n').close, true);
  t.equal(request('Connection: Keep-Alive, CLOSE\r\n').close, true);
  t.equal(request('Connection: closed\r\n').close, false);
  t.equal(request('Connection: keep-alive\r\n', '1.0').close, false);
  t.equal(request('Connection: close\r\n', '1.0').close, true);
  t.equal(request('Connection: upgrade\r\nUpgrade: websocket\r\n').upgrade, true);
  t.equal(request('Connection: keep-alive\r\nUpgrade: websocket\r\n').upgrade, false);
  t.same(request('Connection: close\r\nUpgrade: h2c\r\nX: y\r\n').hop, [25, 44, 44, 58], 'Connection and Upgrade lines are hop-by-hop');
  t.equal(response('Connection: close\r\n').close, true);
  t.equal(response('Connection: Close\r\n').close, true);
  t.equal(response('Connection: close, x\r\n').close, true);
  t.equal(response('Connection: closer\r\n').close, false);
  t.equal(response('Connection: close\r\n').plain, false, 'a Connection other than keep-alive is not plain');
  t.equal(response('Connection: close\r\n', '1.0').close, true);
  t.equal(response('Connection: keep-alive\r\n', '1.0').close, false);
  t.throws(() => parseResponseHead(Buffer.from('http/1.1 200 OK\r\n\r\n'), 0, 19, []), /malformed status line/, 'the version is case-sensitive');
});
