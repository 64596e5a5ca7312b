#!/usr/bin/env bash
# Installs, with apt-get, the Debian 12 packages hookstream builds, tests and
# runs with. Idempotent: installs only what is missing, so a machine that has
# everything makes no network call at all.
set -euo pipefail

packages=(
  g++ cmake make pkg-config git ca-certificates openssl curl
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev nlohmann-json3-dev libssl-dev libboost1.81-dev
  libgtest-dev libgmock-dev libbenchmark-dev libcurl4-openssl-dev
  libjemalloc-dev
  python3 python3-grpcio python3-protobuf
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
