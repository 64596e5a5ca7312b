// -----------------------------------------------------------------------------
// File: file_util.h
// -----------------------------------------------------------------------------
// The few POSIX file operations the journal needs, with errors as
// absl::Status naming the path and errno text. Kept small: the journal does
// its own writes and fdatasyncs on the segment it appends to (journal.cc),
// because how those fail decides what it acknowledges.
//
// Errors: the Status code follows errno: ENOSPC/EDQUOT → RESOURCE_EXHAUSTED,
// ENOENT → NOT_FOUND, EACCES/EPERM → PERMISSION_DENIED, others → INTERNAL.
//
// Thread-safety: functions are thread-safe; a UniqueFd is not.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace hookstream::journal {

// `what` failed with `err` (an errno value).
absl::Status ErrnoStatus(int err, absl::string_view what);

// An owned file descriptor, closed on destruction.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset();

 private:
  int fd_ = -1;
};

absl::StatusOr<std::string> ReadWholeFile(const std::string& path);

// Drops the clean cached pages of `fd` before `to`, rounded down to a page,
// so that the page an append goes on writing into (the one holding `to`)
// stays cached. From the file's start each time: a large folio that
// straddled the previous `to` goes now. Advisory (POSIX_FADV_DONTNEED):
// dirty pages and pages under write-back stay, and an error changes nothing.
void DropCachedPages(int fd, off_t to);

// A whole file mapped read-only (MAP_PRIVATE): its pages come straight from
// the page cache, with no copy and no zero-filled buffer (recovery reads
// every segment once). Unmapped on destruction.
class MappedFile {
 public:
  static absl::StatusOr<MappedFile> Open(const std::string& path);
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  absl::string_view bytes() const {
    return absl::string_view(static_cast<const char*>(data_), size_);
  }

 private:
  MappedFile() = default;
  void* data_ = nullptr;
  size_t size_ = 0;
};

// The names (not paths) in `dir`, sorted.
absl::StatusOr<std::vector<std::string>> ListDirectory(const std::string& dir);

// Makes `dir` (and its parents), mode 0700 for what it creates.
absl::Status MakeDirectories(const std::string& dir);

// fsync of a directory: makes creations, renames and unlinks in it durable.
absl::Status SyncDirectory(const std::string& dir);

// Writes `contents` to `dir/name` so that a crash leaves either the old file
// or the new one, whole: a temporary file, fsync, rename, fsync of `dir`.
absl::Status WriteFileAtomically(const std::string& dir,
                                 const std::string& name,
                                 absl::string_view contents);

// Writes all of `bytes` at `offset` (retrying short writes and EINTR).
absl::Status WriteAllAt(int fd, absl::string_view bytes, off_t offset,
                        absl::string_view what);

}  // namespace hookstream::journal
