#!/usr/bin/env bash
# Creates, on first run only, what `make run` needs in DIR (default: the
# per-user development folder scripts/run-dev.sh uses, where the `hookstream`
# CLI looks): a self-signed development certificate for 127.0.0.1/localhost
# and a random signing secret.
# Never used for production: bring your own certificate and secret there.
set -euo pipefail
dir=${1:-${HOOKSTREAM_DEV_DIR:-${XDG_CONFIG_HOME:-$HOME/.config}/hookstream/dev}}
mkdir -p "$dir"
chmod 700 "$dir"

if [ ! -s "$dir/tls.crt" ] || [ ! -s "$dir/tls.key" ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -days 365 -subj "/CN=localhost" \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1" \
    -keyout "$dir/tls.key" -out "$dir/tls.crt" 2>/dev/null
  chmod 600 "$dir/tls.key"
  echo "dev-setup: created a self-signed development certificate: $dir/tls.crt, $dir/tls.key"
fi

if [ ! -s "$dir/signing-secret" ]; then
  (umask 077 && openssl rand -hex 32 > "$dir/signing-secret")
  echo "dev-setup: created a random signing secret: $dir/signing-secret"
fi
