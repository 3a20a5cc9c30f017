import t from 'tap';
import { crossSiteRefusal } from '../../../src/sidecar/cross-site.js';

const loop = { listenHost: '127.0.0.1', token: false };

t.test('requests from the page itself, and from programs, pass', async (t) => {
  const ok: Array<[Record<string, string>, typeof loop]> = [
    [{ host: '127.0.0.1:9090' }, loop],
    [{}, loop],
    [{ host: 'localhost:9090', 'sec-fetch-site': 'same-origin', origin: 'http://localhost:9090' }, loop],
    [{ host: '[::1]:9090', 'sec-fetch-site': 'none' }, { listenHost: '::1', token: false }],
    [{ host: '127.1.2.3:9090', 'sec-fetch-site': 'same-origin' }, loop],
    [{ host: '10.0.0.5:9090' }, loop],
    [{ host: 'app.localhost:9090' }, loop],
    // A single-label name cannot be an attacker's domain.
    [{ host: 'x' }, loop],
    [{ host: 'upshift.internal:9090', origin: 'http://upshift.internal:9090' }, { listenHost: '127.0.0.1', token: true }],
    [{ host: 'sidecar-a:9090' }, { listenHost: '0.0.0.0', token: false }],
  ];
  for (const [headers, opts] of ok) t.equal(crossSiteRefusal(headers, opts), undefined, JSON.stringify([headers, opts]));
});

t.test('requests another site makes a browser send are refused', async (t) => {
  const refused: Array<[Record<string, string>, typeof loop, RegExp]> = [
    [{ host: '127.0.0.1:9090', 'sec-fetch-site': 'cross-site' }, loop, /cross-site browser request/],
    [{ host: '127.0.0.1:9090', 'sec-fetch-site': 'same-site' }, loop, /same-site/],
    [{ host: '127.0.0.1:9090', origin: 'http://evil.example' }, loop, /from http:\/\/evil\.example/],
    [{ host: '127.0.0.1:9090', origin: 'null' }, loop, /from null/],
    [{ host: '127.0.0.1:9090', origin: 'http://127.0.0.1:3000' }, { listenHost: '127.0.0.1', token: true }, /from http:\/\/127\.0\.0\.1:3000/],
    [{ origin: 'http://evil.example' }, loop, /from http:\/\/evil\.example/],
    // DNS rebinding: the browser thinks it talks to evil.example, same-origin.
    [{ host: 'evil.example:9090', origin: 'http://evil.example:9090', 'sec-fetch-site': 'same-origin' }, loop, /Host "evil\.example:9090" is not this machine's address/],
    [{ host: 'evil.example:9090' }, loop, /not this machine's address/],
    [{ host: 'Evil.Example.:9090' }, loop, /not this machine's address/],
  ];
  for (const [headers, opts, why] of refused) t.match(crossSiteRefusal(headers, opts), why, JSON.stringify([headers, opts]));
});
