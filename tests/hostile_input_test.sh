#!/usr/bin/env bash
# Hostile input end to end: every bad scenario file gets one located line (file:line:col) on
# stderr, exit 2 and no output directory; an output directory that cannot be written gets exit 2;
# SIGINT during `run` writes nothing, and during `sweep` leaves the finished runs and a results.csv
# that lists them, with no half-written file anywhere.
set -u
bin=$1; root=$2; work=$3
rm -rf "$work"; mkdir -p "$work"; cd "$work" || exit 1
export GEOPBFT_HOME=$root
fail() { echo "FAIL: $*"; exit 1; }

# name | file contents (printf format) | what the error must say
cases=(
  "empty||sets nothing"
  "comments-only|# nothing but a comment\n\n|sets nothing"
  "truncated|name: \"t\"\ntopology {\n  clusters: 2\n  replicas_per_cluster: |Expected"
  "unterminated-string|name: \"t\n|String literals cannot cross line boundaries"
  "out-of-range|topology { clusters: 4 replicas_per_cluster: 99999999999 }\n|out of range"
  "negative-duration|duration_s: -5\n|duration_s must be in"
  "infinite-duration|duration_s: 1e400\n|duration_s must be in"
  "unknown-field|topology { colour: 3 }\n|no field named \"colour\""
  "unknown-region|topology { clusters: 2 cluster_regions: [\"oregon\", \"atlantis\"] }\n|unknown region 'atlantis'"
  "unknown-replica|topology { clusters: 1 replicas_per_cluster: 4 }\nfaults { kind: CRASH replicas: [9] at_s: 1 }\n|unknown replica 9"
  "fault-ends-first|topology { clusters: 1 replicas_per_cluster: 4 }\nfaults { kind: CRASH replicas: [1] at_s: 5 until_s: 2 }\n|before it starts"
  "zero-speed|topology { clusters: 1 replicas_per_cluster: 4 }\nfaults { kind: SLOW replicas: [1] speed: 0 }\n|speed must be > 0"
  "loss-above-one|faults { kind: LINK replicas: [1] loss_ratio: 1.5 }\n|loss_ratio must be in"
  "byzantine-unknown|byzantine { replicas: [40] behaviour: SILENT }\n|unknown replica 40"
  "too-few-replicas|topology { replicas_per_cluster: 3 f: 1 }\n|"
)
for c in "${cases[@]}"; do
  IFS='|' read -r name text want <<<"$c"
  printf "$text" >"$name.textproto"
  "$bin" run "$name.textproto" --out="out-$name" --no-plot >"$name.out" 2>"$name.err"
  code=$?
  [[ $code == 2 ]] || fail "$name: exit $code, not 2 ($(cat "$name.err"))"
  [[ ! -e out-$name ]] || fail "$name: wrote out-$name"
  [[ $(wc -l <"$name.err") == 1 ]] || fail "$name: not one line: $(cat "$name.err")"
  grep -Eq "^$name\.textproto:[0-9]+:[0-9]+: " "$name.err" || fail "$name: not located: $(cat "$name.err")"
  [[ -z $want ]] || grep -qF -- "$want" "$name.err" || fail "$name: error does not say '$want': $(cat "$name.err")"
done

