#!/usr/bin/env bash
# protocol/ and sim/ must not read wall clocks, global randomness, or use threads: every run must be a
# function of scenario and seed. sim/cli/ (the front end: progress bar, wall_seconds) is exempt.
# protocol/ must not know the simulator.
set -u
root=$1
status=0
hits=$(grep -rnE 'std::chrono::(system|steady|high_resolution)_clock|std::random_device|[^a-zA-Z_]s?rand\(|absl::(Now|BitGen|InsecureBitGen)|std::thread|std::mutex|std::async|pthread_|time\(nullptr\)|gettimeofday|clock_gettime|getenv' \
        "$root/protocol" "$root/sim" --include='*.h' --include='*.cc' | grep -v "^$root/sim/cli/")
if [[ -n $hits ]]; then
  echo "nondeterminism outside sim/cli/:"; echo "$hits"; status=1
fi
inc=$(grep -rn '#include "sim/' "$root/protocol")
if [[ -n $inc ]]; then
  echo "protocol/ includes the simulator:"; echo "$inc"; status=1
fi
# The check itself must be able to fail: it has to find the patterns in a planted file.
tmp=$(mktemp -d)
mkdir -p "$tmp/sim"
echo 'auto t = std::chrono::steady_clock::now();' >"$tmp/sim/x.cc"
grep -qrnE 'std::chrono::(system|steady|high_resolution)_clock' "$tmp/sim" || { echo "self-check failed"; status=1; }
rm -rf "$tmp"
[[ $status == 0 ]] && echo "ok: protocol/ and sim/ are free of clocks, global randomness and threads"
exit $status
