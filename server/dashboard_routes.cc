#include "server/dashboard_routes.h"

#include <algorithm>
#include <cstdint>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/util/json_util.h"
#include "hookstream/v1/event_stream.pb.h"
#include "server/admin/dashboard_page.h"
#include "server/distribution/event_stream_service.h"

namespace hookstream {
namespace {

constexpr uint64_t kDefaultEvents = 20;
constexpr uint64_t kMaxEvents = 100;

admin::AdminResponse Json(const google::protobuf::Message& message) {
  std::string body;
  if (!google::protobuf::util::MessageToJsonString(message, &body).ok()) {
    return {.status = 500, .body = "cannot encode the answer\n"};
  }
  return {.content_type = "application/json", .body = std::move(body)};
}

admin::AdminResponse BadRequest(absl::string_view reason) {
  return {.status = 400, .body = absl::StrCat(reason, "\n")};
}

// The value of `name` in a query string ("a=1&b=2"), or `fallback`; false
// when it is there but not a number.
bool NumberParam(absl::string_view query, absl::string_view name,
                 uint64_t fallback, uint64_t* out) {
  *out = fallback;
  for (absl::string_view pair : absl::StrSplit(query, '&')) {
    const std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(pair, absl::MaxSplits('=', 1));
    if (kv.first == name) return absl::SimpleAtoi(kv.second, out);
  }
  return true;
}

}  // namespace

void AddDashboardRoutes(const EventReader& reader,
                        const distribution::DistributionServer& distribution,
                        const Clock& clock, bool events_allowed,
                        admin::AdminServer::Routes& routes) {
  routes["/"] = [](absl::string_view) {
    return admin::AdminResponse{.content_type = "text/html; charset=utf-8",
                                .body = admin::kDashboardFiles[0].contents};
  };
  if (!events_allowed) {
    for (const char* path : {"/api/events", "/api/event", "/api/subscribers"}) {
      routes[path] = [](absl::string_view) {
        return admin::AdminResponse{
            .status = 403,
            .body =
                "gRPC authenticates its callers: events and subscribers "
                "are shown here only with --admin_token_file (they would "
                "bypass the grants)\n"};
      };
    }
    return;
  }
  routes["/api/events"] = [&reader](absl::string_view query) {
    uint64_t limit = 0;
    if (!NumberParam(query, "limit", kDefaultEvents, &limit) || limit == 0) {
      return BadRequest("limit: want a positive number");
    }
    limit = std::min(limit, kMaxEvents);
    const EventReader::Info info = reader.GetInfo();
    // After the head minus `limit`, but not before what is held.
    const uint64_t from =
        std::max(info.head_sequence > limit ? info.head_sequence - limit : 0,
                 info.oldest_sequence > 0 ? info.oldest_sequence - 1 : 0);
    const EventReader::ReadResult read =
        reader.Read(from, {.max_events = static_cast<size_t>(limit)});
    v1::ListEventsResponse response;
    response.set_stream_epoch(info.stream_epoch);
    for (const StoredEventPtr& event : read.events) {
      *response.add_events() = event->ToEvent(/*include_raw_json=*/false);
    }
    response.set_next_after_sequence(read.position);
    return Json(response);
  };
  routes["/api/event"] = [&reader](absl::string_view query) {
    uint64_t sequence = 0;
    if (!NumberParam(query, "sequence", 0, &sequence) || sequence == 0) {
      return BadRequest("sequence: want a positive number");
    }
    const StoredEventPtr event = reader.Get(sequence);
    if (event == nullptr) {
      return admin::AdminResponse{
          .status = 404,
          .body = absl::StrCat("sequence ", sequence, " is not held\n")};
    }
    v1::GetEventResponse response;
    *response.mutable_event() = event->ToEvent(/*include_raw_json=*/true);
    return Json(response);
  };
  routes["/api/subscribers"] = [&reader, &distribution,
                                &clock](absl::string_view) {
    return Json(distribution::ListSubscribersNow(distribution.subscribers(),
                                                 reader, clock.Now()));
  };
}

}  // namespace hookstream
