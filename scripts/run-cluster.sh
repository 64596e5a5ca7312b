#!/usr/bin/env bash
# Starts, on this machine, a 3-node NATS JetStream cluster (R3) and two
# hookstream replicas A and B in front of it, for trying docs/scale-out.md:
#   NATS     nats://127.0.0.1:4222, :4223, :4224 (cluster routes :6222-:6224)
#   replica A  ingress https://127.0.0.1:8443  gRPC 127.0.0.1:50051
#   replica B  ingress https://127.0.0.1:8444  gRPC 127.0.0.1:50052
#   (admin listeners, /metrics: 127.0.0.1:9090 and :9092)
# Everything lives under $CLUSTER_DIR (default var/cluster); Ctrl-C stops
# it all. Post to either replica, subscribe on either:
#   build/client/hookstream tail --target=127.0.0.1:50051 --from=oldest
#   build/client/hookstream send --url=https://127.0.0.1:8444/v1/webhooks/gettrx ...
# Fixed ports: a tool for people, not for tests (tests use ephemeral ports).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
dir=${CLUSTER_DIR:-var/cluster}
case $dir in /*) ;; *) dir=$PWD/$dir ;; esac  # absolute: the store dirs
mkdir -p "$dir"
./scripts/dev-setup.sh "$dir/dev" >/dev/null

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

# The nodes run deploy/nats/nats.conf, as deploy/compose.jetstream.yaml
# does; what differs per node is in the environment.
routes="[nats://127.0.0.1:6222, nats://127.0.0.1:6223, nats://127.0.0.1:6224]"
for i in 1 2 3; do
  mkdir -p "$dir/n$i"
  NATS_SERVER_NAME=n$i NATS_LISTEN=127.0.0.1:$((4221 + i)) \
    NATS_STORE_DIR="$dir/n$i/store" \
    NATS_CLUSTER_LISTEN=127.0.0.1:$((6221 + i)) NATS_ROUTES="$routes" \
    nats-server -c deploy/nats/nats.conf 2> "$dir/n$i/nats.log" &
  pids+=($!)
done
urls="nats://127.0.0.1:4222,nats://127.0.0.1:4223,nats://127.0.0.1:4224"
# The cluster elects its JetStream meta leader within a few seconds; a
# replica started before that retries nothing: give it the time.
for _ in $(seq 100); do
  grep -q "JetStream cluster new metadata leader\|Self is new JetStream cluster metadata leader" \
    "$dir"/n*/nats.log 2>/dev/null && break
  sleep 0.1
done

start_replica() {  # name ingress_port grpc_port admin_port
  "$build/server/hookstream-server" \
    --backend=jetstream --nats_url="$urls" --nats_replicas=3 \
    --ingress_address=127.0.0.1:$2 --grpc_address=127.0.0.1:$3 \
    --admin_address=127.0.0.1:$4 \
    --tls_cert="$dir/dev/tls.crt" --tls_key="$dir/dev/tls.key" \
    --signing_secret_file="$dir/dev/signing-secret" \
    2> "$dir/replica-$1.log" &
  pids+=($!)
}
start_replica A 8443 50051 9090
start_replica B 8444 50052 9092
cat <<TXT
NATS cluster (R3): $urls   logs $dir/n*/nats.log
replica A: https://127.0.0.1:8443  gRPC 127.0.0.1:50051  metrics http://127.0.0.1:9090/metrics  log $dir/replica-A.log
replica B: https://127.0.0.1:8444  gRPC 127.0.0.1:50052  metrics http://127.0.0.1:9092/metrics  log $dir/replica-B.log
secret: $dir/dev/signing-secret   certificate: $dir/dev/tls.crt
Ctrl-C stops everything.
TXT
wait
