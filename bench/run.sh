#!/usr/bin/env bash
# `make bench`: hookstream side by side with its peers (nginx, NATS
# JetStream) on this machine, loopback only, each workload run BENCH_RUNS
# times (peer, then hookstream, in the same run), then medians and ratios.
# Every process it starts is stopped on exit; every load is bounded in count
# and time. See docs/benchmarks.md for what each workload measures.
#
# Environment:
#   BENCH_BUILD_DIR   Release build with the server and the bench tools
#                     (default build-bench; `make bench` builds it)
#   BENCH_RUNS        runs per workload (default 3; live latency at least 5,
#                     BENCH_LIVE_RUNS to set it; memory BENCH_MEMORY_RUNS, 1)
#   BENCH_WORKLOADS   subset, e.g. "ingest replay" (default: all of
#                     ingest replay live many memory journal restart
#                     conversion; jetstream and fanout only when named)
#   BENCH_QUICK=1     small counts and short durations, to try the harness
#   BENCH_OUT         results directory (default $BENCH_BUILD_DIR/bench-results)
#   BENCH_SERVER_BIN  another hookstream-server binary (default: the build's)
#   BENCH_BASELINE_BIN  a second hookstream-server (e.g. built from an older
#                     commit): ingest and replay then also run it, as the side
#                     hookstream_baseline, in the same runs (before/after)
#   BENCH_JOURNAL_DIR where the journal workloads keep their journals
#                     (default: under /tmp; put it on the disk to measure)
#   BENCH_INGEST_CONNECTIONS  keep-alive connections of the ingest loads
#                     (default 32)
#   BENCH_FANOUT_SHAPES  the fanout workload's shapes, RATE:SUBSCRIBERS:CONNECTIONS
#                     (default "2000:10:10 200:1000:100 20:10000:100")
#   BENCH_FANOUT_SECONDS  posting time per shape and side (default 10)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

build=${BENCH_BUILD_DIR:-build-bench}
runs=${BENCH_RUNS:-3}
workloads=${BENCH_WORKLOADS:-ingest replay live many memory journal restart conversion}
quick=${BENCH_QUICK:-0}
out_dir=${BENCH_OUT:-$build/bench-results}
body=$root/tests/testdata/gettrx/customer.created.json

# Sizes (the issue's figures; BENCH_QUICK shrinks them to try the harness).
ingest_connections=${BENCH_INGEST_CONNECTIONS:-32}
ingest_seconds=10
ingest_max_requests=2000000
replay_events=200000
replay_subscribers=10
live_rate=2000
live_seconds=10
live_subscribers=10
many_subscriptions=10000
many_channels=100
many_events=50
fanout_shapes=${BENCH_FANOUT_SHAPES:-2000:10:10 200:1000:100 20:10000:100}
fanout_seconds=${BENCH_FANOUT_SECONDS:-10}
memory_events=1000000
memory_runs=${BENCH_MEMORY_RUNS:-1}
restart_events=1000000
# Live p99 at 2,000 events/s is a few scheduling stalls on shared cores:
# single runs swing 0.06-2.08x, so its median needs more runs.
live_runs=${BENCH_LIVE_RUNS:-$((runs > 5 ? runs : 5))}
if [ "$quick" = 1 ]; then
  live_runs=${BENCH_LIVE_RUNS:-$runs}
  ingest_seconds=3
  replay_events=20000
  live_seconds=3
  many_subscriptions=1000
  many_channels=10
  many_events=10
  fanout_seconds=${BENCH_FANOUT_SECONDS:-3}
  memory_events=50000
  restart_events=50000
fi

server_bin=${BENCH_SERVER_BIN:-$build/server/hookstream-server}
baseline_bin=${BENCH_BASELINE_BIN:-}
https_load=$build/bench/bench_https_load
grpc_subs=$build/bench/bench_grpc_subscribers
jetstream=$build/bench/bench_jetstream
fanout_floor=$build/bench/bench_grpc_fanout_floor

work=$(mktemp -d /tmp/hookstream-bench.XXXXXX)
journal_root=${BENCH_JOURNAL_DIR:-$work/journals}
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$out_dir"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
results=$out_dir/$stamp.jsonl
summary=$out_dir/$stamp.md
: >"$results"

log() { echo "bench: $*" >&2; }

