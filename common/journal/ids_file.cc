#include "common/journal/ids_file.h"

#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/journal/record_format.h"

namespace hookstream::journal {

std::string EncodeIdsFile(const std::vector<CarriedId>& ids) {
  std::string out(kIdsHeaderSize, '\0');
  std::memcpy(out.data(), kIdsMagic.data(), kIdsMagic.size());
  out[8] = static_cast<char>(kFormatVersion);
  for (const CarriedId& c : ids)
    AppendRecord(c.sequence, c.log_time, c.id, "", out);
  return out;
}

absl::StatusOr<std::vector<CarriedId>> DecodeIdsFile(absl::string_view bytes) {
  if (bytes.size() < kIdsHeaderSize || bytes.substr(0, 8) != kIdsMagic ||
      static_cast<unsigned char>(bytes[8]) != kFormatVersion) {
    return absl::DataLossError("ids file: bad header");
  }
  std::vector<CarriedId> ids;
  size_t offset = kIdsHeaderSize;
  uint64_t last = 0;
  while (offset < bytes.size()) {
    Record record;
    if (DecodeRecord(bytes.substr(offset), record) != DecodeResult::kOk ||
        record.sequence <= last || record.payload.empty()) {
      return absl::DataLossError(
          absl::StrCat("ids file: bad record at offset ", offset));
    }
    last = record.sequence;
    ids.push_back(
        {std::string(record.payload), record.sequence, record.log_time});
    offset += record.size;
  }
  return ids;
}

}  // namespace hookstream::journal
