#include "server/distribution/grpc_metrics.h"

#include <algorithm>
#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "server/distribution/grpc_codes.h"

namespace hookstream::distribution {
namespace {

using grpc::experimental::InterceptionHookPoints;
using grpc::experimental::ServerRpcInfo;

absl::string_view TypeLabel(ServerRpcInfo::Type type) {
  switch (type) {
    case ServerRpcInfo::Type::UNARY:
      return "unary";
    case ServerRpcInfo::Type::CLIENT_STREAMING:
      return "client_stream";
    case ServerRpcInfo::Type::SERVER_STREAMING:
      return "server_stream";
    case ServerRpcInfo::Type::BIDI_STREAMING:
      return "bidi_stream";
  }
  return "unary";
}

// One per call: started when created, handled when the status goes out (or,
// for a call that ends without one, as CANCELLED when destroyed).
class CallInterceptor final : public grpc::experimental::Interceptor {
 public:
  explicit CallInterceptor(GrpcMetrics::Method* method)
      : method_(method), start_(absl::Now()) {
    method_->started.fetch_add(1, std::memory_order_relaxed);
  }
  ~CallInterceptor() override {
    if (!counted_) Count(grpc::StatusCode::CANCELLED);
  }

  void Intercept(
      grpc::experimental::InterceptorBatchMethods* methods) override {
    if (!counted_ && methods->QueryInterceptionHookPoint(
                         InterceptionHookPoints::PRE_SEND_STATUS)) {
      Count(methods->GetSendStatus().error_code());
    }
    methods->Proceed();
  }

 private:
  void Count(grpc::StatusCode code) {
    counted_ = true;
    const auto i = static_cast<size_t>(code);
    method_->handled[i < method_->handled.size() ? i : 2].fetch_add(
        1, std::memory_order_relaxed);
    method_->handling.Observe(absl::ToDoubleSeconds(absl::Now() - start_));
  }

  GrpcMetrics::Method* const method_;
  const absl::Time start_;
  bool counted_ = false;
};

class Factory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit Factory(GrpcMetrics& metrics) : metrics_(metrics) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      ServerRpcInfo* info) override {
    // gRPC owns and deletes the interceptor when the call ends.
    return new CallInterceptor(metrics_.Find(info->method(), info->type()));
  }

 private:
  GrpcMetrics& metrics_;
};

}  // namespace

GrpcMetrics::Method* GrpcMetrics::Find(absl::string_view full_method,
                                       ServerRpcInfo::Type type) {
  absl::MutexLock lock(&mu_);
  auto it = methods_.find(full_method);
  if (it != methods_.end()) return it->second.get();
  std::string key(full_method);
  auto method = std::make_unique<Method>();
  method->type = std::string(TypeLabel(type));
  // "/pkg.Service/Method"
  const absl::string_view path = absl::StripPrefix(full_method, "/");
  const size_t slash = path.find('/');
  if (methods_.size() >= kMaxMethods || slash == absl::string_view::npos) {
    key = "other";
    if (auto other = methods_.find(key); other != methods_.end()) {
      return other->second.get();
    }
    method->service = "other";
    method->method = "other";
  } else {
    method->service = std::string(path.substr(0, slash));
    method->method = std::string(path.substr(slash + 1));
  }
  Method* raw = method.get();
  methods_.emplace(std::move(key), std::move(method));
  return raw;
}

void GrpcMetrics::Write(metrics::Exposition& out) const {
  absl::MutexLock lock(&mu_);
  std::vector<const Method*> sorted;
  for (const auto& [key, method] : methods_) sorted.push_back(method.get());
  std::sort(sorted.begin(), sorted.end(), [](const Method* a, const Method* b) {
    return std::tie(a->service, a->method) < std::tie(b->service, b->method);
  });
  out.Family("grpc_server_started_total", metrics::MetricType::kCounter,
             "RPCs started on the server.");
  for (const Method* m : sorted) {
    out.Sample("grpc_server_started_total",
               {{"grpc_type", m->type},
                {"grpc_service", m->service},
                {"grpc_method", m->method}},
               static_cast<double>(m->started.load(std::memory_order_relaxed)));
  }
  out.Family("grpc_server_handled_total", metrics::MetricType::kCounter,
             "RPCs completed on the server, by status code.");
  for (const Method* m : sorted) {
    for (size_t code = 0; code < m->handled.size(); ++code) {
      const uint64_t n = m->handled[code].load(std::memory_order_relaxed);
      if (n == 0 && code != 0) continue;  // OK always, the rest once seen
      out.Sample("grpc_server_handled_total",
                 {{"grpc_type", m->type},
                  {"grpc_service", m->service},
                  {"grpc_method", m->method},
                  {"grpc_code", kGrpcCodeNames[code]}},
                 static_cast<double>(n));
    }
  }
  out.Family("grpc_server_handling_seconds", metrics::MetricType::kHistogram,
             "Time from the start of an RPC to its status (streams: their "
             "whole life).");
  for (const Method* m : sorted) {
    const metrics::Label labels[] = {{"grpc_type", m->type},
                                     {"grpc_service", m->service},
                                     {"grpc_method", m->method}};
    m->handling.Write(out, "grpc_server_handling_seconds", labels);
  }
}

std::vector<
    std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
MakeInterceptorFactories(GrpcMetrics& metrics) {
  std::vector<
      std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
      out;
  out.push_back(std::make_unique<Factory>(metrics));
  return out;
}

}  // namespace hookstream::distribution
