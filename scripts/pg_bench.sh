#!/usr/bin/env bash
# Time the whole Pierret & Galerne ICML table through the exact-law engine (benches/pg_table.rs) and,
# where it exists, the numpy per-eigenvalue implementation (scripts/pg_table_numpy.py), side by side.
# Usage: scripts/pg_bench.sh [REPS]   (PG_EIGENVALUES selects the spectrum; default ../shared/data/...)
set -euo pipefail
cd "$(dirname "$0")/.."
reps="${1:-7}"
export PG_EIGENVALUES="${PG_EIGENVALUES:-$(cd .. && pwd)/shared/data/pierret-galerne/cifar10_eigenvalues_2025.npy}"
PG_BENCH_REPS="$reps" cargo bench --bench pg_table 2>/dev/null | grep '^pg_table'
if [ -f scripts/pg_table_numpy.py ]; then
  python3 scripts/pg_table_numpy.py --help >/dev/null
  time python3 scripts/pg_table_numpy.py
else
  echo "scripts/pg_table_numpy.py is absent: no numpy comparison"
fi
