#!/usr/bin/env bash
# Fails when an #include breaks one of the dependency arrows in
# docs/architecture.md. Run as a ctest (tests/layering).
set -uo pipefail
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$root"
status=0

# forbid DIR PATTERN WHY: no file under DIR may include a header matching PATTERN.
forbid() {
  local dir=$1 pattern=$2 why=$3
  [ -d "$dir" ] || return 0
  local hits
  hits=$(grep -rEn --include='*.h' --include='*.cc' "^#include [\"<]($pattern)" "$dir" || true)
  if [ -n "$hits" ]; then
    echo "layering: $why"
    echo "$hits" | sed 's/^/  /'
    status=1
  fi
}

forbid common 'server/|client/' "common/ never includes server/ or client/"
for sib in config ring conversion signature; do
  others=$(echo config ring conversion signature | tr ' ' '\n' | grep -vx "$sib" | sed 's|^|common/|; s|$|/|' | paste -sd'|')
  forbid "common/$sib" "$others" "common/$sib depends only on common/base and protos"
done
forbid server/ingress 'server/distribution/' "ingress and distribution meet only at the ring"
forbid server/distribution 'server/ingress/' "ingress and distribution meet only at the ring"
forbid client 'server/' "the client never includes the server"
forbid protos 'common/|server/|client/' "protos include nothing of ours"
forbid common 'boost/|grpcpp/' "Beast/Asio and the gRPC API stay out of common/"
forbid server/distribution 'boost/' "Beast/Asio only in server/ingress"
forbid server/ingress 'grpcpp/' "the gRPC server API only in server/distribution"
forbid client 'boost/' "no Beast/Asio in the client"
forbid common/ring 'nlohmann/|simdjson|openssl/' "the ring is free of JSON and OpenSSL"

# OpenSSL only in common/signature/crypto.cc and server/ingress/tls_context.cc.
hits=$(grep -rlE --include='*.h' --include='*.cc' '^#include [<"]openssl/' common server 2>/dev/null |
       grep -vE '^(common/signature/crypto\.cc|server/ingress/tls_context\.cc)$' || true)
if [ -n "$hits" ]; then
  echo "layering: OpenSSL is included outside crypto.cc and tls_context.cc:"
  echo "$hits" | sed 's/^/  /'
  status=1
fi
# JSON parsers (simdjson, nlohmann/json) only in common/conversion.
hits=$(grep -rlE --include='*.h' --include='*.cc' '^#include [<"](nlohmann/|simdjson)' common server client 2>/dev/null |
       grep -v '^common/conversion/' || true)
if [ -n "$hits" ]; then
  echo "layering: a JSON parser is included outside common/conversion:"
  echo "$hits" | sed 's/^/  /'
  status=1
fi

[ $status -eq 0 ] && echo "layering: all arrows hold"
exit $status
