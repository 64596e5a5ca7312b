#!/usr/bin/env bash
# Builds the Go subscriber with Debian's packages only (golang-go 1.19,
# golang-google-grpc-dev, golang-goprotobuf-dev, golang-google-genproto-dev),
# in GOPATH mode: generates the Go code for protos/hookstream/v1 with
# Debian's protoc-gen-go (API v1, `plugins=grpc`) into OUT_DIR/gopath, then
# builds OUT_DIR/go_subscriber.
#   examples/go_subscriber/build.sh OUT_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=$(mkdir -p "${1:?usage: build.sh OUT_DIR}" && cd "$1" && pwd)
src=$out/gopath/src
mkdir -p "$src"
# The well-known types map to the golang/protobuf 1.3 packages Debian ships
# (API v2 generated code would compile against them and fail at run time).
wkt=Mgoogle/protobuf/timestamp.proto=github.com/golang/protobuf/ptypes/timestamp
wkt+=,Mgoogle/protobuf/duration.proto=github.com/golang/protobuf/ptypes/duration
wkt+=,Mgoogle/protobuf/struct.proto=github.com/golang/protobuf/ptypes/struct
protoc --proto_path="$root/protos" --go_out="plugins=grpc,$wkt:$src" \
  "$root"/protos/hookstream/v1/*.proto
export GO111MODULE=off GOPATH="$out/gopath:/usr/share/gocode" GOFLAGS=
export GOCACHE=${GOCACHE:-${XDG_CACHE_HOME:-${HOME:-$out}/.cache}/go-build}
cd "$here"
go build -o "$out/go_subscriber" .
echo "built $out/go_subscriber"
