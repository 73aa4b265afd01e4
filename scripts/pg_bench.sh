#!/usr/bin/env bash
# Time the whole Pierret & Galerne ICML table through the exact-law engine (benches/pg_table.rs) and the
# numpy per-eigenvalue recursion (scripts/pg_table_numpy.py) in one run, and print the ratio of their
# median wall times (numpy / engine; the issue's target is ≥ 10).
# Usage: scripts/pg_bench.sh [REPS]
#   PG_EIGENVALUES selects the spectrum (default ../shared/data/...); PYTHON the interpreter with numpy
#   (default python3; see scripts/requirements-numpy.txt). The engine uses every core rayon sees
#   (RAYON_NUM_THREADS=1 for one); numpy runs on one.
set -euo pipefail
cd "$(dirname "$0")/.."
reps="${1:-7}"
python="${PYTHON:-python3}"
export PG_EIGENVALUES="${PG_EIGENVALUES:-$(cd .. && pwd)/shared/data/pierret-galerne/cifar10_eigenvalues_2025.npy}"
engine_out="$(PG_BENCH_REPS="$reps" cargo bench --bench pg_table 2>/dev/null | grep '^pg_table')"
echo "$engine_out"
engine_median="$(echo "$engine_out" | sed -n 's/.*median \([0-9.]*\) s.*/\1/p')"
if ! "$python" -c 'import numpy' 2>/dev/null; then
  echo "$python has no numpy: no comparison (pip install -r scripts/requirements-numpy.txt, or set PYTHON)"
  exit 0
fi
timing="$(mktemp)"
trap 'rm -f "$timing"' EXIT
"$python" scripts/pg_table_numpy.py --repeat "$reps" --json-timing "$timing" | tail -1
"$python" - "$timing" "$engine_median" <<'PY'
import json, sys
numpy_median = json.load(open(sys.argv[1]))["median_s"]
engine_median = float(sys.argv[2])
print(f"ratio numpy/engine (median wall time): {numpy_median / engine_median:.2f}  "
      f"(numpy {numpy_median:.4f} s, engine {engine_median:.4f} s; target >= 10)")
PY
