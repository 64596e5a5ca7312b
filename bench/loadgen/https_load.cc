#include "bench/loadgen/https_load.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "bench/loadgen/latency_stats.h"
#include "boost/asio/connect.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/ssl.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/asio/write.hpp"
#include "boost/beast/core/flat_buffer.hpp"
#include "boost/beast/http.hpp"

namespace hookstream::bench {
namespace {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

absl::StatusOr<std::unique_ptr<ssl::context>> MakeClientContext(
    const HttpsTarget& target) {
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
  boost::system::error_code ec;
  if (target.ca_file.empty()) {
    ctx->set_verify_mode(ssl::verify_none);
  } else {
    ctx->load_verify_file(target.ca_file, ec);
    if (ec) {
      return absl::InvalidArgumentError(
          absl::StrCat("ca_file ", target.ca_file, ": ", ec.message()));
    }
    // The bench certificate names 127.0.0.1 in its SAN; the chain check is
    // what matters here, and costs the same for nginx and hookstream.
    ctx->set_verify_mode(ssl::verify_peer);
  }
  return ctx;
}

// One keep-alive TLS connection with at most one request in flight.
class Connection {
 public:
  // status: HTTP status, 0 on a transport error (then `ec` says which).
  using Done = std::function<void(beast::error_code ec, int status,
                                  bool keep_alive, const std::string& body)>;

  Connection(asio::io_context& io, ssl::context& ctx, const HttpsTarget& target)
      : io_(io), ctx_(ctx), target_(target) {}

  // Connects and handshakes, synchronously: done before the clock starts,
  // or when a server closed the connection.
  beast::error_code Open() {
    beast::error_code ec;
    if (stream_) stream_->lowest_layer().close(ec);
    stream_.emplace(io_, ctx_);
    const tcp::endpoint endpoint(asio::ip::make_address(target_.host, ec),
                                 target_.port);
    if (ec) return ec;
    stream_->lowest_layer().connect(endpoint, ec);
    if (ec) return ec;
    stream_->lowest_layer().set_option(tcp::no_delay(true), ec);
    stream_->handshake(ssl::stream_base::client, ec);
    buffer_.clear();
    return ec;
  }

  void Close() {
    beast::error_code ec;
    if (stream_) stream_->lowest_layer().close(ec);
  }

  void Send(std::string request, Done done) {
    request_ = std::move(request);
    done_ = std::move(done);
    response_ = {};
    asio::async_write(
        *stream_, asio::buffer(request_), [this](beast::error_code ec, size_t) {
          if (ec) return done_(ec, 0, false, response_.body());
          http::async_read(*stream_, buffer_, response_,
                           [this](beast::error_code ec, size_t) {
                             if (ec) return done_(ec, 0, false, {});
                             done_(ec, response_.result_int(),
                                   response_.keep_alive(), response_.body());
                           });
        });
  }

