/**
 * The status page's script (inlined into the page; allowed by its hash in
 * the page's CSP). Plain ES2020 for any current browser, no build step.
 *
 * It polls `GET /status` every second rather than holding an EventSource:
 * an EventSource cannot send an Authorization header, and the token must
 * never travel in a URL. Requests per second and the error rate are the
 * difference of two samples. The token, when the API asks for one, lives in
 * a variable of this page only (gone on reload), sent as a Bearer header.
 */
export const SCRIPT = String.raw`
'use strict';
var POLL_MS = 1000;
var token = null;
var prev = null;
var timer = null;
var pending = null;
var $ = function (id) { return document.getElementById(id); };

function esc(s) {
  return String(s).replace(/[&<>"']/g, function (c) { return '&#' + c.charCodeAt(0) + ';'; });
}
function clock(iso) {
  var d = new Date(iso);
  return isNaN(d) ? '' : d.toLocaleTimeString([], { hour12: false });
}
/** Shares move in fractions of a percent under GRADUAL: one decimal at most. */
function pct(n) {
  return String(Math.round(Number(n) * 10) / 10) + '%';
}
function fmt(n, digits) {
  return n === undefined || n === null || isNaN(n) ? '\u2014' : n.toFixed(digits);
}

function headers(extra) {
  var h = { Accept: 'application/json' };
  if (token !== null) h.Authorization = 'Bearer ' + token;
  for (var k in extra || {}) h[k] = extra[k];
  return h;
}

function schedule(ms) {
  clearTimeout(timer);
  timer = setTimeout(poll, ms);
}

function poll() {
  fetch('/status', { headers: headers(), cache: 'no-store' }).then(function (res) {
    if (res.status === 401) { askToken(token === null ? '' : 'That token was refused.'); return null; }
    if (!res.ok) throw new Error('GET /status answered ' + res.status);
    return res.json();
  }).then(function (data) {
    if (data === null) return;
    $('token').hidden = true;
    $('app').hidden = false;
    render(data);
    live('updated ' + new Date().toLocaleTimeString([], { hour12: false }), false);
    schedule(POLL_MS);
  }).catch(function (err) {
    live('sidecar unreachable: ' + err.message, true);
    schedule(POLL_MS * 2);
  });
}

function live(text, isErr) {
  var el = $('live');
  el.textContent = text;
  el.className = isErr ? 'live err' : 'live';
}

function askToken(message) {
  clearTimeout(timer);
  token = null;
  $('app').hidden = true;
  $('token').hidden = false;
  $('token-msg').textContent = message;
  $('token-input').value = '';
  $('token-input').focus();
  live('waiting for a token', false);
}

/** Per version: requests/s and the error share of the requests since the previous sample. */
function rates(data) {
  var now = performance.now();
  var out = {};
  for (var i = 0; i < data.versions.length; i++) {
    var v = data.versions[i];
    var p = prev && prev.byUuid[v.uuid];
    if (p) {
      var dt = (now - prev.t) / 1000;
      var dr = v.requests - p.requests;
      var de = v.errors - p.errors;
      out[v.uuid] = { rps: dt > 0 ? Math.max(0, dr) / dt : 0, err: dr > 0 ? Math.max(0, de) / dr : null };
    }
  }
  var byUuid = {};
  data.versions.forEach(function (v) { byUuid[v.uuid] = { requests: v.requests, errors: v.errors }; });
  prev = { t: now, byUuid: byUuid };
  return out;
}

function serverState(s) {
  return s.state || (s.healthy ? 'healthy' : 'ejected');
}

function verdictLine(v) {
  var j = v.judgement;
  var parts = [];
  if (j) {
    parts.push('<span class="v ' + esc(j.verdict) + '">' + esc(j.verdict) + '</span>');
    if (j.window && j.window.requests !== undefined) parts.push('window ' + esc(j.window.requests) + ' request(s), ' + esc(j.window.failures) + ' failed');
    // The rule: roll back when the lower bound of the failure rate exceeds the bound.
    if (j.lower !== undefined && j.bound !== undefined) parts.push('failure rate ≥ ' + fmt(j.lower * 100, 1) + '% (rollback above ' + fmt(j.bound * 100, 1) + '%)');
  }
  if (v.rolledBack) {
    parts.push('rolled back: ' + esc(v.rolledBack.reason) + ' at ' + esc(clock(v.rolledBack.at)));
  } else if (j && j.lastDecision) {
    parts.push('last: ' + esc(j.lastDecision.action) + (j.lastDecision.reason ? ' (' + esc(j.lastDecision.reason) + ')' : '') + ' at ' + esc(clock(j.lastDecision.at)));
  }
  if (v.promotedAt) parts.push('promoted at ' + esc(clock(v.promotedAt)));
  // retire "when-drained", taken over: what still holds it, and when it goes at the latest.
  if (v.retire) {
    parts.push('draining: ' + (v.sessions !== undefined ? esc(v.sessions) + ' session(s), ' : '') + esc(v.retire.open) + ' connection(s) left, sessions expire ' + esc(clock(v.retire.sessionsExpire)) + ', removed by ' + esc(clock(v.retire.deadline)));
  }
  if (parts.length === 0) return '';
  return '<div class="verdict">verdict: ' + parts.join(' \u00b7 ') + '</div>';
}

/** The buttons that can change something: a rolled-back version can be resumed, not rolled back again. */
function actions(v) {
  var rolledBack = v.state === 'rolled-back' || v.rolledBack !== undefined;
  var promoted = v.promotedAt !== undefined;
  var button = function (action, label, cls) {
    return '<button' + (cls ? ' class="' + cls + '"' : '') + ' data-action="' + action + '" data-uuid="' + esc(v.uuid) + '">' + label + '</button>';
  };
  return (rolledBack ? '' : button('rollback', 'Rollback', 'danger'))
    + (promoted || rolledBack ? '' : button('promote', 'Promote'))
    + (rolledBack || promoted ? button('resume', 'Resume') : '');
}

/** The answers compared with the previous version's: the differing fields, most often first. */
function compareLine(c) {
  if (!c || !c.enabled || !(c.comparedTotal > 0)) return '';
  var fields = (c.differences || []).slice(0, 5).map(function (f) { return esc(f.field) + ' ' + fmt(f.rate * 100, 1) + '%'; });
  return '<div class="verdict">compared: ' + esc(c.compared) + ' in the window (' + esc(c.verdict) + ')'
    + (fields.length > 0 ? ' \u00b7 differing: ' + fields.join(', ') : ' \u00b7 no difference')
    + (c.noise && c.noise.length > 0 ? ' \u00b7 noise: ' + c.noise.slice(0, 3).map(function (f) { return esc(f.field); }).join(', ') : '')
    + (c.noiseBaseline && !c.noiseBaseline.available ? ' \u00b7 no noise baseline (one server)' : '') + '</div>';
}

/** Hosts sharing the routing through a store: which applied the same revision, which went silent. */
function fleetLine(f) {
  if (!f || !f.hosts) return '';
  return ' \u00b7 fleet: ' + f.hosts.length + ' host(s), ' + (f.converged ? 'converged' : 'not converged') + ' at revision ' + f.revision
    + (f.silent && f.silent.length > 0 ? ', silent: ' + f.silent.join(', ') : '');
}

function card(v, r) {
  var j = v.judgement;
  var p99 = j && j.window ? j.window.p99FirstByteMs : undefined;
  var errRate = r && r.err !== null ? fmt(r.err * 100, 1) + '%' : (v.requests > 0 ? fmt(v.errors / v.requests * 100, 1) + '% all' : '\u2014');
  var mode = v.mode + (v.percentage !== undefined ? ' ' + pct(v.percentage) : '');
  var html = '<section class="version ' + esc(v.state) + '" data-uuid="' + esc(v.uuid) + '">'
    + '<div class="top"><span class="name">' + esc(v.version) + '</span>'
    + (v.newest ? '<span class="tag newest">newest</span>' : '')
    + '<span class="tag">' + esc(mode) + '</span>'
    + '<span class="state ' + esc(v.state) + '">' + esc(v.state) + '</span>'
    + '<span class="uuid">' + esc(v.uuid) + '</span>'
    + '<span class="actions">' + actions(v) + '</span></div>'
    + '<div class="share"><span>share</span><div class="bar"><span data-share="' + esc(v.share) + '"></span></div><b>' + esc(pct(v.share)) + '</b></div>'
    + '<div class="figures">'
    + '<span>req/s <b class="rps">' + (r ? fmt(r.rps, 1) : '\u2014') + '</b></span>'
    + '<span>errors <b>' + errRate + '</b></span>'
    + '<span>p99 <b>' + (p99 === undefined || p99 === null ? '\u2014' : fmt(p99, 0) + ' ms') + '</b></span>'
    + '<span>sessions <b>' + (v.sessions === undefined ? '\u2014' : esc(v.sessions.count !== undefined ? v.sessions.count : v.sessions)) + '</b></span>'
    + '<span>open connections <b>' + esc(v.open) + '</b></span>'
    + '<span>' + (v.counts === 'first-requests' ? 'first requests' : 'requests') + ' <b>' + esc(v.requests) + '</b></span>'
    + '<span>fallbacks <b>' + esc(v.fallbacksOut) + ' out / ' + esc(v.fallbacksIn) + ' in</b></span>'
    + '</div>'
    + verdictLine(v)
    + compareLine(v.comparison)
    + '<div class="servers">' + (v.servers.length === 0 ? '<span class="empty">no servers</span>' : v.servers.map(function (s) {
      var st = serverState(s);
      return '<span class="server ' + esc(st) + '" title="' + esc(s.ejections) + ' ejection(s), ' + esc(s.failures) + ' failure(s)">' + esc(s.hostname + ':' + s.port) + ' ' + esc(st) + '</span>';
    }).join('')) + '</div>';
  if (v.launch) {
    html += '<div class="launch ' + esc(v.launch.state) + '">containers: ' + esc(v.launch.state)
      + (v.launch.message ? ' \u2014 ' + esc(v.launch.message) : '') + ' (since ' + esc(clock(v.launch.since)) + ')</div>';
  }
  return html + '</section>';
}

function render(data) {
  var r = rates(data);
  $('proxy').textContent = 'proxy ' + data.address.host + ':' + data.address.port + ' \u00b7 ' + data.connections + ' open connection(s) \u00b7 ' + data.versions.length + ' version(s)' + fleetLine(data.fleet);
  var list = $('versions');
  list.innerHTML = data.versions.length === 0 ? '<p class="empty">No versions yet: add one with PUT /configuration/cluster.</p>'
    : data.versions.map(function (v) { return card(v, r[v.uuid]); }).join('');
  // Widths through the CSSOM: the page's CSP allows no inline style attributes.
  var bars = list.querySelectorAll('[data-share]');
  for (var i = 0; i < bars.length; i++) bars[i].style.width = Math.max(0, Math.min(100, Number(bars[i].getAttribute('data-share')))) + '%';
  var events = (data.events || []).slice(-15).reverse();
  $('events').innerHTML = events.length === 0 ? '<li class="empty">nothing yet</li>' : events.map(function (e) {
    return '<li class="' + esc(e.type) + '"><time>' + esc(clock(e.at)) + '</time>' + esc(e.text) + '</li>';
  }).join('');
}

var WHAT = {
  rollback: ['Roll back', 'No new traffic goes to it; its clients go back to the previous version. It stays rolled back until resumed.'],
  promote: ['Promote', 'The transition ends: it takes every new client now and is no longer judged.'],
  resume: ['Resume', 'It goes back under judgement, its counters reset.'],
};

function confirmAction(action, uuid) {
  var card = document.querySelector('.version[data-uuid="' + CSS.escape(uuid) + '"] .name');
  var name = card ? card.textContent : uuid;
  pending = { action: action, uuid: uuid };
  $('confirm-title').textContent = WHAT[action][0] + ' ' + name + ' (' + uuid + ')?';
  $('confirm-text').textContent = WHAT[action][1];
  $('confirm-ok').textContent = WHAT[action][0];
  $('confirm').showModal();
}

function act() {
  var p = pending;
  pending = null;
  if (p === null) return;
  fetch('/configuration/cluster/' + encodeURIComponent(p.uuid) + '/' + p.action, { method: 'POST', headers: headers(), cache: 'no-store' }).then(function (res) {
    return res.json().catch(function () { return {}; }).then(function (body) {
      if (res.status === 401) { askToken('The token was refused; enter it again.'); return; }
      if (!res.ok) throw new Error(body.error ? body.error.message : 'answered ' + res.status);
      notice(WHAT[p.action][0] + ': done for ' + p.uuid + '.', false);
      poll();
    });
  }).catch(function (err) { notice(WHAT[p.action][0] + ' ' + p.uuid + ' failed: ' + err.message, true); });
}

function notice(text, isErr) {
  var el = $('notice');
  el.textContent = text;
  el.className = isErr ? 'notice err' : 'notice';
  el.hidden = false;
}

$('versions').addEventListener('click', function (e) {
  var b = e.target.closest('button[data-action]');
  if (b) confirmAction(b.getAttribute('data-action'), b.getAttribute('data-uuid'));
});
$('confirm').addEventListener('close', function () {
  if ($('confirm').returnValue === 'ok') act(); else pending = null;
});
$('token').addEventListener('submit', function (e) {
  e.preventDefault();
  var t = $('token-input').value.trim();
  if (t === '') return;
  token = t;
  poll();
});
poll();
`;
