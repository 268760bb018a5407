//! The page's inline style sheet: light colours on screen and paper, verdict
//! colour classes for the heat map, and print rules (no dark background, a
//! page break before each chain, collapsed details shown).

/// The style sheet, inlined in a `<style>` element.
pub(super) const CSS: &str = r#"
:root { --ink: #1b1f24; --muted: #57606a; --line: #d0d7de; --soft: #f6f8fa; --link: #0a4b9c; }
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--ink); background: #fff; }
header { padding: 18px 28px 10px; border-bottom: 3px solid #24292f; background: var(--soft); }
header h1 { margin: 0 0 4px; font-size: 22px; }
.sub { margin: 0 0 8px; color: var(--muted); }
nav a { margin-right: 14px; color: var(--link); text-decoration: none; font-weight: 600; }
main { padding: 8px 28px 24px; max-width: 1500px; }
footer { padding: 12px 28px; color: var(--muted); border-top: 1px solid var(--line); font-size: 12px; }
h2 { margin: 28px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); font-size: 19px; }
h3 { margin: 18px 0 8px; font-size: 15px; }
.title { font-weight: 400; color: var(--muted); font-size: 0.85em; }
a { color: var(--link); }
code { font: 12px/1.35 ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; white-space: pre-wrap; overflow-wrap: break-word; }
.proc code, .cmd code, dl.facts code, .ir-table code, code.hash, code.path { overflow-wrap: anywhere; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; margin: 6px 0 12px; }
th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
thead th { background: var(--soft); font-weight: 600; }
table.data td, table.data th { font-size: 13px; }
.tiles { display: flex; flex-wrap: wrap; gap: 10px; margin: 8px 0; }
.tile { border: 1px solid var(--line); border-radius: 6px; padding: 8px 14px; min-width: 180px; background: #fff; }
.tile .big { display: block; font-size: 26px; font-weight: 700; }
.tile .of { display: block; color: var(--muted); font-size: 12px; }
.tile.bad { border-color: #bc4c00; border-width: 2px; }
.line { color: var(--muted); }
.badge { display: inline-block; padding: 0 6px; border: 1px solid #8c959f; border-radius: 10px; font-size: 11px; font-weight: 600; background: #fff; }
table.matrix td.cell { min-width: 120px; }
.cell { border-radius: 2px; }
.cell .verdict { display: block; font-weight: 600; }
.cell .hop { display: block; font-size: 11px; color: #32383f; }
.cell .note { display: block; font-size: 11px; font-weight: 700; text-transform: uppercase; }
.v-tech { background: #8fd19e; border-left: 4px solid #1a7f37; }
.v-alert { background: #d2f0c4; border-left: 4px solid #4d8f2a; }
.v-obs { background: #fff1a8; border-left: 4px solid #9a6700; }
.v-miss { background: #ffb3b3; border-left: 4px solid #cf222e; }
.v-block { background: #b6d7ff; border-left: 4px solid #0969da; }
.v-inc { background: #e4e4e4; border-left: 4px dashed #6e7781; }
.v-na { background: #fff; color: #6e7781; border-left: 4px dotted #8c959f; }
.v-nv { background: #f3f0ff; color: #57606a; border-left: 4px dotted #8250df; }
.v-fp { background: #ffc680; border-left: 4px double #bc4c00; font-weight: 700; }
.v-unv { background: #f6f8fa; color: #57606a; border-left: 4px dotted #57606a; }
.v-none { color: #8c959f; }
span.cell { padding: 1px 6px; }
.legend { list-style: none; padding: 0; margin: 6px 0 10px; display: grid; grid-template-columns: repeat(auto-fill, minmax(330px, 1fr)); gap: 4px 16px; font-size: 12px; }
.swatch { display: inline-block; min-width: 150px; padding: 2px 6px; font-weight: 600; }
section.chain { margin-top: 30px; padding-top: 4px; border-top: 3px solid #24292f; }
section.chain h2 { border-bottom: none; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 6px 0 10px; }
dl.facts dt { font-weight: 600; color: #32383f; }
dl.facts dd { margin: 0; }
ul.tree, ul.tree ul { list-style: none; margin: 0; padding-left: 22px; }
ul.tree { padding-left: 0; }
ul.tree li { position: relative; margin: 4px 0; }
ul.tree ul > li::before { content: "└─"; position: absolute; left: -20px; top: 2px; color: #8c959f; }
.proc { border: 1px solid var(--line); border-radius: 4px; padding: 4px 8px; background: #fff; }
.proc .img code { font-weight: 700; }
.pmeta { color: var(--muted); font-size: 12px; }
.execs { margin: 2px 0; font-size: 12px; }
details { margin: 8px 0; }
summary { cursor: pointer; font-weight: 600; font-size: 15px; margin: 6px 0; }
.raw { color: var(--muted); font-style: italic; }
.findings li { margin: 3px 0; }
.ans { display: inline-block; padding: 1px 6px; font-weight: 700; border-radius: 2px; }
.ans.yes { background: #8fd19e; border-left: 4px solid #1a7f37; }
.ans.no { background: #ffb3b3; border-left: 4px solid #cf222e; }
.ans.na { background: #e4e4e4; }
.why { display: block; color: var(--muted); font-size: 12px; }
.ir { margin: 10px 0 18px; }
.ir-table th[scope=row] { width: 230px; }
code.hash { font-size: 11px; }
figure.trend { margin: 8px 0; }
figure.trend svg { width: 100%; max-width: 900px; height: auto; border: 1px solid var(--line); background: #fff; }
svg .grid { stroke: #e6e9ec; stroke-width: 1; }
svg .axis { stroke: #57606a; stroke-width: 1; }
svg .tick { font-size: 11px; fill: #32383f; }
svg .label { font-size: 12px; fill: #1b1f24; }
svg polyline.s-tech, svg line.s-tech { stroke: #1a7f37; stroke-width: 2.5; fill: none; }
svg polyline.s-full, svg line.s-full { stroke: #0969da; stroke-width: 2; stroke-dasharray: 6 4; fill: none; }
svg circle.s-tech { fill: #1a7f37; }
svg rect.s-full { fill: #0969da; }
figcaption { color: var(--muted); font-size: 12px; }
@media print {
  body { font-size: 11px; background: #fff; color: #000; }
  header { background: #fff; border-bottom: 2px solid #000; }
  nav { display: none; }
  main { max-width: none; padding: 0 8px; }
  a { color: #000; text-decoration: none; }
  .scroll { overflow: visible; }
  table.matrix td.cell { min-width: 0; }
  th, td { padding: 3px 5px; }
  section.chain { break-before: page; border-top: none; }
  #ir-readiness, #metadata { break-before: page; }
  tr, .proc, .tile, figure { break-inside: avoid; }
  details > summary { list-style: none; }
  details::details-content { content-visibility: visible; display: contents; }
  details:not([open]) > *:not(summary) { display: block; }
}
"#;
