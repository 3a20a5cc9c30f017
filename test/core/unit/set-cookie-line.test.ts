import t from 'tap';
import { setCookieLine, type CookieOptions } from '../../../src/core/http/cookies.js';

// The attributes are kept between answers: what a line says must still follow its arguments.

const base = (): CookieOptions => ({ name: 'upshift-session', path: '/', domain: undefined, secure: false, httpOnly: true, sameSite: 'Lax' });
const T = Date.UTC(2026, 11, 1, 12, 0, 0);

t.test('one line, every attribute in order', async (t) => {
  t.equal(
    setCookieLine(base(), 'v~id~t', 3600, T),
    'Set-Cookie: upshift-session=v~id~t; Max-Age=3600; Expires=Tue, 01 Dec 2026 13:00:00 GMT; Path=/; HttpOnly; SameSite=Lax\r\n',
  );
  t.equal(setCookieLine(base(), 'x', undefined, T), 'Set-Cookie: upshift-session=x; Path=/; HttpOnly; SameSite=Lax\r\n', 'no Max-Age: a browser-session cookie');
});

t.test('Expires follows the clock and the lifetime', async (t) => {
  const o = base();
  t.match(setCookieLine(o, 'a', 60, T), /Expires=Tue, 01 Dec 2026 12:01:00 GMT/);
  t.match(setCookieLine(o, 'a', 60, T + 999), /Expires=Tue, 01 Dec 2026 12:01:00 GMT/, 'same second');
  t.match(setCookieLine(o, 'a', 60, T + 1000), /Expires=Tue, 01 Dec 2026 12:01:01 GMT/, 'next second');
  t.match(setCookieLine(o, 'a', 120, T + 1000), /Max-Age=120; Expires=Tue, 01 Dec 2026 12:02:01 GMT/, 'another lifetime');
  t.match(setCookieLine(o, 'a', 0.6, T + 500), /Max-Age=0; Expires=Tue, 01 Dec 2026 12:00:01 GMT/, 'a fractional lifetime crossing a second');
  t.match(setCookieLine(o, 'a', 0.6, T + 200), /Expires=Tue, 01 Dec 2026 12:00:00 GMT/, 'and one that does not');
});

t.test('options changed on the same object are written', async (t) => {
  const o = base();
  t.match(setCookieLine(o, 'a', 60, T), /; Path=\/; HttpOnly; SameSite=Lax\r\n$/);
  o.path = '/app';
  o.domain = 'example.com';
  o.secure = true;
  o.httpOnly = false;
  o.sameSite = 'None';
  t.match(setCookieLine(o, 'a', 60, T), /; Path=\/app; Domain=example\.com; Secure; SameSite=None\r\n$/);
  o.name = 'other';
  t.match(setCookieLine(o, 'b', 60, T), /^Set-Cookie: other=b; /);
  t.notMatch(setCookieLine(base(), 'c', 60, T), /Secure/, 'another object has its own attributes');
});
