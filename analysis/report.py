"""report.html for a geopbft run or sweep: one self-contained page (figures embedded, no network,
no script from elsewhere), readable on a phone, byte-identical for identical runs (no wall-clock
field, no date).

A run's page: what happened in words and numbers, a timeline of the run's events (faults, Byzantine
turns, view changes, role changes, evictions: events.csv), the figures, and summary.json as tables.
A sweep's page: the figures and the results table, sortable by any column (click its header).
"""
import base64
import html
import json
import os

STYLE = """
body{font-family:system-ui,sans-serif;margin:0 auto;padding:1em;max-width:70em;line-height:1.4;color:#222}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ccc}
.headline{font-size:1.05em;background:#f4f6fa;padding:.8em 1em;border-radius:6px}
.figures img{max-width:100%;height:auto;display:block;margin:.8em 0}
.scroll{overflow-x:auto}
table{border-collapse:collapse;font-size:.9em}
td,th{padding:3px 8px;border-bottom:1px solid #ddd;text-align:right;vertical-align:top}
th{background:#f0f0f0;position:sticky;top:0}
th.sortable{cursor:pointer}th.sortable:after{content:" \\2195";color:#999}
td.text,th.text{text-align:left}
table.inner td{border:none;padding:0 6px}
.kind{display:inline-block;min-width:6.5em;font-weight:600}
.fault_start,.fault_end{color:#b35c00}.byzantine{color:#b00020}.view_change{color:#5b3cc4}
.role_change{color:#1f6fb2}.eviction{color:#8a1c1c}
svg text{font-size:11px;font-family:system-ui,sans-serif}
"""

# Sorts a table by a clicked header: numbers as numbers, the rest as text; a second click reverses.
SORT_SCRIPT = """
document.querySelectorAll("table.sortable").forEach(function (table) {
  table.querySelectorAll("th").forEach(function (th, col) {
    th.classList.add("sortable");
    th.addEventListener("click", function () {
      var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
      var up = th.getAttribute("data-order") !== "up";
      table.querySelectorAll("th").forEach(function (h) { h.removeAttribute("data-order"); });
      th.setAttribute("data-order", up ? "up" : "down");
      rows.sort(function (a, b) {
        var x = a.cells[col].textContent, y = b.cells[col].textContent;
        var nx = parseFloat(x), ny = parseFloat(y);
        var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
        return up ? c : -c;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
});
"""

KIND_WORDS = {
    "fault_start": "fault",
    "fault_end": "fault over",
    "byzantine": "Byzantine",
    "view_change": "view change",
    "role_change": "role change",
    "eviction": "eviction",
}
KIND_COLOURS = {"fault_start": "#b35c00", "fault_end": "#b35c00", "byzantine": "#b00020", "view_change": "#5b3cc4",
                "role_change": "#1f6fb2", "eviction": "#8a1c1c"}
MAX_TIMELINE_ROWS = 300
PROTOCOL_WORDS = {"PBFT": "flat PBFT", "GEOBFT": "GeoBFT", "GEOBFT_REPUTATION": "GeoBFT with reputation"}


def esc(v):
    return html.escape(str(v), quote=True)


def page(title, body):
    return ("<!doctype html>\n<html lang=en><head><meta charset=utf-8>"
            "<meta name=viewport content='width=device-width, initial-scale=1'>"
            f"<title>{esc(title)}</title><style>{STYLE}</style></head>\n<body>\n<h1>{esc(title)}</h1>\n"
            + body + f"\n<script>{SORT_SCRIPT}</script>\n</body></html>\n")


def figures(images):
    parts = ["<h2>Figures</h2><div class=figures>"]
    for img in images:
        with open(img, "rb") as f:
            data = base64.b64encode(f.read()).decode("ascii")
        name = os.path.basename(img)
        parts.append(f"<img alt='{esc(name)}' title='{esc(name)}' src='data:image/png;base64,{data}'>")
    parts.append("</div>")
    return "\n".join(parts)


def is_number(v):
    try:
        float(v)
        return True
    except (TypeError, ValueError):
        return False


