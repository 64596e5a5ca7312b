#include "bench/nats_support.h"

#include <errno.h>

#include <iostream>

#include "absl/strings/str_cat.h"

namespace hookstream::bench {

int Fail(const absl::Status& status) {
  // glibc's short name of the running tool (bench_jetstream, ...).
  std::cerr << program_invocation_short_name << ": " << status << "\n";
  return 1;
}

int NatsFailure(absl::string_view what, natsStatus s) {
  return Fail(jetstream::NatsError(what, s));
}

absl::StatusOr<NatsClient> ConnectJetStream(const std::string& url,
                                            jsOptions options, bool pooled) {
  natsOptions* raw_options = nullptr;
  natsStatus s = natsOptions_Create(&raw_options);
  jetstream::OptionsPtr nats_options(raw_options);
  if (s == NATS_OK) s = natsOptions_SetURL(raw_options, url.c_str());
  // Like hookstream's backend (jetstream_backend.cc): written at once, not
  // by nats.c's flusher thread a millisecond later.
  if (s == NATS_OK) s = natsOptions_SetSendAsap(raw_options, true);
  if (s == NATS_OK && pooled) {
    s = natsOptions_UseGlobalMessageDelivery(raw_options, true);
  }
  if (s != NATS_OK) return jetstream::NatsError("nats options", s);
  NatsClient client;
  natsConnection* raw_nc = nullptr;
  s = natsConnection_Connect(&raw_nc, raw_options);
  client.nc.reset(raw_nc);
  if (s != NATS_OK) {
    return jetstream::NatsError(absl::StrCat("connecting to ", url), s);
  }
  jsCtx* raw_js = nullptr;
  s = natsConnection_JetStream(&raw_js, client.nc.get(), &options);
  client.js.reset(raw_js);
  if (s != NATS_OK) return jetstream::NatsError("jetstream context", s);
  return client;
}

absl::Status AddStream(jsCtx* js, const jsStreamConfig& config) {
  jsStreamConfig copy = config;  // nats.c takes a non-const config
  jsStreamInfo* raw = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  const natsStatus s = js_AddStream(&raw, js, &copy, nullptr, &code);
  jetstream::StreamInfoPtr info(raw);
  if (s != NATS_OK) {
    return jetstream::NatsError(absl::StrCat("adding stream ", config.Name), s,
                                code);
  }
  return absl::OkStatus();
}

}  // namespace hookstream::bench
