// -----------------------------------------------------------------------------
// File: dashboard_routes.h
// -----------------------------------------------------------------------------
// The admin listener's dashboard: `/` (the page, server/admin/dashboard_page.h)
// and the JSON it polls besides /metrics, each the protobuf JSON of an
// EventStream answer, so the page reads the same shapes as a gRPC client:
//   /api/events?limit=N       the newest N events (default 20, at most 100),
//                             without raw_json: ListEventsResponse
//   /api/event?sequence=S     one event with its raw JSON (base64, as in
//                             protobuf JSON): GetEventResponse
//   /api/subscribers          the live streams with lag:
//   ListSubscribersResponse
// Read-only; bad parameters answer 400 with the reason. With
// `events_allowed` false (gRPC authenticates but the admin listener asks for
// no token: the JSON would bypass the grants) the three answer 403 saying
// so, and the page shows only what /metrics says.
//
// Thread-safety: the routes run on the admin thread and read the parts'
// thread-safe state; `reader`, `distribution` and `clock` must outlive them.
#pragma once

#include "common/base/clock.h"
#include "common/store/event_reader.h"
#include "server/admin/admin_server.h"
#include "server/distribution/distribution_server.h"

namespace hookstream {

void AddDashboardRoutes(const EventReader& reader,
                        const distribution::DistributionServer& distribution,
                        const Clock& clock, bool events_allowed,
                        admin::AdminServer::Routes& routes);

}  // namespace hookstream
