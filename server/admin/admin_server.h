// -----------------------------------------------------------------------------
// File: admin_server.h
// -----------------------------------------------------------------------------
// AdminServer is the operator's plain-HTTP listener (`--admin_address`,
// loopback by default): GET routes such as /metrics, /healthz and /readyz,
// each a function the composition root (server/server.cc) supplies. It knows
// no part of hookstream itself: what a route answers is the root's business,
// so this folder includes nothing of ingress, distribution or the backends.
//
// It is deliberately small: one I/O thread, requests without bodies (GET and
// HEAD), at most `max_connections` at once, each bounded by `timeout`, so a
// stuck scraper never holds more than a slot.
//
// Off loopback the root gives it a TLS context and a bearer token
// (server_config.h): it then speaks HTTPS only, and every route outside
// `public_paths` (the probes, which tell nothing) answers 401 unless the
// request carries `Authorization: Bearer <token>` (compared in constant
// time).
//
// Example:
//   AdminServer::Routes routes;
//   routes["/healthz"] = [](absl::string_view) {
//     return AdminResponse{.body = "ok\n"};
//   };
//   ASSIGN_OR_RETURN(std::unique_ptr<AdminServer> admin,
//                    AdminServer::Start({.address = "127.0.0.1", .port = 0},
//                                       std::move(routes)));
//   admin->port();  // the bound port
//   admin->Stop();
//
// Thread-safety: port() and Reload() from any thread, Stop() from the owner's
// (not during a Reload); routes run on
// the admin thread, one at a time, and must be thread-safe against the rest of
// the server (they read counters).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "boost/asio/ssl/context.hpp"

namespace hookstream::admin {

struct AdminResponse {
  unsigned status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

struct AdminOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 9090;  // 0 = ephemeral; read it back with port()
  size_t max_connections = 32;
  // A connection idle (or sending its request) longer than this is closed.
  absl::Duration timeout = absl::Seconds(10);
  // Null: plain HTTP. Otherwise HTTPS only (a TLS handshake first).
  std::shared_ptr<boost::asio::ssl::context> tls = nullptr;
  // Empty: no token asked. Otherwise the bearer token every path outside
  // `public_paths` needs.
  std::string token = {};
  std::vector<std::string> public_paths = {"/healthz", "/readyz"};
};

class AdminServer {
 public:
  // Path (without the query) → what it answers. The argument is the query
  // string without '?', e.g. "limit=20".
  using Route = std::function<AdminResponse(absl::string_view query)>;
  using Routes = std::map<std::string, Route, std::less<>>;

  // Binds and starts serving. UNAVAILABLE naming the address when it cannot
  // listen.
  static absl::StatusOr<std::unique_ptr<AdminServer>> Start(
      AdminOptions options, Routes routes);

  ~AdminServer();
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  uint16_t port() const;

  // Replaces the TLS context and the token for new connections and new
  // requests (for SIGHUP); a connection already open keeps its TLS session.
  // FAILED_PRECONDITION when it would turn TLS on or off. Not after Stop.
  absl::Status Reload(std::shared_ptr<boost::asio::ssl::context> tls,
                      std::string token);

  // Closes the listener and every connection and joins the thread.
  // Idempotent; the destructor calls it.
  void Stop();

 private:
  struct Impl;
  explicit AdminServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace hookstream::admin
