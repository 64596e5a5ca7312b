#!/usr/bin/env bash
# Checks the deployment files that nothing else runs here (no Docker engine,
# no systemd as PID 1): the example alert rules and the Prometheus config
# with promtool, the systemd unit with systemd-analyze verify (against the
# built binary), the compose file's YAML, and that the Dockerfile's
# HEALTHCHECK asks /readyz on the admin port it exposes; the JetStream
# variant (deploy/compose.jetstream.yaml): its services, routes, volumes and
# flags, its Prometheus config, and deploy/nats/nats.conf with each node's
# environment through `nats-server -t` (the file scripts/run-cluster.sh
# runs a real cluster with).
# Usage: check_deploy.sh SOURCE_DIR PROMTOOL SERVER_BIN
set -euo pipefail
src=$1 promtool=$2 server_bin=$3
fail() { echo "check_deploy: $*" >&2; exit 1; }

[ -x "$promtool" ] || fail "no promtool at $promtool (scripts/install-deps.sh unpacks it)"
"$promtool" check rules "$src/deploy/prometheus/alerts.yml" >/dev/null ||
  fail "promtool check rules deploy/prometheus/alerts.yml"
# promtool checks that the files the scrape config names exist: stand-ins
# for the container's /etc/hookstream (the CA and the admin token).
cfg=$(mktemp -d)
trap 'rm -rf "$cfg"' EXIT
touch "$cfg/tls.crt" "$cfg/admin-token"
cp "$src/deploy/prometheus/alerts.yml" "$cfg/"
sed "s|/etc/hookstream/|$cfg/|g" "$src/deploy/prometheus/prometheus.yml" > "$cfg/prometheus.yml"
"$promtool" check config "$cfg/prometheus.yml" >/dev/null ||
  fail "promtool check config deploy/prometheus/prometheus.yml"

/usr/bin/python3 - "$src/deploy/compose.yaml" <<'PY' || fail "deploy/compose.yaml"
import sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
assert set(doc["services"]) == {"hookstream", "prometheus"}, doc["services"]
assert "9090" in " ".join(doc["services"]["hookstream"]["ports"])
PY

sed "s|/etc/hookstream/|$cfg/|g" "$src/deploy/prometheus/prometheus.jetstream.yml" \
  > "$cfg/prometheus.jetstream.yml"
"$promtool" check config "$cfg/prometheus.jetstream.yml" >/dev/null ||
  fail "promtool check config deploy/prometheus/prometheus.jetstream.yml"
# Prints one line of NAME=VALUE environment per NATS node.
nats_envs=$(/usr/bin/python3 - "$src/deploy/compose.jetstream.yaml" \
    "$src/deploy/prometheus/prometheus.jetstream.yml" <<'PY'
import sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
services = doc["services"]
nats = ["nats-1", "nats-2", "nats-3"]
replicas = ["hookstream-a", "hookstream-b"]
assert set(services) == set(nats + replicas + ["prometheus"]), sorted(services)
names = set()
for n in nats:
    s = services[n]
    assert s["image"].startswith("nats:2."), s["image"]
    assert s["command"] == ["-c", "/etc/nats/nats.conf"], s["command"]
    assert "./nats/nats.conf:/etc/nats/nats.conf:ro" in s["volumes"], n
    env = s["environment"]
    names.add(env["NATS_SERVER_NAME"])
    store = [v for v in s["volumes"] if v.endswith(":" + env["NATS_STORE_DIR"])]
    assert len(store) == 1 and store[0].split(":")[0] in doc["volumes"], \
        f"{n}: its JetStream store_dir must be a named volume"
    client_port = env["NATS_LISTEN"].rsplit(":", 1)[1]
    route_port = env["NATS_CLUSTER_LISTEN"].rsplit(":", 1)[1]
    routes = yaml.safe_load(env["NATS_ROUTES"])
    assert sorted(routes) == [f"nats://{m}:{route_port}" for m in nats], \
        f"{n}: routes must name every node: {routes}"
    print(" ".join(f"{k}={v.replace(' ', '')}" for k, v in sorted(env.items())
                   if k != "NATS_STORE_DIR"))
assert len(names) == 3, f"server_name must differ per node: {names}"
urls = ",".join(f"nats://{m}:{client_port}" for m in nats)
for r in replicas:
    flags = services[r]["command"]
    assert "--backend=jetstream" in flags, (r, flags)
    assert f"--nats_url={urls}" in flags, (r, flags)
    assert "--nats_replicas=3" in flags, (r, flags)
    assert set(services[r]["depends_on"]) == set(nats), r
    assert any(p.endswith(":9090") for p in services[r]["ports"]), r
prom = services["prometheus"]
assert "--config.file=/etc/prometheus/prometheus.jetstream.yml" in prom["command"]
scrape = yaml.safe_load(open(sys.argv[2]))["scrape_configs"][0]
targets = scrape["static_configs"][0]["targets"]
assert sorted(targets) == [f"{r}:9090" for r in replicas], targets
assert scrape["job_name"] == "hookstream"
PY
) || fail "deploy/compose.jetstream.yaml"
grep -q 'deploy/nats/nats.conf' "$src/scripts/run-cluster.sh" ||
  fail "scripts/run-cluster.sh must run deploy/nats/nats.conf (one NATS config)"
if command -v nats-server >/dev/null; then
  set -f  # the routes' brackets are no glob
  while read -r env_line; do
    # shellcheck disable=SC2086  # one NAME=VALUE word per variable
    out=$(env $env_line NATS_STORE_DIR="$cfg/store" \
      nats-server -t -c "$src/deploy/nats/nats.conf" 2>&1) ||
      fail "nats-server -t deploy/nats/nats.conf ($env_line): $out"
  done <<< "$nats_envs"
  set +f
else
  echo "check_deploy: nats-server not installed; nats.conf not tested" >&2
fi

grep -A1 '^HEALTHCHECK' "$src/Dockerfile" | grep -q 'https://127.0.0.1:9090/readyz' ||
  fail "Dockerfile: HEALTHCHECK through /readyz"
grep -q '^EXPOSE .*9090' "$src/Dockerfile" || fail "Dockerfile: EXPOSE 9090"
grep -q 'HOOKSTREAM_ADMIN_ADDRESS=0.0.0.0:9090' "$src/Dockerfile" ||
  fail "Dockerfile: the admin listener must listen beyond the container"
grep -q 'HOOKSTREAM_ADMIN_TOKEN_FILE=' "$src/Dockerfile" ||
  fail "Dockerfile: off loopback the admin listener needs a token (and TLS)"

if command -v systemd-analyze >/dev/null; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp" "$cfg"' EXIT
  sed "s|/usr/local/bin/hookstream-server|$server_bin|" \
    "$src/deploy/systemd/hookstream.service" > "$tmp/hookstream.service"
  out=$(systemd-analyze verify "$tmp/hookstream.service" 2>&1) ||
    fail "systemd-analyze verify: $out"
  [ -z "$out" ] || fail "systemd-analyze verify: $out"
else
  echo "check_deploy: systemd-analyze not installed; unit not verified" >&2
fi
echo "check_deploy: ok"
