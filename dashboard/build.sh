#!/usr/bin/env bash
# Build the dashboard into dashboard/dist (served by the gateway at /dashboard/): `npm ci` of the
# pinned packages (package-lock.json), then one esbuild bundle (main.js + main.css, uPlot and
# supabase-js inside: nothing is fetched at run time). Idempotent: npm ci runs when the
# lockfile changed or node_modules is missing; the bundle is rebuilt only when a source, the
# lockfile or this script is newer than the last build. Run by `make setup`.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"
STAMP=node_modules/.collab-installed
BUILT=dist/.collab-built

if [ ! -f "$STAMP" ] || [ package-lock.json -nt "$STAMP" ] || [ ! -x node_modules/.bin/esbuild ]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "dashboard: npm not found: install Node.js and npm (apt-get install nodejs npm)" >&2
    exit 1
  fi
  # --ignore-scripts: esbuild's platform package (@esbuild/<os>-<arch>) carries the binary.
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null
  touch "$STAMP"
fi

if [ -f "$BUILT" ] && [ -z "$(find src package-lock.json build.sh -newer "$BUILT" -print -quit)" ]; then
  exit 0
fi

rm -rf dist.tmp
mkdir -p dist.tmp
node_modules/.bin/esbuild src/main.js --bundle --format=esm --target=es2022 --minify \
  --legal-comments=linked --outfile=dist.tmp/main.js --log-level=warning
cp src/index.html dist.tmp/index.html
cp src/config.example.json dist.tmp/config.example.json
rm -rf dist
mv dist.tmp dist
touch "$BUILT"
echo "dashboard: built dashboard/dist"
