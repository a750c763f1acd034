#!/usr/bin/env bash
# report.html as a user sees it: a run's and a sweep's report rendered by headless Chromium (Debian's
# chromium) at desktop and phone widths. The screenshots must not be blank, the pages must log
# nothing to the console (no script error, no failed load), need nothing from the network, and the
# sweep's table must have become sortable (its script ran). The run's page must tell what happened.
set -u
bin=$1; root=$2; work=$3
rm -rf "$work"; mkdir -p "$work"
fail() { echo "FAIL: $*"; exit 1; }
browser=$(command -v chromium || command -v chromium-browser || true)
[[ -n $browser ]] || fail "chromium missing (./geopbft test installs it)"
/usr/bin/python3 -c 'import matplotlib' 2>/dev/null || fail "python3-matplotlib missing"

render() {  # HTML PNG WIDTH HEIGHT: screenshot; the console log goes to PNG.log
  timeout 120 "$browser" --headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage --hide-scrollbars \
    --user-data-dir="$work/profile" --no-first-run --enable-logging=stderr --v=0 \
    --window-size="$3,$4" --screenshot="$2" "file://$1" >"$2.log" 2>&1
  [[ -s $2 ]] || fail "chromium wrote no screenshot of $1: $(tail -n 3 "$2.log")"
  ! grep -q ':CONSOLE' "$2.log" || fail "console output while rendering $1: $(grep ':CONSOLE' "$2.log" | head -3)"
}
not_blank() {  # PNG: enough ink, and more than one colour
  /usr/bin/python3 - "$1" <<'P' || fail "$1 looks blank"
import sys
import matplotlib.image as mpimg
img = mpimg.imread(sys.argv[1])[:, :, :3]
ink = (img.sum(axis=2) < 2.7).mean()      # share of pixels that are not (nearly) white
sys.exit(0 if ink > 0.02 and img.std() > 0.05 else 1)
P
}
offline() {  # HTML: nothing fetched from elsewhere
  ! grep -Eiq "(src|href)=['\"]?(https?:)?//" "$1" || fail "$1 loads something from the network"
  grep -q "name=viewport" "$1" || fail "$1 has no viewport (phones would render it zoomed out)"
}

# A run: the default scenario's first 3 s (the malicious voter and the slow replica lose their seats).
"$bin" run "$root/scenarios/default.textproto" --set=duration_s=3 --no-plot --out="$work/run" >/dev/null ||
  fail "run failed"
/usr/bin/python3 "$root/analysis/plot.py" "$work/run" >"$work/run.log" 2>&1 || fail "plot failed: $(cat "$work/run.log")"
page=$work/run/report.html
offline "$page"
grep -q "requests committed" "$page" || fail "the run's page has no headline"
grep -q "<h2>Timeline</h2>" "$page" || fail "the run's page has no timeline"
grep -q "replica 1 (cluster 0) turns Byzantine: vote-against" "$page" || fail "the timeline misses the Byzantine turn"
grep -q "loses its committee seat" "$page" || fail "the timeline misses the evictions"
grep -q "<table class=inner><tr><td class=text>p50</td>" "$page" || fail "nested summary values are not tables"
grep -q "data:image/png;base64" "$page" || fail "figures are not embedded"
render "$page" "$work/run.png" 1200 2000; not_blank "$work/run.png"
render "$page" "$work/run-phone.png" 390 844; not_blank "$work/run-phone.png"

# A sweep: figures and a sortable results table.
cat >"$work/s.sweep.textproto" <<S
base: "$root/scenarios/pbft-4.textproto"
set: "duration_s=1"
axes { path: "protocol.batch_size" values: ["5", "20"] }
seeds: 2
S
"$bin" sweep "$work/s.sweep.textproto" --out="$work/sweep" >/dev/null 2>&1 || fail "sweep failed"
/usr/bin/python3 "$root/analysis/plot.py" "$work/sweep" >"$work/sweep.log" 2>&1 || fail "plot failed: $(cat "$work/sweep.log")"
page=$work/sweep/report.html
offline "$page"
render "$page" "$work/sweep.png" 1200 1600; not_blank "$work/sweep.png"
render "$page" "$work/sweep-phone.png" 390 844; not_blank "$work/sweep-phone.png"
timeout 120 "$browser" --headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage --user-data-dir="$work/profile" \
  --dump-dom "file://$page" >"$work/sweep.dom" 2>/dev/null
grep -q '<th class="sortable">protocol.batch_size</th>\|<th class="[^"]*sortable[^"]*">' "$work/sweep.dom" ||
  fail "the sweep's table was not made sortable (did its script run?)"
echo "ok: run and sweep reports render (desktop and phone), no console output, offline, sortable"
