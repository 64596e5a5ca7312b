#!/usr/bin/env bash
# The Debian 12 packages `make bench` needs on top of scripts/install-deps.sh:
# the peers (nginx, nats-server), the NATS C client the JetStream tools link,
# and the profilers. `make test` never runs this.
set -euo pipefail
exec "$(dirname "$0")/install-deps.sh" \
  nginx nats-server libnats-dev linux-perf valgrind procps
