/** The status page's stylesheet (inlined into the page; allowed by its hash in the page's CSP). */
export const STYLE = String.raw`
:root { --bg: #f6f7f9; --card: #fff; --ink: #1d2330; --mute: #667085; --line: #e3e6ec;
  --ok: #1a7f37; --bad: #c62828; --warn: #b76e00; --idle: #8a94a6; --accent: #2f6fde; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: var(--bg); color: var(--ink); }
header { display: flex; align-items: baseline; gap: 16px; padding: 12px 20px; background: #1d2330; color: #fff; }
header h1 { font-size: 17px; margin: 0; font-weight: 600; }
header .meta { color: #c4cad6; font-size: 13px; }
header .live { margin-left: auto; font-size: 12px; color: #c4cad6; }
header .live.err { color: #ffb4a8; }
main { padding: 16px 20px; max-width: 1100px; }
.versions { display: grid; gap: 12px; }
.version { background: var(--card); border: 1px solid var(--line); border-left: 5px solid var(--idle); border-radius: 6px; padding: 10px 14px; }
.version.up { border-left-color: var(--ok); }
.version.down { border-left-color: var(--bad); }
.version.rolled-back { border-left-color: var(--warn); }
.version.draining { border-left-color: var(--idle); }
.top { display: flex; align-items: center; gap: 10px; flex-wrap: wrap; }
.top .name { font-size: 16px; font-weight: 600; }
.tag { font-size: 11px; padding: 1px 7px; border-radius: 9px; background: #eef1f6; color: var(--mute); text-transform: uppercase; letter-spacing: .03em; }
.tag.newest { background: #e2ecfd; color: var(--accent); }
.state { font-weight: 600; }
.state.up { color: var(--ok); } .state.down { color: var(--bad); } .state.rolled-back { color: var(--warn); } .state.draining { color: var(--idle); }
.uuid { color: var(--mute); font-family: ui-monospace, Menlo, monospace; font-size: 12px; }
.actions { margin-left: auto; display: flex; gap: 6px; }
button { font: inherit; font-size: 12px; padding: 3px 10px; border: 1px solid var(--line); background: #fff; border-radius: 4px; cursor: pointer; }
button:hover { border-color: var(--accent); }
button.danger { color: var(--bad); }
.share { display: flex; align-items: center; gap: 8px; margin: 8px 0 6px; }
.bar { flex: 1; height: 10px; background: #eef1f6; border-radius: 5px; overflow: hidden; }
.bar span { display: block; height: 100%; width: 0; background: var(--accent); transition: width .4s; }
.share b { min-width: 52px; text-align: right; }
.figures { display: flex; gap: 18px; flex-wrap: wrap; color: var(--mute); }
.figures b { color: var(--ink); font-weight: 600; }
.verdict { margin-top: 6px; }
.verdict .v { font-weight: 600; }
.v.pass, .v.promoted { color: var(--ok); } .v.fail { color: var(--bad); } .v.rolled-back { color: var(--warn); }
.servers { margin-top: 6px; display: flex; gap: 8px; flex-wrap: wrap; font-family: ui-monospace, Menlo, monospace; font-size: 12px; }
.server { padding: 1px 6px; border-radius: 4px; background: #eef1f6; }
.server.healthy::before, .server.probing::before, .server.ejected::before { content: "\25CF  "; }
.server.healthy::before { color: var(--ok); } .server.probing::before { color: var(--warn); } .server.ejected::before { color: var(--bad); }
.launch { margin-top: 4px; color: var(--mute); }
.launch.failed { color: var(--bad); } .launch.ready { color: var(--ok); }
h2 { font-size: 14px; margin: 20px 0 6px; color: var(--mute); font-weight: 600; }
.events { background: var(--card); border: 1px solid var(--line); border-radius: 6px; margin: 0; padding: 6px 14px; list-style: none; font-size: 13px; }
.events li { padding: 2px 0; border-bottom: 1px solid #f0f2f5; }
.events li:last-child { border-bottom: 0; }
.events time { color: var(--mute); font-family: ui-monospace, Menlo, monospace; font-size: 12px; margin-right: 8px; }
.events .rollback { color: var(--warn); } .events .upstream\:eject { color: var(--bad); }
.empty { color: var(--mute); padding: 8px 0; }
.notice { padding: 8px 12px; border-radius: 6px; margin-bottom: 12px; background: #e2ecfd; }
.notice.err { background: #fde7e4; color: #8a1c10; }
form.token { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: 16px; max-width: 420px; }
form.token input { font: inherit; width: 100%; padding: 6px 8px; margin: 8px 0; border: 1px solid var(--line); border-radius: 4px; }
dialog { border: 1px solid var(--line); border-radius: 8px; padding: 16px 18px; max-width: 420px; }
dialog::backdrop { background: rgba(20, 24, 33, .35); }
dialog menu { display: flex; gap: 8px; justify-content: flex-end; padding: 0; margin: 14px 0 0; }
[hidden] { display: none !important; }
`;
