#!/usr/bin/env bash
# ./geopbft plot: non-empty PNGs and a report from a run (with reputation) and from a sweep.
set -u
bin=$1; root=$2; work=$3
rm -rf "$work"; mkdir -p "$work"
fail() { echo "FAIL: $*"; exit 1; }
/usr/bin/python3 -c 'import matplotlib' 2>/dev/null || fail "Debian's python3-matplotlib is missing (./geopbft test installs it)"
"$bin" run "$root/scenarios/default.textproto" --set=duration_s=2 --out="$work/run" >/dev/null || fail "run failed"
/usr/bin/python3 "$root/analysis/plot.py" "$work/run" >"$work/run.log" 2>&1 || fail "plot of a run failed: $(cat "$work/run.log")"
for f in throughput.png reputation.png messages.png traffic.png; do
  [[ $(stat -c %s "$work/run/$f" 2>/dev/null || echo 0) -gt 5000 ]] || fail "$f missing or empty"
done
grep -q "<img alt='reputation.png'" "$work/run/report.html" || fail "report.html does not show the figures"
# Identical runs, identical figures and report (no wall-clock time in them).
"$bin" run "$root/scenarios/default.textproto" --set=duration_s=2 --out="$work/run2" >/dev/null || fail "rerun failed"
/usr/bin/python3 "$root/analysis/plot.py" "$work/run2" >/dev/null 2>&1 || fail "plot of the rerun failed"
for f in report.html throughput.png reputation.png messages.png traffic.png; do
  cmp -s "$work/run/$f" "$work/run2/$f" || fail "$f differs between identical runs"
done
cat >"$work/s.sweep.textproto" <<S
base: "$root/scenarios/pbft-4.textproto"
set: "duration_s=1"
axes { path: "protocol.batch_size" values: ["5", "20"] }
seeds: 2
S
"$bin" sweep "$work/s.sweep.textproto" --out="$work/sweep" >/dev/null 2>&1 || fail "sweep failed"
/usr/bin/python3 "$root/analysis/plot.py" "$work/sweep" >"$work/sweep.log" 2>&1 || fail "plot of a sweep failed: $(cat "$work/sweep.log")"
[[ $(stat -c %s "$work/sweep/sweep_protocol_batch_size.png" 2>/dev/null || echo 0) -gt 5000 ]] || fail "no sweep figure"
# A small defence matrix: the culprit placed where the axes say, defense.png and defense.md.
cat >"$work/d.sweep.textproto" <<S
base: "$root/scenarios/slow-representative.textproto"
set: "duration_s=4"
axes { path: "culprit" values: ["none", "slow-machine", "equivocate"] }
axes { path: "position" values: ["representative", "committee"] }
axes { path: "protocol.kind" values: ["GEOBFT", "GEOBFT_REPUTATION"] column: "protocol" }
S
"$bin" sweep "$work/d.sweep.textproto" --out="$work/defense" >/dev/null 2>&1 || fail "defence sweep failed"
grep -q 'byzantine {' "$work/defense/p000-s1/scenario.textproto" && fail "culprit none placed a Byzantine replica"
grep -q 'replicas: 1' "$work/defense/p006-s1/scenario.textproto" || fail "committee position is not replica 1: $(grep -A3 byzantine "$work/defense/p006-s1/scenario.textproto")"
/usr/bin/python3 "$root/analysis/plot.py" "$work/defense" >"$work/defense.log" 2>&1 || fail "plot of the defence matrix failed: $(cat "$work/defense.log")"
[[ $(stat -c %s "$work/defense/defense.png" 2>/dev/null || echo 0) -gt 5000 ]] || fail "no defense.png"
grep -q '^| equivocate | representative | ' "$work/defense/defense.md" || fail "defense.md: $(cat "$work/defense/defense.md")"
echo "ok"
