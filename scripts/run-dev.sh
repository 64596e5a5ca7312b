#!/usr/bin/env bash
# `make run`: starts hookstream-server in the foreground on development
# defaults — HTTPS ingress on 127.0.0.1:8443 with a self-signed certificate,
# gRPC on 127.0.0.1:50051 (plaintext, loopback only), events kept in memory
# unless the arguments (make run ARGS="...") choose the journal.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build-release}

./scripts/dev-setup.sh var/dev

cat <<TXT

hookstream (development mode)
  ingress  https://127.0.0.1:8443/v1/webhooks/gettrx  (certificate var/dev/tls.crt)
  gRPC     127.0.0.1:50051  (plaintext on loopback)
  secret   var/dev/signing-secret
  storage  ${*:-in memory (a restart loses events; make run ARGS="--backend=journal --journal_dir=var/journal" keeps them)}

In another terminal:
  $build/client/hookstream tail --from oldest
  $build/client/hookstream send tests/testdata/gettrx/customer.created.json

Ctrl-C stops the server.

TXT
exec "$build/server/hookstream-server" \
  --ingress_address=127.0.0.1:8443 \
  --grpc_address=127.0.0.1:50051 \
  --tls_cert=var/dev/tls.crt --tls_key=var/dev/tls.key \
  --signing_secret_file=var/dev/signing-secret \
  "$@"
