#!/usr/bin/env bash
# Generates the Python modules for protos/hookstream/v1 into OUT_DIR (default:
# gen/ next to this script). Generated code is never committed.
#   examples/python_subscriber/generate.sh [OUT_DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:-$here/gen}
mkdir -p "$out"
protoc --proto_path="$root/protos" \
  --python_out="$out" --grpc_python_out="$out" \
  --plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin \
  "$root"/protos/hookstream/v1/*.proto
echo "generated Python modules in $out"
