#!/usr/bin/env bash
# One formatting for the whole tree (.clang-format at the root). To fix what this reports:
#   clang-format -i $(git ls-files '*.cc' '*.h')
set -u
root=$1
cd "$root" || exit 1
fmt=$(command -v clang-format || command -v clang-format-14) || { echo "FAIL: clang-format is not installed"; exit 1; }
bad=()
while IFS= read -r f; do
  "$fmt" --style=file --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done < <(find protocol sim tests -name '*.cc' -o -name '*.h' | sort)
(( ${#bad[@]} == 0 )) || { echo "FAIL: not formatted: ${bad[*]}"; exit 1; }
echo "ok: every .cc and .h formatted"
