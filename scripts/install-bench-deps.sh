#!/usr/bin/env bash
# Installs, with apt-get, the Debian 12 packages that `make bench` needs on top
# of scripts/install-deps.sh: the peers (nginx, nats-server), the NATS C client
# the JetStream tools link, and the profilers. Idempotent: installs only what
# is missing, so a machine that has everything makes no network call at all.
# `make test` never runs this: nothing in the test suite needs these packages.
set -euo pipefail

packages=(
  nginx nats-server libnats-dev linux-perf valgrind procps
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-bench-deps: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# The nginx package starts a system-wide nginx on port 80 from its postinst;
# policy-rc.d 101 keeps it from starting: the harness runs its own instance.
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
exit $status
