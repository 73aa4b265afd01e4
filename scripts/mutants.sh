#!/usr/bin/env bash
# Mutation testing of the core modules with cargo-mutants: how many mutants of the mathematics does the
# README's test command (`cargo test --release --locked`) catch?
#
# A full run (all mutants of all core modules) takes many hours on 2 cores, so this runs a documented,
# reproducible systematic sample: cargo-mutants lists the mutants in a fixed order, and `--shard K/N` with
# round-robin sharding takes every N-th one starting at K. Usage:
#   scripts/mutants.sh                 # the default shard 0/SHARDS over the core modules
#   SHARDS=8 SHARD=3 scripts/mutants.sh
#   FILES="src/schedule.rs" SHARDS=1 scripts/mutants.sh   # all mutants of one file
# Results: ${OUT:-.}/mutants.out/ (caught.txt, missed.txt, timeout.txt, unviable.txt, outcomes.json).
# Needs: cargo install cargo-mutants --locked
set -euo pipefail
cd "$(dirname "$0")/.."
SHARDS="${SHARDS:-10}"
SHARD="${SHARD:-0}"
FILES="${FILES:-src/schedule.rs src/target.rs src/algebra.rs src/sampler/*.rs src/metrics.rs src/conventions.rs src/pg.rs src/losses/*.rs}"
args=()
for f in $FILES; do args+=(--file "$f"); done
cargo mutants --list "${args[@]}" | wc -l | xargs echo "mutants in these files:"
# Release profile (the suite is numeric and slow in debug); IN_PLACE=1 mutates this checkout instead of a
# scratch copy (faster: reuses target/), for a dedicated worktree only.
extra=()
if [ "${IN_PLACE:-0}" = 1 ]; then extra+=(--in-place); fi
exec nice cargo mutants "${args[@]}" "${extra[@]}" --shard "$SHARD/$SHARDS" --sharding round-robin --timeout 600 \
  --profile release --output "${OUT:-.}" -- --locked
