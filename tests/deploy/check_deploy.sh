#!/usr/bin/env bash
# Checks the deployment files that nothing else runs here (no Docker engine,
# no systemd as PID 1): the example alert rules and the Prometheus config
# with promtool, the systemd unit with systemd-analyze verify (against the
# built binary), the compose file's YAML, and that the Dockerfile's
# HEALTHCHECK asks /readyz on the admin port it exposes.
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