 private:
  asio::io_context& io_;
  ssl::context& ctx_;
  const HttpsTarget& target_;
  std::optional<ssl::stream<tcp::socket>> stream_;
  beast::flat_buffer buffer_;
  http::response<http::string_body> response_;
  std::string request_;
  Done done_;
};

// Records one answer into `result`; reopens the connection when it broke or
// the server asked to close it. Returns false when the connection is dead.
bool Record(LoadResult& result, Connection& conn, beast::error_code ec,
            int status, bool keep_alive, const std::string& body,
            int64_t latency_ns) {
  if (ec) {
    ++result.errors;
    if (result.first_error.empty()) result.first_error = ec.message();
    return !conn.Open();
  }
  ++result.status_counts[status];
  if (status / 100 == 2) {
    ++result.ok_2xx;
    if (result.sample_body.empty()) result.sample_body = body;
  } else {
    ++result.non_2xx;
  }
  result.latencies_ns.push_back(latency_ns);
  if (!keep_alive) return !conn.Open();
  return true;
}

void Merge(LoadResult& into, LoadResult&& from) {
  into.sent += from.sent;
  into.ok_2xx += from.ok_2xx;
  into.non_2xx += from.non_2xx;
  into.errors += from.errors;
  into.late += from.late;
  if (into.first_error.empty()) into.first_error = std::move(from.first_error);
  if (into.sample_body.empty()) into.sample_body = std::move(from.sample_body);
  for (const auto& [status, n] : from.status_counts) {
    into.status_counts[status] += n;
  }
  into.latencies_ns.insert(into.latencies_ns.end(), from.latencies_ns.begin(),
                           from.latencies_ns.end());
}

// Runs `io` until its work is done or `bound` passed; then closes every
// connection so no handler waits forever, and drains.
void RunBounded(asio::io_context& io, absl::Duration bound,
                std::vector<std::unique_ptr<Connection>>& conns) {
  io.run_for(absl::ToChronoNanoseconds(bound));
  if (!io.stopped()) {
    for (auto& c : conns) c->Close();
    io.restart();
    io.run_for(std::chrono::seconds(2));
  }
}

}  // namespace

absl::StatusOr<LoadResult> RunClosedLoop(const HttpsTarget& target,
                                         const ClosedLoopOptions& options,
                                         const RequestMaker& make_request) {
  auto ctx = MakeClientContext(target);
  if (!ctx.ok()) return ctx.status();
  const int threads =
      std::max(1, std::min(options.threads, options.connections));

  struct Worker {
    asio::io_context io{1};
    std::vector<std::unique_ptr<Connection>> conns;
    LoadResult result;
    int64_t last_done_ns = 0;
  };
  std::vector<std::unique_ptr<Worker>> workers;
  for (int t = 0; t < threads; ++t)
    workers.push_back(std::make_unique<Worker>());
  for (int i = 0; i < options.connections; ++i) {
    Worker& w = *workers[i % threads];
    w.conns.push_back(std::make_unique<Connection>(w.io, **ctx, target));
    if (beast::error_code ec = w.conns.back()->Open()) {
      return absl::UnavailableError(absl::StrCat("connect/handshake to ",
                                                 target.host, ":", target.port,
                                                 ": ", ec.message()));
    }
  }

  std::atomic<uint64_t> issued{0};
  const int64_t start_ns = MonotonicNowNs();
  const int64_t deadline_ns =
      start_ns + absl::ToInt64Nanoseconds(options.max_duration);

  std::vector<std::thread> pool;
  for (auto& worker : workers) {
    pool.emplace_back([&, w = worker.get()] {
      // Sends the next request on `conn`, if the run is not over.
      std::function<void(Connection*)> next = [&](Connection* conn) {
        if (MonotonicNowNs() >= deadline_ns) return;
        const uint64_t k = issued.fetch_add(1, std::memory_order_relaxed);
        if (k >= options.max_requests) return;
        ++w->result.sent;
        const int64_t sent_ns = MonotonicNowNs();
        conn->Send(
            make_request(k),
            [&, conn, sent_ns](beast::error_code ec, int status,
                               bool keep_alive, const std::string& body) {
              const int64_t now = MonotonicNowNs();
              w->last_done_ns = now;
              if (Record(w->result, *conn, ec, status, keep_alive, body,
                         now - sent_ns)) {
                next(conn);
              }
            });
      };
      for (auto& conn : w->conns) next(conn.get());
      RunBounded(w->io, options.max_duration + absl::Seconds(10), w->conns);
    });
  }
  for (auto& t : pool) t.join();

  LoadResult total;
  int64_t last_ns = start_ns;
  for (auto& w : workers) {
    last_ns = std::max(last_ns, w->last_done_ns);
    Merge(total, std::move(w->result));
  }
  total.seconds = static_cast<double>(last_ns - start_ns) / 1e9;
  return total;
}

absl::StatusOr<LoadResult> RunPaced(const HttpsTarget& target,
                                    const PacedOptions& options,
                                    const StampedRequestMaker& make_request) {
  auto ctx = MakeClientContext(target);
  if (!ctx.ok()) return ctx.status();
  asio::io_context io{1};
  std::vector<std::unique_ptr<Connection>> conns;
  std::vector<Connection*> idle;
  for (int i = 0; i < options.connections; ++i) {
    conns.push_back(std::make_unique<Connection>(io, **ctx, target));
    if (beast::error_code ec = conns.back()->Open()) {
      return absl::UnavailableError(
          absl::StrCat("connect/handshake: ", ec.message()));
    }
    idle.push_back(conns.back().get());
  }

  LoadResult result;
  const auto interval_ns =
      static_cast<int64_t>(1e9 / std::max(1.0, options.rate_per_second));
  const uint64_t total = static_cast<uint64_t>(
      absl::ToDoubleSeconds(options.duration) * options.rate_per_second);
  uint64_t scheduled = 0;
  uint64_t pending = 0;  // due sends that found no idle connection
  int64_t last_done_ns = 0;
  const int64_t start_ns = MonotonicNowNs();
  int64_t next_ns = start_ns;
  asio::steady_timer timer(io);

  std::function<void(Connection*)> send = [&](Connection* conn) {
    ++result.sent;
    const int64_t sent_ns = MonotonicNowNs();
    conn->Send(make_request(sent_ns),
               [&, conn, sent_ns](beast::error_code ec, int status,
                                  bool keep_alive, const std::string& body) {
                 const int64_t now = MonotonicNowNs();
                 last_done_ns = now;
                 if (!Record(result, *conn, ec, status, keep_alive, body,
                             now - sent_ns)) {
                   return;
                 }
                 if (pending > 0) {
                   --pending;
                   send(conn);
                 } else {
                   idle.push_back(conn);
                 }
               });
  };
  std::function<void()> tick = [&] {
    const int64_t now = MonotonicNowNs();
    while (scheduled < total && next_ns <= now) {
      ++scheduled;
      next_ns += interval_ns;
      if (!idle.empty()) {
        Connection* conn = idle.back();
        idle.pop_back();
        send(conn);
      } else {
        ++pending;
        ++result.late;
      }
    }
    if (scheduled < total) {
      timer.expires_at(std::chrono::steady_clock::time_point(
          std::chrono::nanoseconds(next_ns)));
      timer.async_wait([&](beast::error_code ec) {
        if (!ec) tick();
      });
    }
  };
  tick();
  RunBounded(io, options.duration + absl::Seconds(10), conns);
  result.seconds = static_cast<double>(last_done_ns - start_ns) / 1e9;
  return result;
}

}  // namespace hookstream::bench
