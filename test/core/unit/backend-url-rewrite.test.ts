import t from 'tap';
import { resolveOptions } from '../../../src/core/options.js';
import { rewriteUrl, rewriteUrlField, urlRewrite } from '../../../src/core/http/location.js';

const r = urlRewrite(true, [{ hostname: '127.0.0.1', port: 18802 }, { hostname: 'app-v2.internal', port: 80 }], 'shop.example:8080')!;

t.test('a URL at one of the servers points at the client\'s Host, scheme http', async (t) => {
  t.equal(rewriteUrl('http://127.0.0.1:18802/wp-admin/?a=1#x', r), 'http://shop.example:8080/wp-admin/?a=1#x');
  t.equal(rewriteUrl('http://localhost:18802/', r), 'http://shop.example:8080/', 'localhost is 127.0.0.1');
  t.equal(rewriteUrl('http://[::1]:18802', r), 'http://shop.example:8080', 'and so is [::1]');
  t.equal(rewriteUrl('HTTP://APP-V2.internal/login', r), 'http://shop.example:8080/login', 'names case-insensitive, the default port');
  t.equal(rewriteUrl('https://127.0.0.1:18802/x', r), 'http://shop.example:8080/x', "the client's scheme (http) is kept");
  t.equal(rewriteUrl('//127.0.0.1:18802/x', r), 'http://shop.example:8080/x', 'scheme-relative');
});

t.test('anything else passes as it came', async (t) => {
  t.equal(rewriteUrl('/relative/path', r), null);
  t.equal(rewriteUrl('http://127.0.0.1:18803/', r), null, 'another port');
  t.equal(rewriteUrl('http://example.com/', r), null, 'another site');
  t.equal(rewriteUrl('http://user@127.0.0.1:18802/', r), null, 'userinfo');
  t.equal(rewriteUrl('http://app-v2.internal:8080/', r), null, 'the name with another port');
  t.equal(rewriteUrl('ftp://127.0.0.1:18802/', r), null);
});

t.test('Refresh has its URL part rewritten', async (t) => {
  t.equal(rewriteUrlField('refresh', '5; url=http://127.0.0.1:18802/next', r), '5; url=http://shop.example:8080/next');
  t.equal(rewriteUrlField('refresh', "0;URL='http://localhost:18802/'", r), "0;URL='http://shop.example:8080/'");
  t.equal(rewriteUrlField('refresh', '30', r), null);
  t.equal(rewriteUrlField('content-location', 'http://127.0.0.1:18802/a', r), 'http://shop.example:8080/a');
  t.equal(rewriteUrlField('link', '<http://127.0.0.1:18802/a>', r), null, 'other fields are not touched');
});

t.test('rewrite.location: on by default, off when false, a boolean', async (t) => {
  t.equal(resolveOptions({}).rewrite.location, true);
  t.equal(resolveOptions({ rewrite: { location: false } }).rewrite.location, false);
  t.throws(() => resolveOptions({ rewrite: { location: 'yes' } }), { code: 'UPS_ERR_INVALID_OPTION', field: 'rewrite.location', message: /must be a boolean, got "yes"/ });
  t.throws(() => resolveOptions({ rewrite: { locations: true } }), { code: 'UPS_ERR_INVALID_OPTION', field: 'rewrite.locations' });
  t.throws(() => resolveOptions({ rewrite: true }), { code: 'UPS_ERR_INVALID_OPTION', field: 'rewrite', message: /must be an object/ });
  t.equal(urlRewrite(false, r.servers, 'x'), null);
  t.equal(urlRewrite(true, r.servers, undefined), null, 'no Host (HTTP/1.0): nothing to point at');
});
