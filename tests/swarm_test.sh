#!/usr/bin/env bash
# Swarm testing: fixed seeds pass every checker for every protocol; a planted bug (quorums of 2f
# instead of 2f+1) is caught within those seeds and its scenario file replays the failing run; and
# the determinism audit: the same seeds in separate processes (and another split over workers) give
# identical trace digests — on a divergence, the first differing trace event is printed.
set -u
bin=$1; root=$2; work=$3
rm -rf "$work"; mkdir -p "$work"; cd "$work" || exit 1
export GEOPBFT_HOME=$root
fail() { echo "FAIL: $*"; exit 1; }
seeds=30

"$bin" swarm --seeds=$seeds --jobs=2 --out=clean --digests >clean.out 2>&1 || fail "swarm found failures: $(grep -A1 FAIL clean.out)"
grep -q "swarm: $seeds of $seeds seeds run (1..$seeds), 0 failed" clean.out || fail "summary: $(tail -1 clean.out)"
for p in pbft geobft reputation; do
  "$bin" swarm --seeds=8 --first-seed=1000 --protocol=$p --out=only-$p >$p.out 2>&1 || fail "$p swarm: $(grep -A1 FAIL $p.out)"
done
# Seeds that found bugs, each fixed since: they must stay clean.
#   3    GeoBFT answered a re-sent request from its local order, before (and unlike) global execution
#   10   a view change short of its quorum when a partition healed waited for the doubled timeout
#   14   proposals kept for unknown roles outlived the stable checkpoint (bounds check)
#   89   a NEW-VIEW was checked against one role epoch only, and refused for ever
#   587  a GeoBFT replica restarted after a crash never re-armed its remote timer
#   646  a replica that lost the CHECKPOINTs of a stable checkpoint stayed below its window
#   109 (pbft only) a timer re-armed by a step still on the CPU fired anyway: the new primary of a
#        view change abandoned its view 1 ms after joining it
#   945 (geobft only), 285 (reputation only) a PRE-PREPARE lost to one replica alone was never
#        resent: with nothing above its position it never sent STATUS
#   315, 392 (geobft only) backups waited for a proposal they had accepted without suspecting its
#        primary (no client request of theirs was waiting), while one replica sat in a view change
#   471 (geobft only) a remote view-change request was sent once: when the certificate the cluster
#        answered with was lost too, the other cluster waited for ever
#   792 (geobft only) a replica that timed out alone climbed views on its own (and kept the
#        VIEW-CHANGEs of every view it left: bounds check)
#   960 (geobft only) a replica moved into a view change by a remote complaint, with nothing else
#        to do, never repeated its VIEW-CHANGE after a partition
#   119 (pbft only) a replica that installed a view while fetching the state it starts from dropped
#        the view's re-proposals above its window, and never got them again
#   557 (pbft only) replicas that had executed a re-proposed sequence number waited for PREPAREs
#        lost in a partition before committing it in the new view; the replicas behind starved
#   9 (geobft only) replicas too far behind for the other clusters' kept certificates, with fewer
#        than f+1 of their own cluster ahead, could not catch up (snapshots now come from any cluster)
#   88 (reputation only) a NEW-VIEW counted the VIEW-CHANGE of a member turned listener since, and
#        was refused under every role epoch
for case in 3:all 10:all 14:all 89:all 587:all 646:all 109:pbft 945:geobft 285:reputation \
            315:geobft 392:geobft 471:geobft 792:geobft 960:geobft 119:pbft 557:pbft 9:geobft 88:reputation; do
  s=${case%%:*}; p=${case##*:}
  "$bin" swarm --seeds=1 --first-seed=$s --protocol=$p --out=regress >regress-$s.out 2>&1 || fail "regression seed $s: $(grep -A1 FAIL regress-$s.out)"
done
"$bin" swarm --seeds=12 --safety-only --out=safety >safety.out 2>&1 || fail "safety-only swarm: $(grep -A1 FAIL safety.out)"

# The planted bug is caught, and the written scenario replays the failing run exactly.
"$bin" swarm --seeds=$seeds --plant-bug=quorum-2f --out=bug >bug.out 2>&1; code=$?
[[ $code == 1 ]] || fail "the planted bug went unnoticed in $seeds seeds (exit $code)"
first=$(grep -m1 ' FAIL ' bug.out) || fail "no failing seed listed"
seed=${first%% *}; digest=$(cut -d' ' -f3 <<<"$first")
[[ -s bug/seed-$seed.textproto ]] || fail "no scenario written for seed $seed"
grep -q 'planted_bug: QUORUM_2F' bug/seed-$seed.textproto || fail "the replay file lacks the planted bug"
"$bin" run bug/seed-$seed.textproto --out=replay --no-plot >/dev/null 2>&1
grep -q "\"trace_digest\": \"$digest\"" replay/summary.json || fail "replay of seed $seed is not the same run"
echo "planted bug: first caught at seed $seed ($(grep -c ' FAIL ' bug.out) of $seeds seeds fail)"

# Determinism audit: another process, another split over workers, the same digests.
"$bin" swarm --seeds=$seeds --jobs=1 --out=again --digests --keep-scenarios >again.out 2>&1 || fail "second swarm failed"
if ! diff <(grep -E '^[0-9]+ ' clean.out) <(grep -E '^[0-9]+ ' again.out) >digests.diff; then
  s=$(grep -m1 -E '^[<>] [0-9]+ ' digests.diff | cut -d' ' -f2)
  "$bin" run again/seed-$s.textproto --trace --out=t1 --no-plot >/dev/null 2>&1
  "$bin" run again/seed-$s.textproto --trace --out=t2 --no-plot >/dev/null 2>&1
  echo "first differing trace event of seed $s:"
  diff t1/trace.log t2/trace.log | head -4
  fail "seed $s: digests differ between processes"
fi
# Pinned: the digests of these seeds (tests/golden/swarm-digests.txt). A change of behaviour rewrites
# them, in a commit of its own that says why: GEOPBFT_REWRITE_GOLDEN=1 ./geopbft test -R '^swarm$'
pinned=$root/tests/golden/swarm-digests.txt
if [[ ${GEOPBFT_REWRITE_GOLDEN:-} == 1 ]]; then
  { echo "# swarm --seeds=$seeds: seed, verdict, trace digest, events (checked by tests/swarm_test.sh)"; grep -E '^[0-9]+ ' clean.out; } >"$pinned"
  echo "swarm: rewrote $pinned"
elif ! diff <(grep -E '^[0-9]+ ' "$pinned") <(grep -E '^[0-9]+ ' clean.out) >pinned.diff; then
  fail "swarm digests differ from tests/golden/swarm-digests.txt (pinned <, now >): $(head -4 pinned.diff | tr '\n' ' ')"
fi
echo "swarm: $seeds seeds clean, determinism audit ok, digests as pinned"