def cell(v):
    """A summary value as table cell content: nested objects as small tables, lists joined."""
    if isinstance(v, dict):
        rows = "".join(f"<tr><td class=text>{esc(k)}</td><td>{cell(x)}</td></tr>" for k, x in v.items())
        return f"<table class=inner>{rows}</table>"
    if isinstance(v, list):
        return esc(", ".join(json.dumps(x) if isinstance(x, (dict, list)) else str(x) for x in v)) or "none"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return esc(f"{v:,.3f}".rstrip("0").rstrip("."))
    if isinstance(v, int):
        return esc(f"{v:,}")
    return esc(v)


def table(header, rows, sortable=False):
    cls = " class=sortable" if sortable else ""
    numeric = [all(is_number(r[i]) for r in rows if i < len(r)) and bool(rows) for i in range(len(header))]
    head = "".join(f"<th{'' if numeric[i] else ' class=text'}>{esc(h)}</th>" for i, h in enumerate(header))
    body = []
    for r in rows:
        body.append("<tr>" + "".join(f"<td{'' if numeric[i] else ' class=text'}>{c}</td>"
                                     for i, c in enumerate(r)) + "</tr>")
    return f"<div class=scroll><table{cls}><thead><tr>{head}</tr></thead><tbody>" + "\n".join(body) + \
        "</tbody></table></div>"


def headline(s, events):
    """The run in words: what ran, what it achieved, what went wrong."""
    lat = s.get("latency_ms", {})
    kinds = {}
    for e in events:
        kinds[e["kind"]] = kinds.get(e["kind"], 0) + 1
    words = [
        f"<b>{esc(PROTOCOL_WORDS.get(s.get('protocol'), s.get('protocol')))}</b>, {s.get('replicas')} replicas in "
        f"{s.get('clusters')} cluster(s) (f = {s.get('f')}), {num_text(s.get('sim_seconds'))} simulated seconds, "
        f"seed {s.get('seed')}.",
        f"<b>{s.get('committed_requests', 0):,}</b> requests committed: <b>{num_text(s.get('throughput_tps'))} "
        f"requests/s</b>; latency median <b>{num_text(lat.get('p50'))} ms</b>, p99 {num_text(lat.get('p99'))} ms.",
    ]
    trouble = []
    if s.get("safety_violations"):
        trouble.append(f"<b>{s['safety_violations']} safety violation(s)</b>")
    if s.get("stalled"):
        trouble.append("<b>the run stalled</b>")
    for key, label in (("view_changes", "view change(s)"), ("representative_changes", "representative change(s)"),
                       ("proofs_committed", "proof(s) of misbehaviour committed"),
                       ("leaders_deposed", "leader(s) deposed"), ("messages_lost", "message(s) lost")):
        if s.get(key):
            trouble.append(f"{s[key]:,} {label}")
    if kinds.get("byzantine"):
        trouble.append(f"{kinds['byzantine']} Byzantine replica(s)")
    if kinds.get("fault_start"):
        trouble.append(f"{kinds['fault_start']} fault(s)")
    if kinds.get("eviction"):
        trouble.append(f"{kinds['eviction']} eviction(s)")
    if s.get("barred"):
        trouble.append(f"barred for good: {esc(', '.join(str(b) for b in s['barred']))}")
    words.append(("What happened: " + "; ".join(trouble) + ".") if trouble else "Nothing went wrong: no fault, "
                 "no Byzantine replica, no view change.")
    if not s.get("safety_violations"):
        words.append("No safety violation: every replica executed the same requests in the same order.")
    return "<div class=headline><p>" + "</p><p>".join(words) + "</p></div>"


def num_text(v):
    if v is None:
        return "?"
    v = float(v)
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.2f}".rstrip("0").rstrip(".")


NOBODY = (None, "", "-1", "4294967295")  # events.csv's "no replica" / "no cluster"


