// -----------------------------------------------------------------------------
// File: nats_handles.h
// -----------------------------------------------------------------------------
// Owning handles for the nats.c objects the JetStream backend holds, and the
// one mapping of a nats.c status onto absl::Status. nats.c is a C library:
// every object it creates has its own destroy function; these handles call it
// exactly once.
//
// Order matters at shutdown (nats.c's rule): destroy subscriptions before the
// JetStream context, and that before its connection.
//
// Thread-safety: handles are not shared; the objects they own follow nats.c's
// own rules (a connection and a jsCtx may be used from any thread).
#pragma once

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "nats/nats.h"

namespace hookstream::jetstream {

struct NatsDeleter {
  void operator()(natsConnection* c) const { natsConnection_Destroy(c); }
  void operator()(natsOptions* o) const { natsOptions_Destroy(o); }
  void operator()(jsCtx* js) const { jsCtx_Destroy(js); }
  void operator()(natsSubscription* s) const { natsSubscription_Destroy(s); }
  void operator()(natsMsg* m) const { natsMsg_Destroy(m); }
  void operator()(jsStreamInfo* si) const { jsStreamInfo_Destroy(si); }
  void operator()(jsMsgMetaData* md) const { jsMsgMetaData_Destroy(md); }
};

using ConnectionPtr = std::unique_ptr<natsConnection, NatsDeleter>;
using OptionsPtr = std::unique_ptr<natsOptions, NatsDeleter>;
using JsPtr = std::unique_ptr<jsCtx, NatsDeleter>;
using SubscriptionPtr = std::unique_ptr<natsSubscription, NatsDeleter>;
using MsgPtr = std::unique_ptr<natsMsg, NatsDeleter>;
using StreamInfoPtr = std::unique_ptr<jsStreamInfo, NatsDeleter>;
using MetaDataPtr = std::unique_ptr<jsMsgMetaData, NatsDeleter>;

// `what` failed with `s` (and, when set, JetStream's error code): the nats.c
// text and the last error it recorded for this thread.
inline absl::Status NatsError(absl::string_view what, natsStatus s,
                              jsErrCode code = static_cast<jsErrCode>(0)) {
  const char* detail = nats_GetLastError(nullptr);
  std::string message = absl::StrCat(what, ": ", natsStatus_GetText(s));
  if (detail != nullptr && *detail != '\0' &&
      absl::string_view(detail) != natsStatus_GetText(s)) {
    absl::StrAppend(&message, " (", detail, ")");
  }
  if (code != 0) absl::StrAppend(&message, " [jetstream error ", code, "]");
  switch (code) {
    // A cluster still electing its leaders or placing peers.
    case JSClusterIncompleteErr:
    case JSClusterNoPeersErr:
    case JSClusterNotAvailErr:
    case JSClusterNotLeaderErr:
      return absl::UnavailableError(message);
    default:
      break;
  }
  switch (s) {
    case NATS_NO_SERVER:
    case NATS_TIMEOUT:
    case NATS_NO_RESPONDERS:
    case NATS_CONNECTION_CLOSED:
    case NATS_CONNECTION_DISCONNECTED:
    case NATS_STALE_CONNECTION:
    case NATS_IO_ERROR:
    case NATS_NOT_YET_CONNECTED:
      return absl::UnavailableError(message);
    default:
      return absl::FailedPreconditionError(message);
  }
}

}  // namespace hookstream::jetstream
