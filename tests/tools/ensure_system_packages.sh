#!/usr/bin/env bash
# Install the Debian packages Collab's tests need, once. As root: apt-get update (once) and
# install what is missing. Otherwise: print the exact command and fail.
set -euo pipefail

PACKAGES=(postgresql-15 postgresql-15-pgtap libtap-parser-sourcehandler-pgtap-perl
          postgresql-15-plpgsql-check postgresql-15-cron
          postgresql-doc-15 python3.11-doc  # the search evaluation sets (make search-eval)
          chromium fonts-dejavu-core  # the dashboard's browser tests (tests/py/dashboard)
          nginx-light  # `collab stack` runs its own nginx on :54321 (collab.stack_nginx)
          postgresql-15-wal2json)  # Supabase Realtime's decoding (tests/py/migration/test_realtime_publication.py)

missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi

command="apt-get install -y ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "missing system packages: ${missing[*]}" >&2
  echo "run as root: apt-get update && DEBIAN_FRONTEND=noninteractive $command" >&2
  exit 1
fi

echo "installing system packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Packages with a service (nginx, postgresql) must not start it on install: Collab runs its
# own instances on ports it chooses, and a system nginx on :80 would be a stray process (or
# fail the install where :80 is taken). A policy-rc.d that refuses every start, for the
# length of the install, unless the machine already has one.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod 755 /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
