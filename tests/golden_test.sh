#!/usr/bin/env bash
# Pinned trace digests: every shipped scenario, run as shipped (its own seed and duration, FAST
# crypto), must give the digest recorded in tests/golden/digests.txt. A refactoring keeps them all;
# a change of behaviour rewrites them in a commit of its own that says why:
#   tests/golden_test.sh build/release/sim/geopbft . --rewrite
# (or one scenario: ... --rewrite NAME). Without --rewrite, checks the scenarios named (all if none).
set -u
bin=$(realpath "$1"); root=$(realpath "$2"); shift 2
export GEOPBFT_HOME=$root
golden=$root/tests/golden/digests.txt
rewrite=0
if [[ ${1:-} == --rewrite ]]; then rewrite=1; shift; fi
names=("$@")
if (( ${#names[@]} == 0 )); then
  for f in "$root"/scenarios/*.textproto; do
    [[ $f == *.sweep.textproto ]] || names+=("$(basename "$f" .textproto)")
  done
fi
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
# A scenario too long for the suite (scale-5000) is pinned over its first seconds: its line names
# the duration as a third field (`scale-5000 DIGEST duration_s=0.1`), kept when rewritten.
limit_of() { awk -v n="$1" '$1 == n && NF >= 3 {print $3}' "$golden"; }
digest_of() {  # NAME -> its trace digest (empty if the run failed)
  local limit; limit=$(limit_of "$1")
  "$bin" run "$root/scenarios/$1.textproto" --out="$work/$1" --no-plot ${limit:+--set=$limit} >"$work/$1.log" 2>&1 || true
  sed -n 's/.*"trace_digest": *"\([0-9a-f]*\)".*/\1/p' "$work/$1/summary.json" 2>/dev/null
}
status=0
for n in "${names[@]}"; do
  d=$(digest_of "$n")
  if [[ -z $d ]]; then echo "FAIL: $n did not run: $(tail -3 "$work/$n.log")"; status=1; continue; fi
  if (( rewrite )); then
    touch "$golden"
    limit=$(limit_of "$n")
    grep -v "^$n " "$golden" >"$work/g" || true
    echo "$n $d${limit:+ $limit}" >>"$work/g"
    { grep '^#' "$work/g"; grep -v '^#' "$work/g" | sort; } >"$golden"
    echo "pinned $n $d"
    continue
  fi
  want=$(awk -v n="$n" '$1 == n {print $2}' "$golden")
  if [[ -z $want ]]; then echo "FAIL: $n has no pinned digest in tests/golden/digests.txt"; status=1
  elif [[ $want != "$d" ]]; then echo "FAIL: $n: trace digest $d, pinned $want"; status=1
  else echo "ok: $n $d"; fi
done
exit $status
