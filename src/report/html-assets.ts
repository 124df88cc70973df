/**
 * The inline stylesheet and script of the HTML explain report. Kept apart from the markup so
 * each stays readable; the page loads nothing else (its Content-Security-Policy forbids it).
 */

/** The page's CSS: a light theme, and a dark one when the system asks for it. */
export const REPORT_CSS = `
:root{--bg:#f4f6fb;--panel:#fff;--ink:#172033;--muted:#5b6678;--line:#e3e8f0;--soft:#eef2f8;
--hit:#2f6fed;--miss:#f08c00;--base:#7a8599;--none:#6b5bd6;--config:#9aa5b5;--waste:#e5484d;--ok:#1f9d55;
--add:#1f9d55;--mod:#c27c00;--del:#d63a3f;--accent:#2f6fed;--mono:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace}
@media (prefers-color-scheme:dark){:root{--bg:#0f1420;--panel:#171e2d;--ink:#e6ebf5;--muted:#9aa6bb;--line:#273148;--soft:#1d2638}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
header.top{background:linear-gradient(120deg,#1b2a4e,#2f4f9d 60%,#3b6fd8);color:#fff;padding:26px 40px 64px}
header.top .brand{font-size:12px;letter-spacing:.14em;text-transform:uppercase;opacity:.75}
header.top h1{margin:6px 0 6px;font-size:28px;font-weight:650;word-break:break-all}
header.top .meta{font-family:var(--mono);font-size:12px;opacity:.85;display:flex;flex-wrap:wrap;gap:6px 18px}
main{max-width:1180px;margin:-44px auto 40px;padding:0 24px;display:flex;flex-direction:column;gap:22px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(170px,1fr));gap:14px}
.card{background:var(--panel);border-radius:14px;padding:16px 18px;box-shadow:0 1px 2px rgba(16,24,40,.06),0 4px 14px rgba(16,24,40,.06);display:flex;flex-direction:column;gap:4px;min-height:112px}
.card .label{font-size:12px;color:var(--muted);text-transform:uppercase;letter-spacing:.06em}
.card .value{font-size:26px;font-weight:650;font-variant-numeric:tabular-nums}
.card .sub{font-size:12px;color:var(--muted)}
.card.gauge{flex-direction:row;align-items:center;gap:16px;grid-column:span 2}
.card.gauge .big{font-size:20px;font-weight:650;margin:2px 0}
.card.gauge svg{flex:none}
.value.bad{color:var(--waste)}.value.good{color:var(--ok)}
.minibar{display:flex;height:8px;border-radius:4px;overflow:hidden;background:var(--soft);margin-top:6px}
.minibar span{display:block;height:100%}
.panel{background:var(--panel);border-radius:14px;padding:20px 24px;box-shadow:0 1px 2px rgba(16,24,40,.06),0 4px 14px rgba(16,24,40,.05)}
.panel h2{margin:0 0 4px;font-size:18px}
.panel .hint{margin:0 0 14px;color:var(--muted);font-size:13px}
.legend{display:flex;flex-wrap:wrap;gap:14px;font-size:12px;color:var(--muted);margin-top:8px}
.legend i{display:inline-block;width:12px;height:12px;border-radius:3px;margin-right:6px;vertical-align:-2px}
svg text{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif}
svg .mono{font-family:var(--mono)}
svg.stack a:hover .track{fill:var(--soft);stroke:var(--accent)}
svg.stack .track{fill:transparent;stroke:transparent}
.toolbar{display:flex;gap:10px;align-items:center;margin:0 0 12px;flex-wrap:wrap}
.toolbar input{flex:1;min-width:220px;padding:8px 12px;border:1px solid var(--line);border-radius:8px;background:var(--panel);color:var(--ink);font:inherit}
button{padding:7px 12px;border:1px solid var(--line);border-radius:8px;background:var(--soft);color:var(--ink);font:inherit;cursor:pointer}
button:hover{border-color:var(--accent)}
details.layer{border:1px solid var(--line);border-radius:10px;margin:8px 0;overflow:hidden}
details.layer[open]{box-shadow:0 2px 10px rgba(16,24,40,.06)}
details.layer>summary{list-style:none;cursor:pointer;display:grid;grid-template-columns:48px 1fr auto;gap:12px;align-items:center;padding:10px 14px;background:var(--soft)}
details.layer>summary::-webkit-details-marker{display:none}
.num{font-family:var(--mono);font-weight:700;color:var(--muted)}
.cmd{font-family:var(--mono);font-size:12.5px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.counts{display:flex;gap:6px;align-items:center;font-variant-numeric:tabular-nums}
.pill{display:inline-block;padding:1px 8px;border-radius:999px;font-size:12px;font-weight:600;white-space:nowrap}
.pill.add{background:rgba(31,157,85,.12);color:var(--add)}.pill.mod{background:rgba(194,124,0,.13);color:var(--mod)}.pill.del{background:rgba(214,58,63,.12);color:var(--del)}
.pill.size{background:transparent;color:var(--muted);font-weight:500}
.pill.waste{background:rgba(229,72,77,.12);color:var(--waste)}
.badge{display:inline-block;min-width:64px;text-align:center;padding:2px 8px;border-radius:6px;font-size:11px;font-weight:700;letter-spacing:.05em;color:#fff}
.badge.hit{background:var(--hit)}.badge.miss{background:var(--miss)}.badge.base{background:var(--base)}.badge.config{background:var(--config)}.badge.skipped{background:transparent;color:var(--muted);border:1px dashed var(--config)}.badge.none{background:var(--none)}
.changes{display:grid;grid-template-columns:repeat(3,minmax(0,1fr));gap:0;border-top:1px solid var(--line)}
.changes .col{padding:10px 14px;border-right:1px solid var(--line);min-width:0}
.changes .col:last-child{border-right:none}
.changes h4{margin:0 0 6px;font-size:12px;text-transform:uppercase;letter-spacing:.06em}
.col.added h4{color:var(--add)}.col.modified h4{color:var(--mod)}.col.deleted h4{color:var(--del)}
ul.files{list-style:none;margin:0;padding:0;max-height:320px;overflow:auto}
ul.files li{display:flex;gap:8px;justify-content:space-between;padding:2px 0;border-bottom:1px dotted var(--line);font-size:12.5px}
ul.files li .p{font-family:var(--mono);overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
ul.files li .n{color:var(--muted);white-space:nowrap;font-size:11.5px}
ul.files li.more{color:var(--muted);font-style:italic;justify-content:flex-start}
.empty{color:var(--muted);font-size:12.5px;font-style:italic}
.dup{color:var(--mod);font-size:12px;padding:8px 14px;border-top:1px solid var(--line)}
table{border-collapse:collapse;width:100%;font-size:13px}
th{text-align:left;font-size:11.5px;text-transform:uppercase;letter-spacing:.06em;color:var(--muted);font-weight:600;padding:8px 10px;border-bottom:2px solid var(--line)}
td{padding:8px 10px;border-bottom:1px solid var(--line);vertical-align:top}
td.r,th.r{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.path{font-family:var(--mono);font-size:12.5px;word-break:break-all}
.copies{display:flex;flex-wrap:wrap;gap:4px}
.copy{font-size:11.5px;padding:1px 7px;border-radius:6px;background:rgba(229,72,77,.1);color:var(--waste);white-space:nowrap}
.copy.final{background:rgba(31,157,85,.12);color:var(--ok)}
.share{display:flex;align-items:center;gap:8px;min-width:140px}
.share .track{flex:1;height:8px;border-radius:4px;background:var(--soft);overflow:hidden}
.share .fill{height:100%;border-radius:4px;background:var(--waste)}
.share span{font-size:11.5px;color:var(--muted);width:44px;text-align:right;font-variant-numeric:tabular-nums}
.reasons{margin:4px 0 0;padding-left:18px;color:var(--muted);font-size:12.5px}
.reasons li{margin:1px 0}
.reasons code,.cmd code{font-family:var(--mono)}
.step{font-family:var(--mono);font-size:12.5px;word-break:break-word}
.where{color:var(--muted);font-size:12px;white-space:nowrap}
tr.skipped td{opacity:.55}
.note{color:var(--muted);font-size:12.5px;margin:10px 0 0}
.graph{overflow-x:auto}
footer{color:var(--muted);font-size:12px;text-align:center;padding:0 0 30px}
a{color:var(--accent)}
`;