free_port() {
  /usr/bin/python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# record WORKLOAD SIDE RUN JSON: one line of the results file.
record() {
  /usr/bin/python3 -c 'import json, sys
line = json.loads(sys.argv[4]) if sys.argv[4].strip() else {"error": "no output"}
line.update(workload=sys.argv[1], side=sys.argv[2], run=int(sys.argv[3]))
print(json.dumps(line))' "$1" "$2" "$3" "$4" >>"$results"
  log "$1/$2 run $3: $4"
}

# Stops one process this script started, by pid, and forgets it.
stop_pid() {
  local pid=$1 i
  kill "$pid" 2>/dev/null || true
  for i in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  local kept=()
  for i in "${pids[@]}"; do [ "$i" = "$pid" ] || kept+=("$i"); done
  pids=("${kept[@]}")
}

# The certificate and secret both servers use (the script `make run` uses).
./scripts/dev-setup.sh "$work/dev" >/dev/null
cert=$work/dev/tls.crt
key=$work/dev/tls.key
secret=$work/dev/signing-secret

# ---- nginx: one worker answering `return 200` on the same certificate ----
nginx_pid=
nginx_port=
start_nginx() {
  nginx_port=$(free_port)
  local dir=$work/nginx
  rm -rf "$dir"
  mkdir -p "$dir/tmp"
  cat >"$dir/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $dir/tmp/body;
  proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fastcgi;
  uwsgi_temp_path $dir/tmp/uwsgi;
  scgi_temp_path $dir/tmp/scgi;
  keepalive_requests 1000000000;
  keepalive_timeout 120s;
  client_body_buffer_size 64k;
  server {
    # The worker (the one process that serves) is the master's only child;
    # its CPU time is reported.
    listen 127.0.0.1:$nginx_port ssl;
    ssl_certificate $cert;
    ssl_certificate_key $key;
    location / {
      default_type application/json;
      return 200 '{"sequence":0,"duplicate":false}';
    }
  }
}
CONF
  nginx -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf" 2>>"$dir/error.log" &
  nginx_pid=$!
  pids+=("$nginx_pid")
  local i
  for i in $(seq 1 100); do
    if curl -sk -o /dev/null "https://127.0.0.1:$nginx_port/"; then return 0; fi
    sleep 0.1
  done
  log "nginx did not start: $(cat "$dir/error.log")"
  return 1
}
stop_nginx() { stop_pid "$nginx_pid"; }

# ---- nats-server with JetStream (memory streams) ----
nats_pid=
nats_port=
start_nats() {
  nats_port=$(free_port)
  local dir=$work/nats
  rm -rf "$dir"
  mkdir -p "$dir"
  nats-server -a 127.0.0.1 -p "$nats_port" -js -sd "$dir/store" \
    --http_port 0 >"$dir/nats.log" 2>&1 &
  nats_pid=$!
  pids+=("$nats_pid")
  local i
  for i in $(seq 1 100); do
    if grep -q "Server is ready" "$dir/nats.log"; then return 0; fi
    sleep 0.1
  done
  log "nats-server did not start: $(tail -5 "$dir/nats.log")"
  return 1
}
stop_nats() { stop_pid "$nats_pid"; }

# ---- hookstream-server ----
hs_pid=
hs_ingress=
hs_grpc=
start_hookstream() {
  local dir=$work/hs
  rm -rf "$dir"
  mkdir -p "$dir"
  # A baseline build (hs_bin) may predate the admin listener and its flag.
  local admin=(--admin_address=127.0.0.1:0)
  [ -n "${hs_bin:-}" ] && admin=()
  "${hs_bin:-$server_bin}" --ingress_address=127.0.0.1:0 --grpc_address=127.0.0.1:0 "${admin[@]}" \
    --tls_cert="$cert" --tls_key="$key" --signing_secret_file="$secret" \
    --ready_file="$dir/ready.json" --log_level=warning "$@" \
    >"$dir/server.log" 2>&1 &
  hs_pid=$!
  pids+=("$hs_pid")
  local i
  for i in $(seq 1 300); do
    if [ -s "$dir/ready.json" ]; then
      hs_ingress=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["ingress_port"])' "$dir/ready.json")
      hs_grpc=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["grpc_port"])' "$dir/ready.json")
      return 0
    fi
    kill -0 "$hs_pid" 2>/dev/null || break
    sleep 0.1
  done
  log "hookstream-server did not start: $(tail -5 "$dir/server.log")"
  return 1
}
stop_hookstream() { stop_pid "$hs_pid"; }
# A ring that never evicts during a workload: eviction is not what is measured.
big_ring=(--ring_max_events=2000000 --ring_max_bytes=8589934592
          --dedup_max_ids=4000000)