def event_words(e):
    who = f"replica {e['replica']}" if e.get("replica") not in NOBODY else "the network"
    where = f" (cluster {e['cluster']})" if e.get("cluster") not in NOBODY else ""
    detail = e.get("detail", "")
    kind = e["kind"]
    if kind == "byzantine":
        return f"{who}{where} turns Byzantine: {detail}"
    if kind == "eviction":
        return f"{who}{where} loses its committee seat ({detail})"
    if kind == "role_change":
        return f"{who}{where}: {detail}"
    if kind == "view_change":
        return f"{who}{where} installs a new view: {detail}"
    if kind == "fault_start":
        return f"{detail} starts ({who}{where})"
    if kind == "fault_end":
        return f"{detail} ends ({who}{where})"
    return f"{who}{where}: {detail}"


def timeline_svg(events, duration):
    """A strip with a tick per event at its time, one lane per kind."""
    if duration <= 0:
        return ""
    kinds = [k for k in KIND_WORDS if any(e["kind"] == k for e in events)]
    if not kinds:
        return ""
    width, left, lane = 900, 110, 18
    height = lane * len(kinds) + 30
    parts = [f"<svg viewBox='0 0 {width} {height}' width='100%' role=img aria-label='timeline of the run'>"]
    for i, k in enumerate(kinds):
        y = 10 + i * lane
        parts.append(f"<text x=0 y={y + 12}>{esc(KIND_WORDS[k])}</text>"
                     f"<line x1={left} y1={y + 8} x2={width - 10} y2={y + 8} stroke='#eee'/>")
        for e in events:
            if e["kind"] != k:
                continue
            x = left + (width - 10 - left) * min(1.0, max(0.0, float(e["time_s"]) / duration))
            parts.append(f"<line x1={x:.1f} y1={y + 2} x2={x:.1f} y2={y + 14} stroke='{KIND_COLOURS[k]}' "
                         f"stroke-width=2><title>{esc(e['time_s'])} s: {esc(event_words(e))}</title></line>")
    y = 10 + len(kinds) * lane
    for t in range(0, 11):
        x = left + (width - 10 - left) * t / 10
        parts.append(f"<text x={x:.1f} y={y + 14} text-anchor=middle>{num_text(duration * t / 10)} s</text>")
    parts.append("</svg>")
    return "".join(parts)


def timeline(events, duration):
    if not events:
        return "<h2>Timeline</h2><p>No faults, Byzantine turns, view changes or role changes in this run.</p>"
    rows = []
    for e in events[:MAX_TIMELINE_ROWS]:
        kind = e["kind"]
        rows.append([esc(f"{float(e['time_s']):.3f}"),
                     f"<span class='kind {esc(kind)}'>{esc(KIND_WORDS.get(kind, kind))}</span>", esc(event_words(e))])
    more = (f"<p>… and {len(events) - MAX_TIMELINE_ROWS:,} more in events.csv.</p>"
            if len(events) > MAX_TIMELINE_ROWS else "")
    return ("<h2>Timeline</h2>" + timeline_svg(events, duration) +
            table(["time (s)", "what", "detail"], rows) + more)


def write(directory, text):
    out = os.path.join(directory, "report.html")
    with open(out + ".tmp", "w") as f:
        f.write(text)
    os.replace(out + ".tmp", out)
    return out


def write_run_report(run_dir, summary, images, events):
    title = f"geopbft run: {summary.get('scenario', os.path.basename(os.path.abspath(run_dir)))}"
    # (Wall-clock fields stay out: identical runs must give byte-identical reports.)
    rows = [[esc(k), cell(v)] for k, v in summary.items() if not k.startswith("wall_")]
    body = (headline(summary, events) + timeline(events, float(summary.get("sim_seconds", 0) or 0)) +
            figures(images) + "<h2>Summary</h2>" + table(["field", "value"], rows))
    return write(run_dir, page(title, body))


def write_sweep_report(sweep_dir, title, images, header, rows):
    intro = (f"<div class=headline><p>{len(rows):,} runs. Click a column's header to sort the table by it "
             "(again to reverse).</p></div>")
    body = intro + figures(images) + "<h2>Results</h2>" + table(header, [[esc(c) for c in r] for r in rows],
                                                                sortable=True)
    return write(sweep_dir, page(title, body))
