// -----------------------------------------------------------------------------
// File: dashboard_page.h
// -----------------------------------------------------------------------------
// The live dashboard served at `/` on the admin listener: one hand-written
// HTML page (server/admin/dashboard.html, compiled in by
// cmake/embed_files.cmake) that polls /metrics and the JSON routes the
// composition root adds (server/dashboard_routes.h). Read-only; no script
// or style from anywhere else.
//
// Example:
//   routes["/"] = [](absl::string_view) {
//     return AdminResponse{.content_type = "text/html; charset=utf-8",
//                          .body = kDashboardFiles[0].contents};
//   };
#pragma once

#include <cstddef>

namespace hookstream::admin {

struct EmbeddedFile {
  const char* name;  // "dashboard.html"
  const char* contents;
};

// One entry: the page.
extern const EmbeddedFile kDashboardFiles[];
extern const size_t kDashboardFiles_count;

}  // namespace hookstream::admin
