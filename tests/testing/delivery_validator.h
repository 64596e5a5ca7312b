// -----------------------------------------------------------------------------
// File: delivery_validator.h
// -----------------------------------------------------------------------------
// DeliveryValidator checks what subscribers received against what the server
// holds and what it acknowledged, in the spirit of etcd's robustness checker:
// tests record, the validator proves the delivery contract afterwards.
//
// Inputs:
//   - the stream as the server holds it at the end (every event in order,
//     e.g. from ListEvents on a ring big enough to hold them all: the truth);
//   - the acknowledgements the senders got (id → sequence, 200 answers);
//   - one DeliveryLog per subscriber: its events, gaps and resumptions, in
//     the order it saw them.
//
// Violations reported (each one line naming the subscriber and sequences):
//   - the stream: a sequence not above the previous one, an id twice;
//   - an acknowledged id missing from the stream, or at another sequence;
//   - a subscriber: a sequence not above its previous one in the same epoch
//     (out of order or duplicate), an event whose id differs from the
//     stream's at that sequence (a sequence reused for another event), or an
//     event of the stream that its filter matches, between its start (or a
//     resumption) and its last event, that it neither received nor was told
//     about by a Gap (skipped silently).
//
// Example:
//   DeliveryLog log("sub-1");
//   log.Started(epoch, /*after_sequence=*/0);
//   for (const v1::Event& e : received) log.Event(e);
//   std::vector<std::string> bad = ValidateDeliveries(stream, acked, {&log});
//   EXPECT_THAT(bad, IsEmpty());
//
// Thread-safety: a DeliveryLog is filled by one thread at a time (guard it if
// several callbacks feed it); ValidateDeliveries is pure.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "hookstream/v1/event.pb.h"
#include "hookstream/v1/event_stream.pb.h"

namespace hookstream::testing {

// One event of the stream as the server holds it.
struct StreamEvent {
  uint64_t sequence = 0;
  std::string id;
  std::string type;
  std::string account;
};

inline std::vector<StreamEvent> ToStreamEvents(
    const std::vector<v1::Event>& events) {
  std::vector<StreamEvent> out;
  out.reserve(events.size());
  for (const v1::Event& e : events) {
    out.push_back({e.sequence(), e.id(), e.type(), e.account()});
  }
  return out;
}

class DeliveryLog {
 public:
  // What the subscriber asked for (empty: everything). Type patterns as the
  // server's: exact, `prefix.*`, `*`.
  explicit DeliveryLog(std::string name, v1::EventFilter filter = {})
      : name_(std::move(name)), filter_(std::move(filter)) {}

  // A stream (re)started after `after_sequence` of `epoch` (the first start,
  // or a resumption after a reconnect).
  void Started(const std::string& epoch, uint64_t after_sequence) {
    entries_.push_back({Entry::kStart, epoch, after_sequence, "", 0});
  }
  void Event(const v1::Event& event) {
    entries_.push_back(
        {Entry::kEvent, event.stream_epoch(), event.sequence(), event.id(), 0});
  }
  void Gap(const v1::Gap& gap) {
    entries_.push_back({Entry::kGap, gap.stream_epoch(),
                        gap.requested_after_sequence(), "",
                        gap.oldest_sequence()});
  }

  const std::string& name() const { return name_; }
  size_t event_count() const {
    size_t n = 0;
    for (const Entry& e : entries_) n += e.kind == Entry::kEvent;
    return n;
  }

  bool Matches(const StreamEvent& e) const {
    bool type_ok = filter_.types().empty();
    for (const std::string& p : filter_.types()) {
      if (p == "*" || p == e.type ||
          (absl::EndsWith(p, ".*") &&
           absl::StartsWith(e.type, p.substr(0, p.size() - 1)))) {
        type_ok = true;
      }
    }
    bool account_ok = filter_.accounts().empty();
    for (const std::string& a : filter_.accounts())
      account_ok |= a == e.account;
    return type_ok && account_ok;
  }

