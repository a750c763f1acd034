#!/usr/bin/env bash
# Fuzzing: builds the libFuzzer targets with clang (ASan + UBSan) in their own build directory and
# runs each for a short while from its corpus in tests/fuzz/corpus/. Any crash, sanitizer report or
# hang fails the test; libFuzzer then prints the input (and writes it as crash-*) to reproduce it.
set -u
root=$1; build=$2; work=$3; seconds=${4:-15}
fail() { echo "FAIL: $*"; exit 1; }
command -v clang++ >/dev/null || fail "clang++ is missing (./geopbft test installs clang)"
if [[ ! -f $build/build.ninja ]]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
        -DGEOPBFT_FUZZ=ON -DGEOPBFT_BUILD_TESTS=OFF >"$work.configure.log" 2>&1 || fail "configure: $(tail -5 "$work.configure.log")"
fi
cmake --build "$build" --target fuzz_scenario fuzz_message >"$work.build.log" 2>&1 || fail "build: $(grep -m3 error "$work.build.log")"
rm -rf "$work"; mkdir -p "$work"; cd "$work" || exit 1
for target in scenario message; do
  mkdir -p "new-$target"
  "$build/fuzz_$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      "new-$target" "$root/tests/fuzz/corpus/$target" >"$target.log" 2>&1 || fail "fuzz_$target: $(grep -m5 -E 'ERROR|SUMMARY|Test unit written' "$target.log")"
  echo "fuzz_$target: $(grep -m1 'stat::number_of_executed_units' "$target.log" | awk '{print $2}') inputs, clean"
done
