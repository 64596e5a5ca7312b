# hookstream-server on Debian 12. Build: docker build -t hookstream .
# Run:   docker run -p 8443:8443 -p 50051:50051 -p 127.0.0.1:9090:9090 \
#          -v /path/to/certs:/etc/hookstream:ro -v hookstream-journal:/var/lib/hookstream \
#          -e HOOKSTREAM_SIGNING_SECRETS=... hookstream
# Every setting is an environment variable HOOKSTREAM_<FLAG> (below, and
# `hookstream-server --help`); deploy/compose.yaml runs it with Prometheus.
# (gRPC needs --grpc_tls_cert/--grpc_tls_key to listen beyond loopback.)

FROM debian:bookworm AS build
WORKDIR /src
COPY scripts/install-deps.sh scripts/install-deps.sh
RUN ./scripts/install-deps.sh --build-only
COPY . .
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release \
      -DHOOKSTREAM_BUILD_TESTS=OFF -DHOOKSTREAM_BUILD_BENCH=OFF \
 && cmake --build /build -j "$(nproc)" --target hookstream-server hookstream_cli

FROM debian:bookworm-slim
# The shared libraries the binaries link (no compilers, no -dev packages).
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates libgrpc++1.51 libprotobuf32 libssl3 libcurl4 \
      libabsl20220623 libjemalloc2 libsimdjson14 libnats3.4 curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /nonexistent --shell /usr/sbin/nologin hookstream
COPY --from=build /build/server/hookstream-server /usr/local/bin/hookstream-server
COPY --from=build /build/client/hookstream /usr/local/bin/hookstream
RUN mkdir -p /var/lib/hookstream && chown hookstream /var/lib/hookstream
USER hookstream
# The journal (every acknowledged event, fsynced) lives on a volume.
VOLUME /var/lib/hookstream
ENV HOOKSTREAM_INGRESS_ADDRESS=0.0.0.0:8443 \
    HOOKSTREAM_GRPC_ADDRESS=0.0.0.0:50051 \
    HOOKSTREAM_ADMIN_ADDRESS=0.0.0.0:9090 \
    HOOKSTREAM_ADMIN_TLS_CERT=/etc/hookstream/tls.crt \
    HOOKSTREAM_ADMIN_TLS_KEY=/etc/hookstream/tls.key \
    HOOKSTREAM_ADMIN_TOKEN_FILE=/etc/hookstream/admin-token \
    HOOKSTREAM_TLS_CERT=/etc/hookstream/tls.crt \
    HOOKSTREAM_TLS_KEY=/etc/hookstream/tls.key \
    HOOKSTREAM_GRPC_TLS_CERT=/etc/hookstream/tls.crt \
    HOOKSTREAM_GRPC_TLS_KEY=/etc/hookstream/tls.key \
    HOOKSTREAM_GRPC_ACCESS_FILE=/etc/hookstream/access.json \
    HOOKSTREAM_BACKEND=journal \
    HOOKSTREAM_JOURNAL_DIR=/var/lib/hookstream
# 8443 webhooks (HTTPS), 50051 gRPC, 9090 admin (/metrics, /readyz, the
# dashboard: off loopback HTTPS only, and a bearer token for all but the
# probes; docs/operations.md).
EXPOSE 8443 50051 9090
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD curl -fsSk https://127.0.0.1:9090/readyz || exit 1
ENTRYPOINT ["/usr/local/bin/hookstream-server"]
