/** The dashboard page's stylesheet. */
export const PAGE_STYLE = `
:root {
  --bg: #f6f7f9; --card: #fff; --ink: #1d2330; --muted: #6b7385; --line: #e3e6ec;
  --accent: #2f6fde; --ok: #1f8a4c; --bad: #c6363c; --warn: #b86e00;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--bg);
}
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { margin: 0; padding: 20px 28px 40px; }
header { display: flex; align-items: center; gap: 12px; margin-bottom: 18px; }
header h1 { font-size: 20px; margin: 0 8px 0 0; letter-spacing: -0.01em; }
header h1 span { color: var(--accent); }
.pill { border-radius: 999px; padding: 2px 10px; font-size: 12px; font-weight: 600; border: 1px solid transparent; }
.pill.ok { background: #e6f5ec; color: var(--ok); } .pill.bad { background: #fbe9ea; color: var(--bad); }
.pill.warn { background: #fff3e0; color: var(--warn); } .pill.quiet { background: #eef0f4; color: var(--muted); }
#notice { margin: 0 0 14px; padding: 8px 12px; border-radius: 8px; background: #fff3e0; color: #6b4100; border: 1px solid #f3d9a8; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 14px 16px; margin-bottom: 18px; }
section h2 { font-size: 15px; margin: 0 0 10px; display: flex; gap: 8px; align-items: baseline; }
section h2 small { color: var(--muted); font-weight: 400; font-size: 12px; }
table { width: 100%; border-collapse: collapse; }
th { text-align: left; font-size: 12px; color: var(--muted); font-weight: 600; padding: 4px 8px; border-bottom: 1px solid var(--line); }
td { padding: 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
tr:last-child td { border-bottom: 0; }
.name, .fence, .owner, .at, .waiter { font-family: ui-monospace, "SF Mono", Menlo, Consolas, monospace; font-size: 13px; }
.name { font-weight: 600; }
.muted { color: var(--muted); }
.kind { font-size: 12px; padding: 1px 7px; border-radius: 5px; background: #eef2fb; color: var(--accent); }
.kind-semaphore { background: #f1ecfb; color: #6a3fc4; } .kind-rwlock { background: #e8f6f6; color: #137373; }
.kind-election { background: #fdf0e6; color: #a2520b; }
.limit { color: var(--muted); font-size: 12px; }
ul.holders, ol.waiters { margin: 0; padding: 0; list-style: none; }
ol.waiters { counter-reset: q; }
ol.waiters li { counter-increment: q; color: var(--muted); }
ol.waiters li::before { content: counter(q) ". "; color: var(--ink); font-weight: 600; }
li.holder { display: flex; gap: 10px; align-items: center; flex-wrap: wrap; padding: 2px 0; }
.permits { font-size: 12px; color: var(--muted); }
.left { display: inline-flex; gap: 6px; align-items: center; min-width: 150px; }
.bar { display: inline-block; width: 70px; height: 6px; border-radius: 3px; background: #e8ebf0; overflow: hidden; }
.fill { display: block; height: 100%; background: var(--ok); transition: width .25s linear; }
.expiring .fill { background: var(--bad); }
.secs { font-size: 12px; color: var(--muted); font-variant-numeric: tabular-nums; }
.owner { color: #4a5466; }
td.actions { text-align: right; width: 1%; white-space: nowrap; }
button { font: inherit; border-radius: 7px; border: 1px solid var(--line); background: #fff; padding: 5px 12px; cursor: pointer; }
button.danger { color: var(--bad); border-color: #f0c4c6; }
button.danger:hover { background: #fbe9ea; }
button.primary-danger { background: var(--bad); color: #fff; border-color: var(--bad); }
.queue { font-weight: 700; font-variant-numeric: tabular-nums; }
.spark { display: inline-flex; align-items: flex-end; gap: 2px; height: 22px; width: 110px; }
.spike { display: inline-block; width: 7px; min-height: 1px; background: var(--warn); border-radius: 1px; }
#events { list-style: none; margin: 0; padding: 0; max-height: 320px; overflow: auto; }
.event { display: flex; gap: 12px; padding: 3px 0; border-bottom: 1px dashed var(--line); align-items: baseline; }
.event .type { font-size: 12px; font-weight: 700; min-width: 86px; }
.type-acquired .type, .type-handoff .type { color: var(--ok); } .type-released .type { color: var(--accent); }
.type-expired .type, .type-lost .type, .type-rate-limited .type { color: var(--bad); }
.type-waiting .type, .type-left .type { color: var(--warn); }
.empty { color: var(--muted); font-style: italic; margin: 4px 0; }
dialog { border: 1px solid var(--line); border-radius: 12px; padding: 20px; width: min(480px, 92vw); }
dialog::backdrop { background: rgba(20, 24, 33, .35); }
dialog h3 { margin: 0 0 8px; }
dialog textarea { width: 100%; min-height: 70px; font: inherit; padding: 8px; border-radius: 8px; border: 1px solid var(--line); }
dialog .buttons { display: flex; gap: 8px; justify-content: flex-end; margin-top: 12px; }
.error { color: var(--bad); min-height: 1.4em; margin: 6px 0 0; }
#token-form { display: flex; gap: 8px; margin-bottom: 14px; }
`;