# ingest_load PORT LABEL [extra flags]: the closed-loop POST load.
ingest_load() {
  local port=$1 label=$2
  shift 2
  "$https_load" --port="$port" --body_file="$body" --secret_file="$secret" \
    --ca_file="$cert" --connections=$ingest_connections \
    --requests=$ingest_max_requests --duration=${ingest_seconds}s \
    --label="$label" "$@" || true
}

# fill PORT N: N unique signed events through the ingress (no time limit
# beyond 20 minutes).
fill() {
  "$https_load" --port="$1" --body_file="$body" --secret_file="$secret" \
    --ca_file="$cert" --connections=32 --requests="$2" --duration=1200s \
    --pregenerate=0 --label=fill || true
}

have_server() {
  if [ -x "$server_bin" ]; then return 0; fi
  log "no $server_bin: hookstream sides skipped"
  return 1
}

# ---------------------------------------------------------------- workloads
workload_ingest() {
  local r
  for r in $(seq 1 "$runs"); do
    if start_nginx; then
      record ingest nginx "$r" "$(ingest_load "$nginx_port" nginx \
        --server_pid="$(pgrep -P "$nginx_pid" | head -1 || echo 0)")"
      stop_nginx
    fi
    have_server || continue
    if [ -n "$baseline_bin" ] &&
       hs_bin=$baseline_bin start_hookstream "${big_ring[@]}"; then
      record ingest hookstream_baseline "$r" "$(ingest_load "$hs_ingress" \
        hookstream_baseline --server_pid="$hs_pid")"
      stop_hookstream
    fi
    start_hookstream "${big_ring[@]}" || continue
    record ingest hookstream "$r" "$(ingest_load "$hs_ingress" hookstream \
      --server_pid="$hs_pid")"
    stop_hookstream
    # The same load with 10 live subscribers attached.
    start_hookstream "${big_ring[@]}" || continue
    rm -f "$work/tail.ready"
    # Default subscriptions (no raw_json), for the load plus a margin; the
    # tool ends by itself and prints what its subscribers received.
    "$grpc_subs" --mode=tail --target="127.0.0.1:$hs_grpc" \
      --subscribers=$live_subscribers --include_raw_json=false \
      --duration=$((ingest_seconds + 3))s \
      --ready_file="$work/tail.ready" --label=tail >"$work/tail.json" &
    local tail_pid=$!
    pids+=("$tail_pid")
    local i
    for i in $(seq 1 300); do [ -s "$work/tail.ready" ] && break; sleep 0.1; done
    record ingest hookstream_10subs "$r" \
      "$(ingest_load "$hs_ingress" hookstream_10subs --server_pid="$hs_pid")"
    for i in $(seq 1 300); do kill -0 "$tail_pid" 2>/dev/null || break; sleep 0.1; done
    stop_pid "$tail_pid"
    record ingest tail_subscribers "$r" "$(cat "$work/tail.json")"
    stop_hookstream
  done
}

workload_replay() {
  local r hs_ready=0
  if have_server && start_hookstream "${big_ring[@]}"; then
    record replay fill 0 "$(fill "$hs_ingress" $replay_events)"
    record replay info 0 "$("$grpc_subs" --mode=info \
      --target="127.0.0.1:$hs_grpc" --server_pid="$hs_pid" --label=info || true)"
    hs_ready=1
  fi
  for r in $(seq 1 "$runs"); do
    if start_nats; then
      record replay jetstream "$r" "$("$jetstream" --mode=replay \
        --url="nats://127.0.0.1:$nats_port" --body_file="$body" \
        --messages=$replay_events --consumers=$replay_subscribers \
        --timeout=300s --server_pid="$nats_pid" --label=jetstream || true)"
      stop_nats
    fi
    [ $hs_ready = 1 ] || continue
    record replay hookstream "$r" "$("$grpc_subs" --mode=replay \
      --target="127.0.0.1:$hs_grpc" --subscribers=$replay_subscribers \
      --expect=$replay_events --timeout=300s --server_pid="$hs_pid" \
      --label=hookstream || true)"
  done
  [ $hs_ready = 1 ] && stop_hookstream
  # The same replay from the baseline build, filled the same way.
  if [ -n "$baseline_bin" ] &&
     hs_bin=$baseline_bin start_hookstream "${big_ring[@]}"; then
    record replay baseline_fill 0 "$(fill "$hs_ingress" $replay_events)"
    for r in $(seq 1 "$runs"); do
      record replay hookstream_baseline "$r" "$("$grpc_subs" --mode=replay \
        --target="127.0.0.1:$hs_grpc" --subscribers=$replay_subscribers \
        --expect=$replay_events --timeout=300s --server_pid="$hs_pid" \
        --label=hookstream_baseline || true)"
    done
    stop_hookstream
  fi
  return 0
}

