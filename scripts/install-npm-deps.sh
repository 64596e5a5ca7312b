#!/usr/bin/env bash
# Installs the npm packages the tests and examples use, each into its own
# project folder from its committed package-lock.json (`npm ci`; never a
# global install): tools/npm (@bufbuild/buf) and examples/node_subscriber
# (@grpc/grpc-js, @grpc/proto-loader, protobufjs). Idempotent and quiet: a
# folder whose node_modules matches its lock file is left alone, so a
# machine that has everything makes no network call.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
for dir in tools/npm examples/node_subscriber; do
  lock=$root/$dir/package-lock.json
  # npm writes node_modules/.package-lock.json as it installs; equal to the
  # lock's packages means installed.
  installed=$root/$dir/node_modules/.package-lock.json
  if [ -f "$installed" ] && [ "$installed" -nt "$lock" ]; then continue; fi
  echo "$(basename "$0"): npm ci in $dir" >&2
  (cd "$root/$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
done
