// -----------------------------------------------------------------------------
// File: stored_identity.h
// -----------------------------------------------------------------------------
// The stream's identity (hookstream's epoch) as it is stored IN the
// JetStream stream's config, in its Description:
//   hookstream epoch=20261203T121500Z-9f3a1c2b4d5e6f70
//   start=2026-12-03T12:15:00.123456789Z
// The config is replicated with the stream (every node, every reader, every
// restart sees the same text), and it is written once, by whoever creates
// the stream. nats-server 2.9 has no stream Metadata; Description is the
// one free-form config field it keeps.
//
// Why not the stream's `Created` time (what hookstream used first): in
// nats-server 2.9.10 a node first creates its local copy of a new stream at
// its own clock and sets the cluster's creation time only afterwards, and a
// stream-info read can be answered in between (two replicas starting
// together read different times; reproduced in docs/scale-out.md).
//
// Thread-safety: functions, no state.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/store/stream_identity.h"

namespace hookstream::jetstream {

// How every stored identity begins.
inline constexpr absl::string_view kStoredIdentityPrefix = "hookstream epoch=";

// The Description text for `identity`.
std::string FormatStoredIdentity(const StreamIdentity& identity);

// The identity in a stream's Description. NOT_FOUND when the description is
// empty (a stream an older hookstream created, before the identity was
// stored); INVALID_ARGUMENT when it is someone else's text or not a
// well-formed identity.
absl::StatusOr<StreamIdentity> ParseStoredIdentity(
    absl::string_view description);

// The identity an older hookstream derived from the stream's name and
// creation time: `YYYYMMDDTHHMMSSZ-<16 hex>`, the creation time and a stable
// hash (FNV-1a) of the name and the creation time in nanoseconds. Used once,
// to adopt such a stream without changing its epoch.
StreamIdentity IdentityOfStream(absl::string_view name, int64_t created_ns);

}  // namespace hookstream::jetstream
