# hookstream-server on Debian 12. Build: docker build -t hookstream .
# Run:   docker run -p 8443:8443 -p 50051:50051 \
#          -v /path/to/certs:/etc/hookstream:ro \
#          -e HOOKSTREAM_SIGNING_SECRETS=... hookstream
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
      libabsl20220623 libjemalloc2 libsimdjson14 libnats3.4 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /nonexistent --shell /usr/sbin/nologin hookstream
COPY --from=build /build/server/hookstream-server /usr/local/bin/hookstream-server
COPY --from=build /build/client/hookstream /usr/local/bin/hookstream
USER hookstream
EXPOSE 8443 50051
ENTRYPOINT ["/usr/local/bin/hookstream-server"]
CMD ["--ingress_address=0.0.0.0:8443", \
     "--grpc_address=0.0.0.0:50051", \
     "--tls_cert=/etc/hookstream/tls.crt", "--tls_key=/etc/hookstream/tls.key", \
     "--grpc_tls_cert=/etc/hookstream/tls.crt", "--grpc_tls_key=/etc/hookstream/tls.key", \
     "--grpc_access_file=/etc/hookstream/access.json"]