/**
 * The page's script: filter the file lists, open and close every layer, and open the layer a
 * link (or a click on its bar) points at. Plain ES2017, no globals left behind.
 */
export const REPORT_JS = `
(function () {
  var filter = document.getElementById('file-filter');
  var layers = Array.prototype.slice.call(document.querySelectorAll('details.layer'));
  function openFromHash() {
    var id = decodeURIComponent(location.hash.slice(1));
    var el = id ? document.getElementById(id) : null;
    if (el && el.tagName === 'DETAILS') el.open = true;
  }
  window.addEventListener('hashchange', openFromHash);
  openFromHash();
  var expand = document.getElementById('expand-all');
  var collapse = document.getElementById('collapse-all');
  if (expand) expand.addEventListener('click', function () { layers.forEach(function (d) { d.open = true; }); });
  if (collapse) collapse.addEventListener('click', function () { layers.forEach(function (d) { d.open = false; }); });
  if (filter) filter.addEventListener('input', function () {
    var q = filter.value.trim().toLowerCase();
    layers.forEach(function (d) {
      var hits = 0;
      Array.prototype.forEach.call(d.querySelectorAll('li[data-path]'), function (li) {
        var show = q === '' || li.getAttribute('data-path').toLowerCase().indexOf(q) >= 0;
        li.style.display = show ? '' : 'none';
        if (show) hits++;
      });
      d.style.display = q === '' || hits > 0 ? '' : 'none';
      if (q !== '') d.open = hits > 0;
    });
  });
})();
`;
