#!/usr/bin/env bash
# `make run`: starts hookstream-server in the foreground on development
# defaults — HTTPS ingress on 127.0.0.1:8443 with a self-signed certificate,
# gRPC on 127.0.0.1:50051 (plaintext, loopback only), events kept in memory
# unless the arguments (make run ARGS="...") choose the journal.
# The development certificate and signing secret live in a per-user folder
# (not relative to any directory), where `hookstream send`/`trigger` find
# them from anywhere: $HOOKSTREAM_DEV_DIR, else $XDG_CONFIG_HOME/hookstream/dev,
# else ~/.config/hookstream/dev.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build-release}
dev=${HOOKSTREAM_DEV_DIR:-${XDG_CONFIG_HOME:-$HOME/.config}/hookstream/dev}

./scripts/dev-setup.sh "$dev"

cat <<TXT

hookstream (development mode)
  ingress  https://127.0.0.1:8443/v1/webhooks/gettrx  (certificate $dev/tls.crt)
  gRPC     127.0.0.1:50051  (plaintext on loopback)
  admin    http://127.0.0.1:9090/  (dashboard; /metrics, /healthz, /readyz)
  secret   $dev/signing-secret
  storage  ${*:-in memory (a restart loses events; make run ARGS="--backend=journal --journal_dir=var/journal" keeps them)}

In another terminal (from any directory):
  $PWD/$build/client/hookstream tail --from oldest
  $PWD/$build/client/hookstream trigger customer.created
  $PWD/$build/client/hookstream send $PWD/tests/testdata/gettrx/refund.pending.json

Ctrl-C stops the server.

TXT
exec "$build/server/hookstream-server" \
  --ingress_address=127.0.0.1:8443 \
  --grpc_address=127.0.0.1:50051 \
  --admin_address=127.0.0.1:9090 \
  --tls_cert="$dev/tls.crt" --tls_key="$dev/tls.key" \
  --signing_secret_file="$dev/signing-secret" \
  "$@"
