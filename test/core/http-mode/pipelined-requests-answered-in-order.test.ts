import t from 'tap';
import { backend, raw } from '../../helpers/net.js';
import { HTTP_MODES, modeOptions, modesExcept } from '../../helpers/modes.js';
import { sessionProxy, splitResponses } from './_helpers.js';

// On uws a request read while an earlier one waits for its answer closes the connection (limit `pipelining`,
// asserted by test/core/uws-engine-limits.test.ts); a request line in pieces is misread there too.
const PIPELINING = modesExcept('pipelining', HTTP_MODES);

for (const m of PIPELINING) t.test(`${m}: pipelined requests are routed one by one by their own cookies and answered in request order`, async (t) => {
  // The old version answers slowly: a proxy that let the fast answer overtake it would reorder.
  const v1 = await backend('v1', (req, res) => setTimeout(() => res.end(`v1${req.url}`), 80));
  const v2 = await backend('v2', (req, res) => res.end(`v2${req.url}`));
  const proxy = await sessionProxy(v1.port, v2.port, modeOptions(m));
  t.teardown(async () => { await proxy.close({ drainTimeout: 0 }); await v1.close(); await v2.close(); });
  const cookies = ['old', 'new', 'old', 'new', 'new', 'old'];
  const text = cookies.map((c, i) => `GET /${i} HTTP/1.1\r\nHost: x\r\nCookie: dynsoftup=${c}\r\n${i === cookies.length - 1 ? 'Connection: close\r\n' : ''}\r\n`).join('');
  const r = await raw(proxy.address.port, text, { ms: 5000 });
  t.ok(r.closed);
  const resps = splitResponses(r.text, cookies.map(() => 'GET'));
  t.same(resps.map((x) => x.body), cookies.map((c, i) => `${c === 'old' ? 'v1' : 'v2'}/${i}`));
});

for (const m of PIPELINING) t.test(`${m}: a pipelined POST body is framed by its Content-Length and chunked coding, and the next request follows it`, async (t) => {
  const v1 = await backend('v1');
  const v2 = await backend('v2', (req, res, body) => res.end(`${req.method} ${req.url} ${body}`));
  const proxy = await sessionProxy(v1.port, v2.port, modeOptions(m));
  t.teardown(async () => { await proxy.close({ drainTimeout: 0 }); await v1.close(); await v2.close(); });
  const text = 'POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello world'
    + 'POST /b HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6;q="a b"\r\n world\r\n0\r\n\r\n'
    + 'GET /c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n';
  // Sent in small pieces: framing must not depend on how TCP cuts the bytes.
  const parts: string[] = [];
  for (let i = 0; i < text.length; i += 7) parts.push(text.slice(i, i + 7));
  const r = await raw(proxy.address.port, parts, { gapMs: 1, ms: 5000 });
  const resps = splitResponses(r.text, ['POST', 'POST', 'GET']);
  t.same(resps.map((x) => x.body), ['POST /a hello world', 'POST /b hello world', 'GET /c ']);
});
