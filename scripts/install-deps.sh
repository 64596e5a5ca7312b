#!/usr/bin/env bash
# Installs, with apt-get, the Debian 12 packages hookstream builds, tests and
# runs with — or, given package names, those instead (install-bench-deps.sh);
# `--build-only`: only what building the binaries needs (the Dockerfile).
# Then, unless given names or --build-only, the npm packages of the tests
# and examples, into project folders (install-npm-deps.sh).
# Idempotent: installs only what is missing, so a machine that has everything
# makes no network call at all. Packages that come with a system service
# (nginx) are kept from starting it: hookstream's scripts run their own.
set -euo pipefail

packages=(
  g++ cmake make pkg-config git ca-certificates openssl curl
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev nlohmann-json3-dev libsimdjson-dev libssl-dev libboost1.81-dev
  libgtest-dev libgmock-dev libbenchmark-dev libcurl4-openssl-dev
  libjemalloc-dev
  libnats-dev nats-server
  strace
  clang-14 libfuzzer-14-dev
  python3 python3-grpcio python3-protobuf python3-yaml
)
# The client examples (examples/) and their tests: Go from Debian only (no
# module proxy), Node for the Node example and buf.
client_packages=(
  golang-go golang-google-grpc-dev golang-goprotobuf-dev
  golang-google-genproto-dev
)
# The dashboard's browser test (tests/e2e/dashboard_e2e_test.cc): headless
# Chromium driven through chromedriver.
client_packages+=(chromium chromium-driver)
# A machine may have Node from elsewhere (with its own npm): keep it.
command -v node >/dev/null 2>&1 || client_packages+=(nodejs)
command -v npm >/dev/null 2>&1 || client_packages+=(npm)
npm_step=1
if [ "${1:-}" = "--build-only" ]; then
  npm_step=0
  shift
elif [ $# -eq 0 ]; then
  packages+=("${client_packages[@]}")
fi
if [ $# -gt 0 ]; then packages=("$@"); npm_step=0; fi
here=$(cd "$(dirname "$0")" && pwd)
npm_deps() {
  if [ $npm_step -eq 1 ] && [ -x "$here/install-npm-deps.sh" ]; then
    "$here/install-npm-deps.sh"
  fi
}

# promtool (the metrics and alert-rule checks in make test) from Debian's
# prometheus package, unpacked into tools/prometheus without installing it:
# the package would also install and start a Prometheus service.
promtool_step() {
  local root dest tmp
  root=$(cd "$here/.." && pwd)
  dest=$root/tools/prometheus
  [ -x "$dest/usr/bin/promtool" ] && return 0
  echo "$(basename "$0"): unpacking promtool into tools/prometheus" >&2
  tmp=$(mktemp -d)
  (cd "$tmp" && apt-get download prometheus >/dev/null 2>&1 ||
     { ${sudo:-} apt-get update -qq && apt-get download prometheus >/dev/null; })
  dpkg -x "$tmp"/prometheus_*.deb "$tmp/x"
  mkdir -p "$dest/usr/bin"
  cp "$tmp/x/usr/bin/promtool" "$dest/usr/bin/promtool"
  rm -rf "$tmp"
}

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  [ $npm_step -eq 1 ] && promtool_step
  npm_deps
  exit 0
fi

echo "$(basename "$0"): installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# policy-rc.d answering 101 keeps a package's postinst from starting its
# service (e.g. a system-wide nginx on port 80).
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
  $sudo chmod 755 "$policy"
  created_policy=1
fi
status=0
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || status=$?
if [ $created_policy -eq 1 ]; then $sudo rm -f "$policy"; fi
[ $status -eq 0 ] || exit $status
[ $npm_step -eq 1 ] && promtool_step
npm_deps