workload_live() {
  local r
  for r in $(seq 1 "$live_runs"); do
    if start_nats; then
      record live jetstream "$r" "$("$jetstream" --mode=live \
        --url="nats://127.0.0.1:$nats_port" --body_file="$body" \
        --consumers=$live_subscribers --rate=$live_rate \
        --duration=${live_seconds}s --server_pid="$nats_pid" \
        --label=jetstream || true)"
      stop_nats
    fi
    have_server || continue
    start_hookstream "${big_ring[@]}" || continue
    record live hookstream "$r" "$("$grpc_subs" --mode=live \
      --target="127.0.0.1:$hs_grpc" --ingress_port="$hs_ingress" \
      --body_file="$body" --secret_file="$secret" \
      --subscribers=$live_subscribers --rate=$live_rate --post_connections=32 \
      --duration=${live_seconds}s --server_pid="$hs_pid" \
      --label=hookstream || true)"
    stop_hookstream
  done
}

workload_many() {
  local r
  for r in $(seq 1 "$runs"); do
    # The floor: a trivial callback server writing one pre-serialized event
    # to the same number of streams, with the same client.
    if [ -x "$fanout_floor" ]; then
      record many floor "$r" "$("$fanout_floor" \
        --streams=$many_subscriptions --channels=$many_channels \
        --events=$many_events --body_file="$body" --label=floor || true)"
    fi
    have_server || continue
    start_hookstream "${big_ring[@]}" || continue
    record many hookstream "$r" "$("$grpc_subs" --mode=many \
      --target="127.0.0.1:$hs_grpc" --ingress_port="$hs_ingress" \
      --body_file="$body" --secret_file="$secret" \
      --subscriptions=$many_subscriptions --channels=$many_channels \
      --include_raw_json=false \
      --events=$many_events --server_pid="$hs_pid" --label=hookstream || true)"
    stop_hookstream
  done
}

# Live fan-out at each shape RATE:SUBSCRIBERS:CONNECTIONS, three servers
# in the same run: the gRPC floor (bench_grpc_fanout_floor --mode=live: a
# trivial server writing one pre-serialized event per message), hookstream
# (posts through the HTTPS ingress, subscribers over shared channels) and
# JetStream (ordered consumers over shared connections). Like with like:
# every side carries the ~500-byte event without raw_json. The ingest share
# is measured apart: hookstream with the same posts and no subscriber,
# nats-server with the same publishes and no consumer; summarize.py
# subtracts it.
workload_fanout() {
  local r shape rate subs conns side
  for r in $(seq 1 "$runs"); do
    for shape in $fanout_shapes; do
      IFS=: read -r rate subs conns <<<"$shape"
      side="${rate}x${subs}x${conns}"
      if [ -x "$fanout_floor" ]; then
        record fanout "floor:$side" "$r" "$("$fanout_floor" --mode=live \
          --streams="$subs" --channels="$conns" --rate="$rate" \
          --duration=${fanout_seconds}s --body_file="$body" \
          --label=floor || true)"
      fi
      if [ -x "$jetstream" ] && start_nats; then
        record fanout "jetstream_publish:$side" "$r" "$("$jetstream" \
          --mode=live --url="nats://127.0.0.1:$nats_port" --body_file="$body" \
          --include_raw_json=false --consumers=0 --rate="$rate" \
          --duration=${fanout_seconds}s --server_pid="$nats_pid" \
          --label=jetstream_publish || true)"
        stop_nats
      fi
      if [ -x "$jetstream" ] && start_nats; then
        record fanout "jetstream:$side" "$r" "$("$jetstream" --mode=live \
          --url="nats://127.0.0.1:$nats_port" --body_file="$body" \
          --include_raw_json=false --consumers="$subs" --connections="$conns" \
          --rate="$rate" --duration=${fanout_seconds}s \
          --server_pid="$nats_pid" --timeout=300s \
          --label=jetstream || true)"
        stop_nats
      fi
      have_server || continue
      start_hookstream "${big_ring[@]}" || continue
      record fanout "hookstream_ingest:$side" "$r" "$("$grpc_subs" \
        --mode=fanout --target="127.0.0.1:$hs_grpc" \
        --ingress_port="$hs_ingress" --body_file="$body" \
        --secret_file="$secret" --subscriptions=0 --rate="$rate" \
        --duration=${fanout_seconds}s --server_pid="$hs_pid" \
        --label=hookstream_ingest || true)"
      stop_hookstream
      start_hookstream "${big_ring[@]}" || continue
      record fanout "hookstream:$side" "$r" "$("$grpc_subs" --mode=fanout \
        --target="127.0.0.1:$hs_grpc" --ingress_port="$hs_ingress" \
        --body_file="$body" --secret_file="$secret" \
        --subscriptions="$subs" --channels="$conns" \
        --include_raw_json=false --rate="$rate" \
        --duration=${fanout_seconds}s --server_pid="$hs_pid" \
        --label=hookstream || true)"
      stop_hookstream
    done
  done
}

