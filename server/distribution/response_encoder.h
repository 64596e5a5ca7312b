// -----------------------------------------------------------------------------
// File: response_encoder.h
// -----------------------------------------------------------------------------
// Builds Subscribe responses as grpc::ByteBuffers, the fan-out's only
// per-subscriber work: an EventBatch is a few hand-encoded header bytes
// around each StoredEvent's own serialized bytes, which are referenced, never
// copied or re-serialized (each slice keeps its StoredEventPtr alive until
// gRPC releases it).
//
// Wire layout (protobuf, proto3):
//   SubscribeResponse.events (field 1, LEN) =
//     EventBatch { repeated Event events = 1 } =
//       for each event: tag 0x0A, varint length,
//                       StoredEvent::WithRawJson() or WithoutRawJson()
// Both are contiguous in the stored buffer (the event without raw JSON is a
// suffix of the event with it), so each event is one slice.
//
// Example:
//   grpc::ByteBuffer batch = EncodeEventBatch(read.events, include_raw_json);
//   grpc::ByteBuffer hb = EncodeResponse(response_with_heartbeat);
//
// Thread-safety: pure functions.
#pragma once

#include <vector>

#include "common/store/stored_event.h"
#include "grpcpp/support/byte_buffer.h"
#include "hookstream/v1/event_stream.pb.h"

namespace hookstream::distribution {

// A SubscribeResponse{events: EventBatch{events}} referencing the stored
// bytes. `events` must not be empty.
grpc::ByteBuffer EncodeEventBatch(const std::vector<StoredEventPtr>& events,
                                  bool include_raw_json);

// Any SubscribeResponse, serialized the ordinary way (heartbeats, gaps).
grpc::ByteBuffer EncodeResponse(const v1::SubscribeResponse& response);

}  // namespace hookstream::distribution
