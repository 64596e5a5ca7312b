// -----------------------------------------------------------------------------
// File: grpc_metrics.h
// -----------------------------------------------------------------------------
// GrpcMetrics counts every gRPC call the server handles, under the names
// go-grpc-prometheus made the de-facto standard, so existing dashboards
// work: grpc_server_started_total, grpc_server_handled_total{grpc_code}
// and grpc_server_handling_seconds, labelled grpc_type, grpc_service and
// grpc_method. It is fed by a server interceptor (MakeInterceptorFactory),
// so it sees EventStream, health and reflection calls alike.
//
// Cardinality is bounded: the first kMaxMethods distinct methods get their
// own series; later ones (only a client calling made-up methods gets there)
// share grpc_service="other", grpc_method="other".
//
// Example:
//   GrpcMetrics metrics;
//   builder.experimental().SetInterceptorCreators(
//       MakeInterceptorFactories(metrics));
//   ...
//   metrics.Write(exposition);
//
// Thread-safety: thread-safe; `metrics` must outlive the gRPC server.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "common/metrics/exposition.h"
#include "grpcpp/support/server_interceptor.h"

namespace hookstream::distribution {

class GrpcMetrics {
 public:
  static constexpr size_t kMaxMethods = 64;

  struct Method {
    std::string type;     // unary, server_stream, client_stream, bidi_stream
    std::string service;  // hookstream.v1.EventStream
    std::string method;   // Subscribe
    std::atomic<uint64_t> started{0};
    std::array<std::atomic<uint64_t>, 17> handled{};
    metrics::Histogram handling{metrics::Histogram::LatencyBuckets()};
  };

  // The series for `full_method` ("/pkg.Service/Method"); never null.
  Method* Find(absl::string_view full_method,
               grpc::experimental::ServerRpcInfo::Type type);

  // The three families, every known method in each.
  void Write(metrics::Exposition& out) const;

 private:
  mutable absl::Mutex mu_;
  // Node-stable: interceptors keep Method pointers.
  absl::flat_hash_map<std::string, std::unique_ptr<Method>> methods_
      ABSL_GUARDED_BY(mu_);
};

std::vector<
    std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
MakeInterceptorFactories(GrpcMetrics& metrics);

}  // namespace hookstream::distribution
