import { createHash } from 'node:crypto';
import { SCRIPT } from './script.js';
import { STYLE } from './style.js';

/**
 * The status page served at `GET /` of the config port: one self-contained
 * HTML document (its style and script inline, nothing fetched from elsewhere),
 * compiled into the package as strings, so there is no asset to copy and no
 * build step for a user. It holds no data: it is served without a token, and
 * its calls to `/status` and the operator endpoints carry the token as every
 * API call does.
 */
const HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>upshift status</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>
<header><h1>upshift</h1><span class="meta" id="proxy"></span><span class="live" id="live">connecting…</span></header>
<main>
<form class="token" id="token" hidden>
<strong>This sidecar's API needs a token.</strong>
<div id="token-msg"></div>
<label>Bearer token <input id="token-input" type="password" autocomplete="off" spellcheck="false"></label>
<button type="submit">Open</button>
<p class="empty">It stays in this page's memory only and is sent as an Authorization header.</p>
</form>
<div id="app">
<div id="notice" class="notice" hidden></div>
<div class="versions" id="versions"></div>
<h2>Last events</h2>
<ul class="events" id="events"></ul>
</div>
</main>
<dialog id="confirm">
<form method="dialog">
<strong id="confirm-title"></strong>
<p id="confirm-text"></p>
<menu><button value="cancel">Cancel</button><button value="ok" id="confirm-ok" class="danger"></button></menu>
</form>
</dialog>
<script>${SCRIPT}</script>
</body>
</html>
`;

function sha256(s: string): string {
  return `'sha256-${createHash('sha256').update(s, 'utf8').digest('base64')}'`;
}

/**
 * Only the page's own script and style run, it talks to this port only, and
 * no other site may frame it (its buttons change routing).
 */
const CSP = [
  "default-src 'none'",
  `script-src ${sha256(SCRIPT)}`,
  `style-src ${sha256(STYLE)}`,
  "img-src data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The page's bytes and the headers it is served with. */
export const STATUS_PAGE = {
  body: Buffer.from(HTML, 'utf8'),
  headers: {
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Security-Policy': CSP,
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'no-store',
  },
} as const;