workload_memory() {
  local r
  have_server || return 0
  for r in $(seq 1 "$memory_runs"); do
    start_hookstream --ring_max_events=$memory_events \
      --ring_max_bytes=17179869184 --dedup_max_ids=$((memory_events * 2)) ||
      continue
    record memory fill "$r" "$(fill "$hs_ingress" $memory_events)"
    sleep 2
    record memory hookstream "$r" "$("$grpc_subs" --mode=info \
      --target="127.0.0.1:$hs_grpc" --server_pid="$hs_pid" --label=hookstream || true)"
    stop_hookstream
  done
}

# The durable backend: the ingest load of workload 1 against the memory
# backend, the journal with --journal_sync=fsync and with none, one after the
# other in each run, each journal fresh.
workload_journal() {
  local r mode
  have_server || return 0
  for r in $(seq 1 "$runs"); do
    start_hookstream "${big_ring[@]}" || continue
    record journal memory "$r" "$(ingest_load "$hs_ingress" memory \
      --server_pid="$hs_pid")"
    stop_hookstream
    for mode in fsync none; do
      rm -rf "$journal_root/ingest"
      start_hookstream "${big_ring[@]}" --backend=journal \
        --journal_dir="$journal_root/ingest" --journal_sync=$mode || continue
      record journal "$mode" "$r" "$(ingest_load "$hs_ingress" "$mode" \
        --server_pid="$hs_pid")"
      stop_hookstream
    done
  done
  rm -rf "$journal_root/ingest"
}

# The scale-out backend: the ingest load of workload 1 against the memory
# backend, then --backend=jetstream on a fresh single nats-server (R1), one
# after the other in each run. nats-server's default max_payload (1 MB)
# holds events up to --max_event_bytes=1000000. The CPU per request is the
# hookstream server's; nats-server's is not measured here.
workload_jetstream() {
  local r
  have_server || return 0
  command -v nats-server >/dev/null || { log "no nats-server: skipped"; return 0; }
  for r in $(seq 1 "$runs"); do
    start_hookstream "${big_ring[@]}" || continue
    record jetstream memory "$r" "$(ingest_load "$hs_ingress" memory \
      --server_pid="$hs_pid")"
    stop_hookstream
    rm -rf "$work/nats"
    start_nats || continue
    if start_hookstream "${big_ring[@]}" --backend=jetstream \
        --nats_url="nats://127.0.0.1:$nats_port" --max_event_bytes=1000000; then
      record jetstream r1 "$r" "$(ingest_load "$hs_ingress" r1 \
        --server_pid="$hs_pid")"
      stop_hookstream
    fi
    stop_nats
    # Live latency through JetStream (issue 10: p50 <= 1 ms): the load of
    # workload 3 (POST -> subscriber at live_rate x live_subscribers) against
    # hookstream on a fresh nats-server, beside JetStream's own direct
    # publish -> ordered consumer on another fresh one (workload 3's peer).
    rm -rf "$work/nats"
    if start_nats; then
      record jetstream live_peer "$r" "$("$jetstream" --mode=live \
        --url="nats://127.0.0.1:$nats_port" --body_file="$body" \
        --consumers=$live_subscribers --rate=$live_rate \
        --duration=${live_seconds}s --server_pid="$nats_pid" \
        --label=jetstream || true)"
      stop_nats
    fi
    rm -rf "$work/nats"
    start_nats || continue
    if start_hookstream "${big_ring[@]}" --backend=jetstream \
        --nats_url="nats://127.0.0.1:$nats_port" --max_event_bytes=1000000; then
      record jetstream live_r1 "$r" "$("$grpc_subs" --mode=live \
        --target="127.0.0.1:$hs_grpc" --ingress_port="$hs_ingress" \
        --body_file="$body" --secret_file="$secret" \
        --subscribers=$live_subscribers --rate=$live_rate --post_connections=32 \
        --duration=${live_seconds}s --server_pid="$hs_pid" \
        --label=hookstream_jetstream || true)"
      stop_hookstream
    fi
    stop_nats
  done
}

