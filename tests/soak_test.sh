#!/usr/bin/env bash
# Soak, short: the default scenario's peak memory must stay flat as the run gets longer. A run three
# times as long (60 vs 20 simulated seconds) may take at most 10% more (peak RSS, summary.json's
# wall_max_rss_mb), and its protocol state (the largest honest replica's tables) at most 10% more.
# Anything kept per request, per round or per sample without a bound grows with the run and fails
# this. (`./geopbft run --set=duration_s=600` is the long version: see README, Testing.)
set -u
bin=$1; root=$2; work=$3
rm -rf "$work"; mkdir -p "$work"; cd "$work" || exit 1
export GEOPBFT_HOME=$root
fail() { echo "FAIL: $*"; exit 1; }
for d in 20 60; do
  "$bin" run "$root/scenarios/default.textproto" --set=duration_s=$d --no-plot --out=run-$d >run-$d.log 2>&1 ||
    fail "the ${d} s run failed: $(tail -3 run-$d.log)"
done
/usr/bin/python3 - <<'PY' || exit 1
import json, sys
a, b = (json.load(open(f"run-{d}/summary.json")) for d in (20, 60))
for key in ("wall_max_rss_mb", "peak_state_entries"):
    grew = b[key] / a[key] - 1
    print(f"{key}: {a[key]:.1f} at 20 s, {b[key]:.1f} at 60 s ({grew:+.1%})")
    if grew > 0.10:
        print(f"FAIL: {key} grew {grew:.1%} from 20 to 60 simulated seconds (at most 10%)"); sys.exit(1)
PY
echo "ok: memory flat from 20 to 60 simulated seconds"
