#!/usr/bin/env bash
# Download the authors' CIFAR-10 covariance spectrum (Pierret & Galerne, ICML 2025) from their public
# repository, verify its SHA-256, and print the PG_EIGENVALUES line to export. The project does not ship
# the file (no licence is attached to it); every claim that needs it is SKIPPED with the reason when absent.
#
#   scripts/fetch-pg-spectrum.sh                 # download to $XDG_DATA_HOME/diffusion-claims/ (or ~/.local/share/…)
#   scripts/fetch-pg-spectrum.sh --dest FILE     # download to FILE
#   scripts/fetch-pg-spectrum.sh --verify FILE   # only check a copy you already have
#
# Source: github.com/emilePi/Diffusion-models-for-Gaussian-distributions-Exact-solutions-and-Wasserstein-errors,
# file code/cifar10.npy (float32, 3072 eigenvalues, 9 exact zeros).
set -euo pipefail

SHA256="5c896e4125f16a1e7a76efa10e550dc656506b6bb184d56c340e5098317a6e58"
REPO="emilePi/Diffusion-models-for-Gaussian-distributions-Exact-solutions-and-Wasserstein-errors"
FILE_IN_REPO="code/cifar10.npy"
dest="${XDG_DATA_HOME:-$HOME/.local/share}/diffusion-claims/cifar10_eigenvalues_2025.npy"
verify_only=""

usage() { sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --dest) dest="${2:?--dest needs a file name}"; shift 2 ;;
    --verify) verify_only="${2:?--verify needs a file name}"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "error: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

sha_of() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1" | cut -d' ' -f1
  else shasum -a 256 "$1" | cut -d' ' -f1; fi
}

check() {
  local got
  got="$(sha_of "$1")"
  if [ "$got" != "$SHA256" ]; then
    echo "error: $1 has SHA-256 $got, expected $SHA256 (not the authors' ICML 2025 spectrum)" >&2
    return 1
  fi
}

if [ -n "$verify_only" ]; then
  [ -f "$verify_only" ] || { echo "error: no file $verify_only" >&2; exit 1; }
  check "$verify_only"
  echo "ok: $verify_only is the authors' spectrum"
  echo "export PG_EIGENVALUES=$(cd "$(dirname "$verify_only")" && pwd)/$(basename "$verify_only")"
  exit 0
fi

mkdir -p "$(dirname "$dest")"
tmp="$(mktemp "${dest}.XXXXXX")"
trap 'rm -f "$tmp"' EXIT
ok=""
for branch in main master; do
  url="https://raw.githubusercontent.com/$REPO/$branch/$FILE_IN_REPO"
  if curl -fsSL --retry 2 -o "$tmp" "$url"; then ok="$url"; break; fi
done
[ -n "$ok" ] || { echo "error: could not download $FILE_IN_REPO from github.com/$REPO" >&2; exit 1; }
check "$tmp"
mv "$tmp" "$dest"   # atomic: a failed download or a wrong checksum never leaves a file at $dest
trap - EXIT
echo "ok: $ok -> $dest (SHA-256 verified)"
echo "export PG_EIGENVALUES=$dest"
