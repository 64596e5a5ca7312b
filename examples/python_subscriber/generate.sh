#!/usr/bin/env bash
# Generates the Python modules for protos/hookstream/v1 and the
# google.rpc.Status of the rich error details (protos/google/rpc/status.proto)
# into OUT_DIR (default: build/examples/python_gen in the repository, a build
# folder; generated code is never committed). No __init__.py is written:
# hookstream/ and google/rpc/ are namespace packages, and a google/__init__.py
# would hide the installed google.protobuf.
#   examples/python_subscriber/generate.sh [OUT_DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:-$root/build/examples/python_gen}
mkdir -p "$out"
protoc --proto_path="$root/protos" \
  --python_out="$out" --grpc_python_out="$out" \
  --plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin \
  "$root"/protos/hookstream/v1/*.proto "$root"/protos/google/rpc/status.proto
echo "generated Python modules in $out (export HOOKSTREAM_PY_GEN_DIR=$out)"
