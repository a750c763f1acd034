#!/usr/bin/env bash
# The command-line contract (DESIGN §6-7) as a user meets it: located errors and exit 2 with nothing
# written; complete outputs; identical reruns; replay from the written scenario; a loadable trace.
set -u
bin=$1; root=$2; work=$3
rm -rf "$work"; mkdir -p "$work"
fail() { echo "FAIL: $*"; exit 1; }
json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }

small="$work/small.textproto"
cat >"$small" <<'S'
name: "small"
duration_s: 2
topology { clusters: 2 replicas_per_cluster: 2 }
network { jitter { kind: NORMAL sd_ms: 1 } }
workload { outstanding: 20 }
S

# Bad scenarios: located error, exit 2, nothing written.
bad="$work/bad.textproto"
{ cat "$small"; echo 'no_such_field_xyz: 3'; } >"$bad"
out=$("$bin" validate "$bad" 2>&1); code=$?
[[ $code == 2 ]] || fail "validate of an unknown field exited $code"
grep -Eq "bad\.textproto:6:1: .*no_such_field_xyz" <<<"$out" || fail "unlocated error: $out"
"$bin" run "$bad" --out="$work/bad-out" >/dev/null 2>&1; code=$?
[[ $code == 2 ]] || fail "run of a bad scenario exited $code"
[[ ! -e $work/bad-out ]] || fail "run of a bad scenario created its output directory"
"$bin" run "$small" --out="$work/bad-set" --set=topology.f=3 >/dev/null 2>&1; code=$?
[[ $code == 2 && ! -e $work/bad-set ]] || fail "impossible --set exited $code or wrote output"
"$bin" run "$small" --bogus >/dev/null 2>&1; [[ $? == 2 ]] || fail "unknown option not rejected with 2"
"$bin" validate "$small" >/dev/null || fail "validate rejects a good scenario"

# A good run writes every file; a rerun is byte-identical (apart from wall-time fields).
"$bin" run "$small" --out="$work/a" >"$work/a.log" 2>&1 || fail "run failed: $(cat "$work/a.log")"
for f in summary.json timeseries.csv replicas.csv scenario.textproto; do
  [[ -s $work/a/$f ]] || fail "run wrote no $f"
done
ls "$work/a" | grep -q tmp && fail "temporary files left behind: $(ls "$work/a")"
head -1 "$work/a/replicas.csv" | grep -q '^cluster,replica,region,behaviour,score,role,' || fail "replicas.csv header"
head -1 "$work/a/timeseries.csv" | grep -q '^time_s,throughput_tps,latency_ms_p50,latency_ms_p99' || fail "timeseries.csv header"
(( $(json "$work/a/summary.json" "d['committed_requests']") > 0 )) || fail "nothing committed"
json "$work/a/summary.json" "d['wall_max_rss_mb'] > 1 and d['wall_seconds'] > 0" | grep -q True ||
  fail "summary lacks the run's cost (wall_seconds, wall_max_rss_mb)"
"$bin" run "$small" --out="$work/b" >/dev/null 2>&1 || fail "second run failed"
strip='{k: v for k, v in d.items() if "wall" not in k}'
[[ "$(json "$work/a/summary.json" "$strip")" == "$(json "$work/b/summary.json" "$strip")" ]] || fail "summaries differ"
for f in timeseries.csv replicas.csv scenario.textproto; do cmp -s "$work/a/$f" "$work/b/$f" || fail "$f differs"; done

# --seed and --set land in the effective scenario, which replays the run exactly.
"$bin" run "$small" --seed=7 --set=protocol.batch_size=5 --out="$work/c" >/dev/null 2>&1 || fail "run with overrides failed"
grep -q 'seed: 7' "$work/c/scenario.textproto" || fail "effective scenario lacks the seed"
grep -q 'batch_size: 5' "$work/c/scenario.textproto" || fail "effective scenario lacks the override"
"$bin" run "$work/c/scenario.textproto" --out="$work/c-replay" >/dev/null 2>&1 || fail "replay failed"
[[ $(json "$work/c/summary.json" "d['trace_digest']") == $(json "$work/c-replay/summary.json" "d['trace_digest']") ]] || fail "replay digest differs"
[[ $(json "$work/a/summary.json" "d['trace_digest']") != $(json "$work/c/summary.json" "d['trace_digest']") ]] || fail "seed 7 gave seed 1's digest"

# --trace: one event per line, and the whole file is a JSON array a trace viewer loads.
"$bin" run "$small" --trace --out="$work/t" >/dev/null 2>&1 || fail "traced run failed"
lines=$(wc -l <"$work/t/trace.log")
events=$(json "$work/t/summary.json" "d['events']")
(( lines > events )) || fail "trace.log has $lines lines for $events events"
python3 -c "import json,sys; e=json.load(open(sys.argv[1])); assert any(x.get('name')=='COMMIT' for x in e)" "$work/t/trace.log" || fail "trace.log is not a loadable JSON trace"
[[ $(json "$work/t/summary.json" "d['trace_digest']") == $(json "$work/a/summary.json" "d['trace_digest']") ]] || fail "tracing changed the run"
# --trace=FILTER: only those nodes and that time window are written; the run (its digest) is the same.
"$bin" run "$small" --trace=replicas:1-2,from:0.5s,to:1000ms --out="$work/tf" >/dev/null 2>&1 || fail "filtered trace failed"
python3 -c "
import json, sys
e = [x for x in json.load(open(sys.argv[1])) if x.get('ph') == 'i' and x.get('name') != 'end']
assert e, 'no events'
assert all(x['tid'] in (1, 2) and 500000 <= x['ts'] <= 1000000 for x in e), 'an event outside the filter'
assert {x['tid'] for x in e} == {1, 2}" "$work/tf/trace.log" || fail "--trace=replicas:1-2,from:0.5s,to:1000ms wrote other events"
(( $(wc -l <"$work/tf/trace.log") * 4 < lines )) || fail "the filtered trace is not smaller"
[[ $(json "$work/tf/summary.json" "d['trace_digest']") == $(json "$work/a/summary.json" "d['trace_digest']") ]] || fail "a filter changed the run"
"$bin" run "$small" --trace=replicas:x --out="$work/tbad" >/dev/null 2>&1; [[ $? == 2 && ! -e $work/tbad ]] || fail "a bad filter was not refused"
# A later run without --trace into the same directory must not leave the old trace behind.
"$bin" run "$small" --out="$work/t" >/dev/null 2>&1 || fail "rerun failed"
[[ ! -e $work/t/trace.log ]] || fail "stale trace.log left in place"

# A stalled run writes stall.txt and exits 1 when the scenario expects liveness.
"$bin" run "$small" --set=network.loss_ratio=0.9 --set=checks.stall_after_s=1 --set=duration_s=20 --out="$work/s" >/dev/null 2>&1; code=$?
[[ $code == 1 ]] || fail "stalled run exited $code, not 1"
[[ $(json "$work/s/summary.json" "d['stalled']") == True ]] || fail "summary does not say stalled"
grep -q 'waiting for' "$work/s/stall.txt" || fail "stall.txt does not say what replicas wait for"
"$bin" run "$small" --set=network.loss_ratio=0.9 --set=checks.stall_after_s=1 --set=checks.expect_liveness=false --out="$work/s2" >/dev/null 2>&1 \
  || fail "a stall in a scenario that does not expect liveness should exit 0"
echo "ok: cli contract"
