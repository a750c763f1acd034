#!/usr/bin/env bash
# Help a user meets at the command line: --help on every command (usage, options, exit codes,
# exit 0, nothing run), --version with the commit, and "did you mean" for a mistyped --set path,
# enum value, scenario field, option or command.
set -u
bin=$1; root=$2; work=$3
rm -rf "$work"; mkdir -p "$work"; cd "$work"
fail() { echo "FAIL: $*"; exit 1; }
export GEOPBFT_HOME=$root

for c in run validate sweep swarm audit plot test; do
  out=$("$bin" "$c" --help 2>&1) || fail "$c --help exited $?"
  grep -q "^usage: .*$c" <<<"$out" || fail "$c --help prints no usage line: $out"
  grep -q "exit codes:" <<<"$out" || fail "$c --help does not document exit codes"
  "$bin" "$c" -h >/dev/null 2>&1 || fail "$c -h exited $?"
done
grep -q -- "--set=PATH=VALUE" <<<"$("$bin" run --help)" || fail "run --help does not list --set"
grep -q -- "--emit-jobs" <<<"$("$bin" help sweep)" || fail "help sweep does not list --emit-jobs"
[[ ! -e out ]] || fail "--help ran something (out/ written)"
"$bin" --help | grep -q "geopbft COMMAND --help" || fail "--help has no overview"

v=$("$bin" --version) || fail "--version exited $?"
grep -Eq '^geopbft [0-9]+\.[0-9]+\.[0-9]+ \(commit ([0-9a-f]{7,}(-dirty)?|unknown)\)$' <<<"$v" || fail "--version: $v"
if git -C "$root" rev-parse HEAD >/dev/null 2>&1; then
  head=$(git -C "$root" rev-parse --short=12 HEAD)
  grep -q "$head" <<<"$v" || echo "note: --version names another commit than HEAD ($v, HEAD $head): built earlier"
fi

expect() {  # EXPECTED-REGEX COMMAND...: exit 2 and the message matching
  local want=$1; shift
  out=$("$@" 2>&1); code=$?
  [[ $code == 2 ]] || fail "$* exited $code (want 2): $out"
  grep -Eq "$want" <<<"$out" || fail "$*: no '$want' in: $out"
}
expect "unknown field 'cluster'.*did you mean.*'clusters'" "$bin" run --set=topology.cluster=3 --out=x
expect "unknown field 'topolgy'.*did you mean 'topology'" "$bin" run --set=topolgy.clusters=3 --out=x
expect "did you mean 'loss_ratio'" "$bin" run --set=network.los_ratio=0.1 --out=x
expect "did you mean.* 'GEOBFT_REPUTATION'" "$bin" run --set=protocol.kind=GEOBFT_REPUTATON --out=x
expect "one of PBFT, GEOBFT, GEOBFT_REPUTATION" "$bin" run --set=protocol.kind=HOTSTUFF --out=x
expect "unknown option '--sed=3'; did you mean .*'--seed'" "$bin" run --sed=3
expect "unknown option '--no-plots'; did you mean '--no-plot'" "$bin" run --no-plots
expect "unknown argument '--job=2'; did you mean '--jobs'" "$bin" sweep x.sweep.textproto --job=2
expect "bad argument '--seed=3'.*did you mean '--seeds'" "$bin" swarm --seed=3
expect "unknown command 'rnu'; did you mean 'run'" "$bin" rnu
printf 'name: "t"\ntopology { clusters: 2 replica_per_cluster: 4 }\n' >typo.textproto
expect "typo.textproto:2:24: .*no field named \"replica_per_cluster\"; did you mean 'replicas_per_cluster'" \
  "$bin" validate typo.textproto
[[ ! -e x ]] || fail "a rejected run wrote its output directory"
echo "ok: help on every command, --version ($v), suggestions for paths, values, fields, options, commands"