  struct Entry {
    enum Kind { kStart, kEvent, kGap } kind;
    std::string epoch;
    // kStart: after_sequence; kEvent: sequence; kGap: requested_after.
    uint64_t sequence;
    std::string id;
    // kGap: the oldest sequence delivery goes on from.
    uint64_t oldest;
  };
  const std::vector<Entry>& entries() const { return entries_; }

 private:
  std::string name_;
  v1::EventFilter filter_;
  std::vector<Entry> entries_;
};

// `stream` is the truth for one epoch, `epoch`; events of other epochs in the
// logs are checked for order only. `acked`: id → the sequence its 200 named.
inline std::vector<std::string> ValidateDeliveries(
    const std::string& epoch, const std::vector<StreamEvent>& stream,
    const std::map<std::string, uint64_t>& acked,
    const std::vector<const DeliveryLog*>& logs) {
  std::vector<std::string> bad;
  std::map<uint64_t, const StreamEvent*> by_sequence;
  std::map<std::string, uint64_t> sequence_of;
  uint64_t previous = 0;
  for (const StreamEvent& e : stream) {
    if (e.sequence <= previous) {
      bad.push_back(
          absl::StrCat("stream: sequence ", e.sequence, " after ", previous));
    }
    previous = e.sequence;
    if (!sequence_of.emplace(e.id, e.sequence).second) {
      bad.push_back(absl::StrCat("stream: id ", e.id, " at sequences ",
                                 sequence_of[e.id], " and ", e.sequence));
    }
    by_sequence[e.sequence] = &e;
  }
  for (const auto& [id, sequence] : acked) {
    auto it = sequence_of.find(id);
    if (it == sequence_of.end()) {
      bad.push_back(absl::StrCat("acknowledged ", id, " (sequence ", sequence,
                                 ") is missing from the stream"));
    } else if (it->second != sequence) {
      bad.push_back(absl::StrCat("acknowledged ", id, " at sequence ", sequence,
                                 " is at ", it->second));
    }
  }

  for (const DeliveryLog* log : logs) {
    const std::string& who = log->name();
    std::map<std::string, uint64_t> last_in_epoch;
    // The position delivery must continue from without skipping anything,
    // in `epoch` (nullopt-like: `tracking` false before a start).
    bool tracking = false;
    uint64_t position = 0;
    for (const DeliveryLog::Entry& entry : log->entries()) {
      const bool ours = entry.epoch == epoch;
      switch (entry.kind) {
        case DeliveryLog::Entry::kStart:
          tracking = ours;
          position = entry.sequence;
          break;
        case DeliveryLog::Entry::kGap:
          // Told: what lies before `oldest` may be missing.
          if (ours && entry.oldest > 0) {
            tracking = true;
            position = std::max(position, entry.oldest - 1);
          }
          break;
        case DeliveryLog::Entry::kEvent: {
          uint64_t& last = last_in_epoch[entry.epoch];
          if (entry.sequence <= last) {
            bad.push_back(absl::StrCat(who, ": sequence ", entry.sequence,
                                       " after ", last, " (epoch ", entry.epoch,
                                       ")"));
          }
          last = std::max(last, entry.sequence);
          if (!ours) break;
          auto held = by_sequence.find(entry.sequence);
          if (held != by_sequence.end() && held->second->id != entry.id) {
            bad.push_back(absl::StrCat(who, ": sequence ", entry.sequence,
                                       " delivered as ", entry.id,
                                       ", the stream has ", held->second->id));
          }
          if (tracking) {
            for (auto it = by_sequence.upper_bound(position);
                 it != by_sequence.end() && it->first < entry.sequence; ++it) {
              if (log->Matches(*it->second)) {
                bad.push_back(absl::StrCat(who, ": skipped sequence ",
                                           it->first, " (", it->second->id,
                                           ") without a Gap"));
              }
            }
          }
          tracking = true;
          position = std::max(position, entry.sequence);
          break;
        }
      }
    }
  }
  return bad;
}

}  // namespace hookstream::testing
