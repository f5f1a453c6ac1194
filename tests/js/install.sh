#!/usr/bin/env bash
# Install the pinned Deno that runs the supabase-js contract tests (tests/js/package.json and its
# lockfile: the npm package `deno` and its platform binary), then cache the npm: modules that
# each test folder imports (pinned in the import specifiers and in the folder's deno.lock,
# integrity-checked) into DENO_DIR, so that the tests run offline (`deno test --cached-only`).
# Idempotent: `npm ci` runs when package-lock.json changed or the binary is missing; the cache
# is refreshed when a deno.lock changed. Run by `make setup`.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"
REPO="$(cd ../.. && pwd)"
STAMP=node_modules/.collab-installed
export DENO_DIR="${COLLAB_DENO_DIR:-$REPO/.collab/deno}"
export DENO_NO_UPDATE_CHECK=1

deno_binary() { ls node_modules/@deno/*/deno 2>/dev/null | head -n 1; }

if [ ! -f "$STAMP" ] || [ package-lock.json -nt "$STAMP" ] || [ -z "$(deno_binary)" ]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "tests/js: npm not found: install Node.js and npm (apt-get install nodejs npm)" >&2
    exit 1
  fi
  # --ignore-scripts: the platform package (@deno/<os>-<arch>) carries the binary itself.
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null
  touch "$STAMP"
fi
DENO="$(deno_binary)"
if [ -z "$DENO" ] || ! "$DENO" --version >/dev/null 2>&1; then
  echo "tests/js: no working Deno binary under tests/js/node_modules/@deno/ (unsupported platform?)" >&2
  exit 1
fi

mkdir -p "$DENO_DIR"
for config in */deno.json; do
  folder="$(dirname "$config")"
  cached="$DENO_DIR/.collab-cached-$folder"
  if [ ! -f "$cached" ] || [ "$folder/deno.lock" -nt "$cached" ]; then
    for entry in "$folder"/*_test.ts; do
      "$DENO" install --quiet --frozen --config "$config" --entrypoint "$entry"
    done
    touch "$cached"
  fi
done
