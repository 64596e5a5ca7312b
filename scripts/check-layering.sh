#!/usr/bin/env bash
# Fails when an #include breaks one of the dependency arrows in
# docs/architecture.md. Run as a ctest (tests/layering), which also runs it
# against trees made to break each rule (tests/layering/self_test.sh).
#
# Fails closed: a root without the expected folders, or a common/ folder
# that no rule below names, is an error, never "all arrows hold".
set -euo pipefail
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$root"
status=0

for dir in common/base common/store common/ring server/ingress \
           server/distribution client protos; do
  if [ ! -d "$dir" ]; then
    echo "layering: $root has no $dir: not a hookstream tree"
    exit 2
  fi
done

# includes DIR PATTERN: the #include lines under DIR matching PATTERN.
includes() {
  grep -rEn --include='*.h' --include='*.cc' "^#include [\"<]($2)" "$1" || true
}

# forbid DIR PATTERN WHY: no file under DIR may include a header matching PATTERN.
forbid() {
  local dir=$1 pattern=$2 why=$3
  [ -d "$dir" ] || return 0
  local hits
  hits=$(includes "$dir" "$pattern")
  if [ -n "$hits" ]; then
    echo "layering: $why"
    echo "$hits" | sed 's/^/  /'
    status=1
  fi
}

# The folders of common/ and what each may include of common/ (besides
# itself). Everything else is forbidden, so a new folder must be added here.
declare -A common_deps=(
  [base]=""
  [store]="base"
  [config]="base"
  [conversion]="base"
  [signature]="base"
  [ring]="base store"
  [backend]="base store ring"
  [journal]="base store ring"
  [metrics]=""
  [jetstream]="base store ring"
)
for path in common/*/; do
  sib=$(basename "$path")
  if [ -z "${common_deps[$sib]+set}" ]; then
    echo "layering: common/$sib is not in check-layering.sh's table of folders"
    status=1
    continue
  fi
  allowed="$sib ${common_deps[$sib]}"
  hits=$(includes "common/$sib" 'common/' |
         grep -vE "#include [\"<]common/($(echo $allowed | tr ' ' '|'))/" || true)
  if [ -n "$hits" ]; then
    echo "layering: common/$sib may include only common/{${allowed// /,}}"
    echo "$hits" | sed 's/^/  /'
    status=1
  fi
done

forbid common 'server/|client/' "common/ never includes server/ or client/"
# The storage seam: ingress sees only the write side, distribution only the
# read side; only the composition root (server/server.cc) picks a backend.
forbid server/ingress 'common/(ring|backend|journal|jetstream)/|common/store/event_reader' \
  "ingress depends only on the write side of the seam (common/store/event_appender.h)"
forbid server/distribution 'common/(ring|backend|journal|jetstream)/|common/store/event_appender' \
  "distribution depends only on the read side of the seam (common/store/event_reader.h)"
forbid server/ingress 'server/distribution/' "ingress and distribution never include each other"
forbid server/distribution 'server/ingress/' "ingress and distribution never include each other"
forbid client 'server/|common/(ring|backend|journal|jetstream)/' "the client never includes the server or a backend"
forbid protos 'common/|server/|client/' "protos include nothing of ours"
forbid common 'boost/(beast|asio)|grpcpp/' "Beast/Asio and the gRPC API stay out of common/"
forbid server/distribution 'boost/' "Beast/Asio only in server/ingress and server/admin"
# The admin listener serves what the composition root hands it.
forbid server/admin 'server/(ingress|distribution)/|common/(ring|backend|journal|store)/' \
  "server/admin knows no part of hookstream (the root supplies its routes)"
forbid server/ingress 'grpcpp/' "the gRPC server API only in server/distribution"
# server/auth decides who may read what; gRPC glue is in distribution.
forbid server/auth 'grpcpp/|grpc/|boost/|server/(ingress|distribution)/|common/(ring|backend|journal|store)/' \
  "server/auth holds no gRPC, Beast or storage: its glue is server/distribution/call_auth"
forbid server/ingress 'server/auth/' "the ingress has no gRPC identities"
forbid client 'boost/' "no Beast/Asio in the client"
forbid common/ring 'nlohmann/|simdjson|openssl/' "the ring is free of JSON and OpenSSL"
forbid common/store 'nlohmann/|simdjson|openssl/' "the seam is free of JSON and OpenSSL"

# OpenSSL only in common/signature/crypto.cc and server/ingress/tls_context.cc.
hits=$(grep -rlE --include='*.h' --include='*.cc' '^#include [<"]openssl/' common server 2>/dev/null |
       grep -vE '^(common/signature/crypto\.cc|server/ingress/tls_context\.cc)$' || true)
if [ -n "$hits" ]; then
  echo "layering: OpenSSL is included outside crypto.cc and tls_context.cc:"
  echo "$hits" | sed 's/^/  /'
  status=1
fi
# nats.c only in common/jetstream (the JetStream backend).
hits=$(grep -rlE --include='*.h' --include='*.cc' '^#include [<"]nats(/nats)?\.h' common server client 2>/dev/null |
       grep -v '^common/jetstream/' || true)
if [ -n "$hits" ]; then
  echo "layering: nats.c is included outside common/jetstream:"
  echo "$hits" | sed 's/^/  /'
  status=1
fi
# JSON parsers (simdjson, nlohmann/json) only in common/conversion, and the
# access file's reader (server/auth/access_policy.cc: a config file, not
# webhook input).
hits=$(grep -rlE --include='*.h' --include='*.cc' '^#include [<"](nlohmann/|simdjson)' common server client 2>/dev/null |
       grep -vE '^(common/conversion/|server/auth/access_policy\.cc$)' || true)
if [ -n "$hits" ]; then
  echo "layering: a JSON parser is included outside common/conversion:"
  echo "$hits" | sed 's/^/  /'
  status=1
fi

if [ $status -eq 0 ]; then echo "layering: all arrows hold"; fi
exit $status
