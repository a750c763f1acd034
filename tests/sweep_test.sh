#!/usr/bin/env bash
# Sweeps as a researcher uses them: a tiny sweep runs to results.csv with one row per run; an
# interrupted sweep resumes with only the missing runs; --emit-jobs lines run on their own and
# --collect gives the same results; a fault_ratio axis places Byzantine replicas from the seed.
set -u
bin=$1; root=$2; work=$3
rm -rf "$work"; mkdir -p "$work"
fail() { echo "FAIL: $*"; exit 1; }

cat >"$work/base.textproto" <<'S'
name: "tiny"
duration_s: 1
topology { clusters: 2 replicas_per_cluster: 4 }
protocol { kind: GEOBFT batch_size: 10 }
workload { outstanding: 20 }
S
cat >"$work/tiny.sweep.textproto" <<'S'
base: "base.textproto"
axes { path: "protocol.kind" values: ["GEOBFT", "GEOBFT_REPUTATION"] column: "protocol" }
axes { path: "fault_ratio" values: ["0", "0.25"] behaviour: SILENT }
seeds: 2
S

"$bin" sweep "$work/tiny.sweep.textproto" --jobs=2 --out="$work/a" >"$work/a.log" 2>&1 || fail "sweep failed: $(cat "$work/a.log")"
[[ $(wc -l <"$work/a/results.csv") == 9 ]] || fail "expected 8 runs + header: $(cat "$work/a/results.csv")"
head -1 "$work/a/results.csv" | grep -q '^run,protocol,fault_ratio,seed,.*throughput_tps' || fail "header: $(head -1 "$work/a/results.csv")"
# The 0.25 points have one Byzantine replica per cluster, the same for the same seed.
grep -q 'byzantine { replicas: \[' "$work/a/p001-s1/scenario.textproto" || \
  grep -q 'byzantine {' "$work/a/p001-s1/scenario.textproto" || fail "fault_ratio placed no Byzantine replica"
cmp -s <(grep -A3 'byzantine' "$work/a/p001-s1/scenario.textproto") <(grep -A3 'byzantine' "$work/a/p003-s1/scenario.textproto") ||
  fail "same seed, different Byzantine placement"
! grep -q 'byzantine' "$work/a/p000-s1/scenario.textproto" || fail "fault_ratio 0 placed Byzantine replicas"

# Interrupted: two runs lost. The rerun does only those and gives the same table.
rm -rf "$work/a/p002-s2" "$work/a/p003-s1" "$work/a/results.csv"
"$bin" sweep "$work/tiny.sweep.textproto" --jobs=2 --out="$work/a" >"$work/b.log" 2>&1 || fail "resume failed"
grep -q '8 runs, 6 already done, 2 to run' "$work/b.log" || fail "resume redid work: $(cat "$work/b.log")"
[[ $(wc -l <"$work/a/results.csv") == 9 ]] || fail "resumed results.csv has $(wc -l <"$work/a/results.csv") lines"

# Job lines: self-contained (absolute paths), run from elsewhere, then collected.
"$bin" sweep "$work/tiny.sweep.textproto" --emit-jobs="$work/jobs.txt" --out="$work/c" >/dev/null || fail "--emit-jobs failed"
[[ $(wc -l <"$work/jobs.txt") == 8 ]] || fail "expected 8 job lines"
# The README's example: GNU parallel over the job lines, from another directory.
command -v parallel >/dev/null || fail "GNU parallel is missing (./geopbft test installs it)"
(cd / && parallel --will-cite -j 2 <"$work/jobs.txt" >/dev/null) || fail "a job line failed under GNU parallel"
"$bin" sweep "$work/tiny.sweep.textproto" --collect --out="$work/c" >/dev/null || fail "--collect failed"
strip() { python3 -c "
import csv, sys
for r in csv.DictReader(open(sys.argv[1])):
    print(','.join(v for k, v in r.items() if not k.startswith('wall_')))" "$1"; }
cmp -s <(strip "$work/a/results.csv") <(strip "$work/c/results.csv") || fail "job lines and the local sweep disagree"

# A bad sweep: located error, exit 2.
printf 'base: "base.textproto"\naxes { pth: "x" }\n' >"$work/bad.sweep.textproto"
"$bin" sweep "$work/bad.sweep.textproto" --out="$work/d" >"$work/d.log" 2>&1; code=$?
[[ $code == 2 ]] || fail "bad sweep exited $code"
grep -q 'bad.sweep.textproto:2:8' "$work/d.log" || fail "unlocated sweep error: $(cat "$work/d.log")"
echo "ok"
