import t from 'tap';
import { raw, sleep } from '../helpers/net.js';
import { at, backends, proxyFor } from '../helpers/proxy.js';
import { HTTP_MODES, modeOptions } from '../helpers/modes.js';

// Request-side checks of http mode that the corpus (test/corpus) found
// missing on the uws engine, held on both engines: a head over
// `limits.headSize`, a refused head whose body holds another request, and a
// request of doubtful framing (answered, then neither connection reused).

const get = (path: string, extra = ''): string => `GET ${path} HTTP/1.1\r\nHost: x\r\n${extra}\r\n`;

for (const mode of HTTP_MODES) {
  t.test(`${mode}: a head over limits.headSize gets 431 and nothing is forwarded`, async (t) => {
    const [b] = await backends(t, ['v1']);
    const proxy = await proxyFor(t, { ...modeOptions(mode), limits: { headSize: 8192 }, versions: [{ version: '1.0', servers: at(b!) }] });
    const r = await raw(proxy.address.port, get('/', `Cookie: c=${'x'.repeat(12000)}\r\n`), { ms: 2000 });
    t.match(r.text, /^HTTP\/1\.1 431 /);
    t.equal(r.closed, true, 'and the connection is closed');
    t.equal(b!.requests.length, 0);
  });

  t.test(`${mode}: a refused head is answered 400 and closed; a request in its body is never served`, async (t) => {
    const [b] = await backends(t, ['v1']);
    const proxy = await proxyFor(t, { ...modeOptions(mode), versions: [{ version: '1.0', servers: at(b!) }] });
    const port = proxy.address.port;
    const conflict = 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 29\r\n\r\n';

    const alone = await raw(port, conflict, { ms: 2000 });
    t.match(alone.text, /^HTTP\/1\.1 400 /, 'alone: 400');
    t.equal(alone.closed, true, 'and the connection is closed');

    // By the first Content-Length the body is a request of its own: uWS
    // parses it right behind the refused head, in the same read.
    const smuggled = await raw(port, conflict + get('/SMUGGLED'), { ms: 2000 });
    t.equal(smuggled.closed, true, 'with a request behind it: the connection is closed');
    t.notMatch(smuggled.text, /200 OK/, 'and nothing of it is answered');
    await sleep(50);
    t.same(b!.requests.map((x) => x.url), [], 'nothing reached the server');
  });

  t.test(`${mode}: a request of doubtful framing is answered, then neither connection carries another`, async (t) => {
    const ports: number[] = [];
    const [b] = await backends(t, ['v1'], () => (req, res) => {
      ports.push(req.socket.remotePort!);
      if (req.url === '/g') {
        res.end('short');
        return;
      }
      // Chunked, in two pieces: the answer's end must stay intact while the proxy closes.
      res.write('hello');
      setTimeout(() => res.end(' world'), 20);
    });
    const proxy = await proxyFor(t, { ...modeOptions(mode), versions: [{ version: '1.0', servers: at(b!) }] });
    const port = proxy.address.port;

    const plain = await raw(port, get('/one', 'Connection: close\r\n'), { ms: 2000 });
    t.match(plain.text, /\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n$/, 'a plain request: the chunked answer, intact');
    await sleep(30);

    // A backslash in the target is read differently by different origins (see `isAmbiguous`).
    const doubtful = await raw(port, get('/a\\b'), { ms: 2000 });
    t.match(doubtful.text, /^HTTP\/1\.1 200 OK\r\n[^]*Connection: close\r\n/i, 'answered, with Connection: close');
    t.notMatch(doubtful.text, /Connection: close[^]*Connection: close/i, 'said once');
    t.match(doubtful.text, /\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n$/, 'the chunked answer intact');
    await sleep(30);

    const next = await raw(port, get('/three', 'Connection: close\r\n'), { ms: 2000 });
    t.match(next.text, /world/);
    t.equal(ports.length, 3);
    t.equal(ports[1], ports[0], 'the first server connection was pooled and reused');
    t.not(ports[2], ports[1], 'the one that carried the doubtful request was not');

    const body = await raw(port, 'GET /g HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi', { ms: 2000 });
    t.match(body.text, /^HTTP\/1\.1 200 OK\r\n[^]*Connection: close\r\n[^]*\r\nshort$/i, 'a GET with a body: answered');
    t.equal(body.closed, true, 'and its connection closed');
  });
}
