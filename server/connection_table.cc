#include "server/connection_table.h"

#include <sys/stat.h>

#include <utility>
#include <vector>

namespace hookstream {

ConnectionTable::ConnectionTable(Limits limits, StillOpen still_open)
    : limits_(limits), still_open_(std::move(still_open)) {}

bool ConnectionTable::FdNamesInode(int fd, uint64_t inode) {
  struct stat st {};
  return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode) &&
         static_cast<uint64_t>(st.st_ino) == inode;
}

ConnectionTable::Verdict ConnectionTable::Admit(int fd, uint64_t inode,
                                                const std::string& peer,
                                                absl::Time now) {
  absl::MutexLock lock(&mu_);
  // The kernel handed out `fd` again: whatever it named before is closed.
  Forget(fd);
  if (limits_.max_per_peer > 0) {
    auto it = by_peer_.find(peer);
    if (it != by_peer_.end() && it->second.size() >= limits_.max_per_peer) {
      PrunePeer(peer);
      it = by_peer_.find(peer);
      if (it != by_peer_.end() && it->second.size() >= limits_.max_per_peer) {
        return Verdict::kOverPeer;
      }
    }
  }
  if (limits_.max_total > 0 && by_fd_.size() >= limits_.max_total) {
    if (now - last_full_prune_ >= limits_.prune_interval) {
      last_full_prune_ = now;
      PruneAll();
    }
    if (by_fd_.size() >= limits_.max_total) return Verdict::kOverTotal;
  }
  by_fd_.emplace(fd, Entry{inode, peer});
  by_peer_[peer].insert(fd);
  return Verdict::kAdmitted;
}

size_t ConnectionTable::size() const {
  absl::MutexLock lock(&mu_);
  return by_fd_.size();
}

void ConnectionTable::Forget(int fd) {
  auto it = by_fd_.find(fd);
  if (it == by_fd_.end()) return;
  auto peer = by_peer_.find(it->second.peer);
  if (peer != by_peer_.end()) {
    peer->second.erase(fd);
    if (peer->second.empty()) by_peer_.erase(peer);
  }
  by_fd_.erase(it);
}

void ConnectionTable::PrunePeer(const std::string& peer) {
  auto it = by_peer_.find(peer);
  if (it == by_peer_.end()) return;
  std::vector<int> gone;
  for (int fd : it->second) {
    if (!still_open_(fd, by_fd_.at(fd).inode)) gone.push_back(fd);
  }
  for (int fd : gone) Forget(fd);
}

void ConnectionTable::PruneAll() {
  std::vector<int> gone;
  for (const auto& [fd, entry] : by_fd_) {
    if (!still_open_(fd, entry.inode)) gone.push_back(fd);
  }
  for (int fd : gone) Forget(fd);
}

}  // namespace hookstream