# Binary and huge files: one located line too, and no attempt to run.
head -c 4096 "$bin" >binary.textproto
"$bin" run binary.textproto --out=out-binary >/dev/null 2>binary.err; code=$?
[[ $code == 2 && ! -e out-binary && $(wc -l <binary.err) == 1 ]] || fail "binary: exit $code, $(cat binary.err)"
grep -Eq '^binary\.textproto:[0-9]+:[0-9]+: ' binary.err || fail "binary: not located: $(cat binary.err)"
{ echo 'name: "huge"'; head -c $((17 << 20)) /dev/zero | tr '\0' '#'; } >huge.textproto
"$bin" run huge.textproto --out=out-huge >/dev/null 2>huge.err; code=$?
[[ $code == 2 && ! -e out-huge ]] || fail "huge: exit $code"
grep -q '^huge\.textproto:1:1: file is 17.0 MiB' huge.err || fail "huge: $(cat huge.err)"
"$bin" run "$work" --out=out-dir >/dev/null 2>dir.err; code=$?
[[ $code == 2 ]] && grep -q 'is a directory' dir.err || fail "a directory as scenario: exit $code, $(cat dir.err)"
"$bin" validate no-such-file.textproto >/dev/null 2>missing.err; code=$?
[[ $code == 2 ]] && grep -q '^no-such-file\.textproto:1:1: cannot open' missing.err || fail "missing file: $(cat missing.err)"
# A bad sweep file is located the same way.
printf 'base: "x.textproto"\naxes { path: "seed" values: [1, 2] }\n' >bad.sweep.textproto
"$bin" sweep bad.sweep.textproto --out=out-sweep >/dev/null 2>sweep.err; code=$?
[[ $code == 2 && ! -e out-sweep ]] || fail "bad sweep: exit $code"
grep -Eq '^bad\.sweep\.textproto:[0-9]+:[0-9]+: ' sweep.err || fail "bad sweep: not located: $(cat sweep.err)"

# Output directories that cannot be written.
small="$root/scenarios/pbft-4.textproto"
touch a-file
"$bin" run "$small" --out=a-file/sub --no-plot >/dev/null 2>nodir.err; code=$?
[[ $code == 2 ]] && grep -q 'cannot create a-file/sub' nodir.err || fail "unwritable output: exit $code, $(cat nodir.err)"

# SIGINT during a run: exit 130, nothing written (not even the directory), no temporary file.
"$bin" run "$small" --set=duration_s=100000 --trace --out=int-run --no-plot >/dev/null 2>int.err &
pid=$!
sleep 1
kill -INT $pid; wait $pid; code=$?
[[ $code == 130 ]] || fail "interrupted run exited $code"
[[ ! -e int-run ]] || fail "interrupted run left $(ls int-run)"
grep -q 'interrupted; nothing written' int.err || fail "interrupted run said: $(cat int.err)"
# ... and an earlier complete run in the same directory is left as it was.
"$bin" run "$small" --set=duration_s=1 --out=keep --no-plot >/dev/null 2>&1 || fail "short run failed"
cp keep/summary.json keep.summary
"$bin" run "$small" --set=duration_s=100000 --out=keep --no-plot >/dev/null 2>&1 &
pid=$!
sleep 1
kill -INT $pid; wait $pid
cmp -s keep/summary.json keep.summary || fail "an interrupted run changed an earlier run's summary"
ls keep | grep -q tmp && fail "temporary files left: $(ls keep)"

# SIGINT during a sweep: the finished runs stay, results.csv lists them, resuming does the rest.
cat >base.textproto <<'S'
name: "tiny"
topology { clusters: 1 replicas_per_cluster: 4 }
S
cat >int.sweep.textproto <<'S'
base: "base.textproto"
axes { path: "duration_s" values: ["0.5", "100000", "100000"] }
S
"$bin" sweep int.sweep.textproto --jobs=1 --out=int-sweep >sweep.out 2>sweep.err &
pid=$!
for _ in $(seq 100); do [[ -e int-sweep/p000-s1/summary.json ]] && break; sleep 0.2; done
sleep 1
kill -INT $pid; wait $pid; code=$?
[[ $code == 130 ]] || fail "interrupted sweep exited $code: $(cat sweep.err)"
[[ $(wc -l <int-sweep/results.csv) == 2 ]] || fail "results.csv after interrupt: $(cat int-sweep/results.csv)"
[[ ! -e int-sweep/p001-s1/summary.json ]] || fail "the interrupted run has a summary"
find int-sweep -name '*tmp*' | grep -q . && fail "temporary files left: $(find int-sweep -name '*tmp*')"
grep -q 'interrupted; 1 of 3 runs finished' sweep.err || fail "sweep said: $(cat sweep.err)"
echo "hostile input: ${#cases[@]} bad scenarios, binary, huge, unwritable output, SIGINT in run and sweep: ok"
