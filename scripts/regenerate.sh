#!/usr/bin/env bash
# Regenerate the committed evidence after an intended change: the quick-scale regression evidence
# (tests/golden/quick, CSVs only) and the full-scale results/ (CSV + SVG + REPORT.md).
# Builds first, so a stale binary never writes evidence.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked
./target/release/reproduce --scale quick --no-figures --out tests/golden/quick
if [ "${1:-}" != "--quick-only" ]; then
  ./target/release/reproduce --scale full --out results
fi
