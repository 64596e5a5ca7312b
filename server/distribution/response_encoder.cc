#include "server/distribution/response_encoder.h"

#include <cstdint>
#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "google/protobuf/io/coded_stream.h"
#include "grpcpp/support/slice.h"

namespace hookstream::distribution {
namespace {

// Field 1, wire type 2 (length-delimited): `SubscribeResponse.events` and
// `EventBatch.events` are both field 1.
constexpr uint8_t kField1LengthDelimited = 0x0A;

using ::google::protobuf::io::CodedOutputStream;

// The longest varint: a 64-bit value in 7-bit groups.
constexpr size_t kMaxVarintSize = 10;

void AppendVarint(std::string* out, uint64_t value) {
  uint8_t buffer[kMaxVarintSize];
  const uint8_t* end = CodedOutputStream::WriteVarint64ToArray(value, buffer);
  out->append(reinterpret_cast<const char*>(buffer), end - buffer);
}

std::string FieldHeader(uint64_t length) {
  std::string header;
  header.push_back(static_cast<char>(kField1LengthDelimited));
  AppendVarint(&header, length);
  return header;
}

// gRPC calls this when it no longer needs a slice's bytes.
void ReleaseStoredEvent(void* user_data) {
  // Takes back the reference handed to gRPC in SliceOf.
  std::unique_ptr<StoredEventPtr> owner(
      static_cast<StoredEventPtr*>(user_data));
}

// A slice over `bytes` (owned by `event`) that keeps `event` alive.
grpc::Slice SliceOf(const StoredEventPtr& event, absl::string_view bytes) {
  // gRPC never writes through a slice it sends, so dropping const is safe.
  void* data = const_cast<char*>(bytes.data());
  auto owner = std::make_unique<StoredEventPtr>(event);
  // Ownership of `owner` passes to gRPC, which gives it back through
  // ReleaseStoredEvent.
  return grpc::Slice(data, bytes.size(), &ReleaseStoredEvent, owner.release());
}

}  // namespace

grpc::ByteBuffer EncodeEventBatch(const std::vector<StoredEventPtr>& events,
                                  bool include_raw_json) {
  auto bytes_of = [include_raw_json](const StoredEvent& event) {
    return include_raw_json ? event.WithRawJson() : event.WithoutRawJson();
  };
  size_t batch_length = 0;
  for (const StoredEventPtr& event : events) {
    const size_t length = bytes_of(*event).size();
    batch_length += 1 + CodedOutputStream::VarintSize64(length) + length;
  }
  std::vector<grpc::Slice> slices;
  slices.reserve(1 + events.size() * 2);
  slices.emplace_back(FieldHeader(batch_length));
  for (const StoredEventPtr& event : events) {
    const absl::string_view bytes = bytes_of(*event);
    slices.emplace_back(FieldHeader(bytes.size()));
    if (!bytes.empty()) slices.push_back(SliceOf(event, bytes));
  }
  return grpc::ByteBuffer(slices.data(), slices.size());
}

grpc::ByteBuffer EncodeResponse(const v1::SubscribeResponse& response) {
  const grpc::Slice slice(response.SerializeAsString());
  return grpc::ByteBuffer(&slice, 1);
}

}  // namespace hookstream::distribution
