#!/usr/bin/env bash
# Proves that scripts/check-layering.sh fails when an arrow is broken: builds
# a minimal tree that passes, then breaks one rule at a time and expects a
# failure naming it. Also: a wrong root is an error, never a pass.
set -euo pipefail
script=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fresh_tree() {
  rm -rf "$work/t"
  for d in common/base common/store common/ring common/backend server/ingress \
           server/distribution client protos; do
    mkdir -p "$work/t/$d"
  done
  echo '#include "common/base/clock.h"' > "$work/t/common/store/ok.h"
  echo '#include "common/store/event_appender.h"' > "$work/t/server/ingress/ok.cc"
  echo '#include "common/store/event_reader.h"' > "$work/t/server/distribution/ok.cc"
}

expect_pass() {
  if ! out=$("$script" "$work/t" 2>&1); then
    echo "self-test: expected a pass: $out"; exit 1
  fi
}

# expect_fail FILE LINE WORDS: adding LINE to FILE fails with WORDS.
expect_fail() {
  fresh_tree
  mkdir -p "$(dirname "$work/t/$1")"
  echo "$2" >> "$work/t/$1"
  if out=$("$script" "$work/t" 2>&1); then
    echo "self-test: '$2' in $1 passed; expected a failure"; exit 1
  fi
  if ! grep -qF "$3" <<<"$out"; then
    echo "self-test: '$2' in $1 failed without naming '$3': $out"; exit 1
  fi
}

fresh_tree
expect_pass
expect_fail server/ingress/x.cc '#include "common/ring/event_ring.h"' "write side"
expect_fail server/ingress/x.cc '#include "common/backend/memory_backend.h"' "write side"
expect_fail server/distribution/x.cc '#include "common/journal/journal.h"' "read side"
expect_fail server/distribution/x.cc '#include "server/ingress/http_session.h"' "never include each other"
expect_fail common/store/x.h '#include "common/ring/event_ring.h"' "common/store may include only"
expect_fail common/ring/x.h '#include "common/backend/memory_backend.h"' "common/ring may include only"
expect_fail common/ring/x.h '#include "server/server.h"' "never includes server/"
expect_fail client/x.cc '#include "server/server.h"' "never includes the server"
expect_fail common/newfolder/x.h '#include "common/base/clock.h"' "not in check-layering.sh's table"
expect_fail common/ring/x.cc '#include <openssl/evp.h>' "OpenSSL is included outside"
expect_fail server/ingress/x.cc '#include "nlohmann/json.hpp"' "JSON parser"
expect_fail server/auth/x.cc '#include "grpcpp/server.h"' "server/auth holds no gRPC"
expect_fail server/auth/x.cc '#include "nlohmann/json.hpp"' "JSON parser"
expect_fail server/ingress/x.cc '#include "server/auth/access_control.h"' "no gRPC identities"

# A root that is not a hookstream tree is an error.
if "$script" "$work/nonexistent" >/dev/null 2>&1; then
  echo "self-test: a wrong root passed"; exit 1
fi
echo "layering self-test: every broken arrow was caught"