# A restart with restart_events journaled events of about 1 KB: seconds from
# exec until both listeners serve (the ready file is written after both
# are up), with a warm page cache and, when this machine lets us drop it,
# a cold one; RSS after recovery and while journaling, against the bytes
# the ring holds.
workload_restart() {
  have_server || return 0
  local dir=$journal_root/restart r
  rm -rf "$dir"
  local flags=(--ring_max_events=$((restart_events * 2))
               --ring_max_bytes=17179869184
               --dedup_max_ids=$((restart_events * 2))
               --backend=journal --journal_dir="$dir")
  start_hookstream "${flags[@]}" || return 0
  record restart fill 0 "$(fill "$hs_ingress" $restart_events)"
  sleep 2
  record restart journaling 0 "$("$grpc_subs" --mode=info \
    --target="127.0.0.1:$hs_grpc" --server_pid="$hs_pid" --label=journaling || true)"
  stop_hookstream
  record restart disk 0 "{\"journal_bytes\": $(du -sb "$dir" | cut -f1)}"
  for r in $(seq 1 "$runs"); do
    local cache
    for cache in warm cold; do
      if [ $cache = cold ]; then
        sync
        if ! echo 3 2>/dev/null >/proc/sys/vm/drop_caches; then
          log "restart: cannot drop the page cache here; cold skipped"
          continue
        fi
      fi
      local t0
      t0=$(date +%s.%N)
      start_hookstream "${flags[@]}" || continue
      # Until the ready file was written: both listeners serve by then.
      record restart "${cache}_seconds" "$r" "$(/usr/bin/python3 -c '
import json, os, sys
ready = os.stat(sys.argv[1]).st_mtime
print(json.dumps({"seconds": round(ready - float(sys.argv[2]), 3)}))' \
        "$work/hs/ready.json" "$t0")"
      record restart "$cache" "$r" "$("$grpc_subs" --mode=info \
        --target="127.0.0.1:$hs_grpc" --server_pid="$hs_pid" \
        --label=$cache || true)"
      stop_hookstream
    done
  done
  rm -rf "$dir"
}

workload_conversion() {
  local name
  for name in conversion_bench signature_bench ring_bench; do
    [ -x "$build/bench/$name" ] || continue
    "$build/bench/$name" --benchmark_repetitions="$runs" \
      --benchmark_report_aggregates_only=true --benchmark_format=json \
      --benchmark_min_time=1 >"$work/$name.json" 2>/dev/null || true
    /usr/bin/python3 - "$work/$name.json" "$name" >>"$results" <<'PY'
import json, sys
data = json.load(open(sys.argv[1]))
for b in data.get("benchmarks", []):
    if b.get("aggregate_name") != "median":
        continue
    print(json.dumps({"workload": "conversion", "side": sys.argv[2], "run": 0,
                      "label": b["run_name"],
                      "ns_per_op": b["real_time"] if b["time_unit"] == "ns" else None,
                      "items_per_s": b.get("items_per_second")}))
PY
  done
  log "conversion: medians of $runs repetitions recorded"
}

log "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)"
log "load before: $(cut -d' ' -f1-3 /proc/loadavg); results in $results"
echo "{\"workload\":\"machine\",\"side\":\"-\",\"run\":0,\"nproc\":$(nproc),\"cpu\":\"$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')\",\"loadavg_before\":\"$(cut -d' ' -f1-3 /proc/loadavg)\",\"quick\":$quick,\"runs\":$runs}" >>"$results"
for w in $workloads; do
  log "workload $w"
  "workload_$w"
done
echo "{\"workload\":\"machine\",\"side\":\"after\",\"run\":0,\"loadavg_after\":\"$(cut -d' ' -f1-3 /proc/loadavg)\"}" >>"$results"

/usr/bin/python3 bench/summarize.py "$results" | tee "$summary"
log "results: $results and $summary"
