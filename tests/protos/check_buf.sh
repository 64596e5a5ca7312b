#!/usr/bin/env bash
# The contract checks ctest runs (tests/protos/CMakeLists.txt):
#   check_buf.sh BUF lint              buf lint protos/ (STANDARD, buf.yaml)
#   check_buf.sh BUF breaking          buf breaking against the released
#                                      contract, protos/buf-image.binpb
#   check_buf.sh BUF breaking-detects  the breaking check catches a break: a
#                                      renumbered field in a copy must fail it
# BUF is tools/npm/node_modules/.bin/buf (scripts/install-npm-deps.sh).
set -euo pipefail
buf=$1
mode=$2
root=$(cd "$(dirname "$0")/../.." && pwd)
if [ ! -x "$buf" ]; then
  echo "check_buf: $buf missing: run scripts/install-deps.sh (npm ci in tools/npm)" >&2
  exit 1
fi
case $mode in
  lint) exec "$buf" lint "$root/protos" ;;
  breaking) exec "$buf" breaking "$root/protos" --against "$root/protos/buf-image.binpb" ;;
  breaking-detects)
    copy=$(mktemp -d)
    trap 'rm -rf "$copy"' EXIT
    cp -r "$root/protos/." "$copy/"
    # Event.sequence = 1 becomes 99: a wire-incompatible change.
    sed -i 's/^  uint64 sequence = 1;$/  uint64 sequence = 99;/' "$copy/hookstream/v1/event.proto"
    grep -q 'uint64 sequence = 99;' "$copy/hookstream/v1/event.proto"
    if out=$("$buf" breaking "$copy" --against "$root/protos/buf-image.binpb" 2>&1); then
      echo "check_buf: buf breaking accepted a renumbered field" >&2
      exit 1
    fi
    echo "$out"
    grep -q 'sequence' <<<"$out"
    echo "check_buf: the renumbered field was caught"
    ;;
  *) echo "usage: check_buf.sh BUF lint|breaking|breaking-detects" >&2; exit 2 ;;
esac
