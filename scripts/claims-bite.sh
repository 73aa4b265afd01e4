#!/usr/bin/env bash
# Do the claims bite? Applies each deliberate bug of scripts/claims-bite.list to a scratch copy of the
# repository, runs every claim at quick scale, and prints which claims turn FAIL. A bug that no claim's
# verdict catches is reported as MISSED and makes the script exit non-zero (issue 15).
#   scripts/claims-bite.sh            # every line of the list
#   scripts/claims-bite.sh rv2        # the lines whose name starts with rv2
# The scratch copy lives in ${SCRATCH:-/tmp/claims-bite} (its target/ is reused between runs).
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"
scratch="${SCRATCH:-/tmp/claims-bite}"
mkdir -p "$scratch"
rm -rf "$scratch/src-copy" && mkdir -p "$scratch/src-copy"
git ls-files | tar -cf - -T - | tar -xf - -C "$scratch/src-copy"
export CARGO_TARGET_DIR="$scratch/target"
missed=0
while IFS= read -r line; do
  [[ -z "$line" || "$line" == \#* ]] && continue
  name="${line%% @@ *}"; rest="${line#* @@ }"
  file="${rest%% @@ *}"; rest="${rest#* @@ }"
  from="${rest%% @@ *}"; to="${rest#* @@ }"
  [[ -n "${1:-}" && "$name" != "$1"* ]] && continue
  work="$scratch/src-copy"
  cp "$work/$file" "$scratch/original"
  python3 - "$work/$file" "$from" "$to" <<'PY'
import sys
path, old, new = sys.argv[1:4]
text = open(path).read()
n = text.count(old)
if n != 1:
    sys.exit(f"{path}: the text to mutate occurs {n} times (must be once): {old}")
open(path, 'w').write(text.replace(old, new))
PY
  if (cd "$work" && cargo build --release --locked --bin reproduce -q 2>"$scratch/build.log"); then
    out="$(cd "$work" && "$CARGO_TARGET_DIR/release/reproduce" --scale quick --no-figures --out "$scratch/out" 2>&1 || true)"
    failed="$(echo "$out" | awk '$1 == "FAIL" {print $2}' | tr '\n' ' ')"
    if [[ -n "$failed" ]]; then echo "CAUGHT  $name: $failed"; else echo "MISSED  $name"; missed=$((missed + 1)); fi
  else
    echo "UNVIABLE $name (does not build; see $scratch/build.log)"
  fi
  cp "$scratch/original" "$work/$file"
done < scripts/claims-bite.list
exit $((missed > 0))
