// -----------------------------------------------------------------------------
// File: status_macros.h
// -----------------------------------------------------------------------------
// RETURN_IF_ERROR and ASSIGN_OR_RETURN, which Debian 12's Abseil (20220623)
// does not ship yet.
//
// Example:
//   absl::StatusOr<Config> Load() {
//     RETURN_IF_ERROR(CheckPath(path));
//     ASSIGN_OR_RETURN(std::string text, ReadFile(path));
//     return Parse(text);
//   }
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define HOOKSTREAM_STATUS_CONCAT_INNER_(a, b) a##b
#define HOOKSTREAM_STATUS_CONCAT_(a, b) HOOKSTREAM_STATUS_CONCAT_INNER_(a, b)

// Returns the status of `expr` from the calling function if it is not OK.
#define RETURN_IF_ERROR(expr)                                \
  do {                                                       \
    const absl::Status hookstream_status_ = (expr);          \
    if (!hookstream_status_.ok()) return hookstream_status_; \
  } while (false)

// Evaluates `rexpr` (an absl::StatusOr<T>); returns its status if not OK,
// otherwise moves the value into `lhs` (which may be a declaration).
#define ASSIGN_OR_RETURN(lhs, rexpr) \
  HOOKSTREAM_ASSIGN_OR_RETURN_IMPL_( \
      HOOKSTREAM_STATUS_CONCAT_(hookstream_statusor_, __LINE__), lhs, rexpr)

#define HOOKSTREAM_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                      \
  if (!statusor.ok()) return std::move(statusor).status();      \
  lhs = *std::move(statusor)
