#include "daemon/verifier_pool.hpp"

#include <fmt/format.h>

#include "archive/proto_codec.hpp"
#include "base/thread_name.hpp"
#include "daemon/relay_message.hpp"
#include "nostr/hex.hpp"
#include "nostr/json_parse.hpp"

namespace pb::daemon {
namespace {

// Settles this worker's verification claim on an id on every way out of check(): valid only once the
// event is accepted, so a waiting copy of a rejected one is verified on its own.
class ClaimGuard {
 public:
  ClaimGuard(SeenIds& seen, const Id32& id, std::uint64_t ordinal) : seen_(seen), id_(id), ordinal_(ordinal) {}
  ~ClaimGuard() { seen_.settle(id_, valid_, ordinal_); }
  ClaimGuard(const ClaimGuard&) = delete;
  ClaimGuard& operator=(const ClaimGuard&) = delete;
  void set_valid() { valid_ = true; }

 private:
  SeenIds& seen_;
  Id32 id_;
  std::uint64_t ordinal_;
  bool valid_ = false;
};

class Checker {
 public:
  Checker(const VerifierSetup& s, SeenIds& seen, DaemonLog& log)
      : setup_(s), seen_(seen), log_(log), validator_(s.validation),
        index_(ArchiveIndex::open(s.index_path, ArchiveIndex::Mode::read_only)) {}

  // The result to hand to the writer, if any (rejects, filtered and known duplicates are counted here).
  std::optional<CheckedEvent> check(const InboundEvent& in) {
    RelayCounters& rc = *in.relay;
    const std::string_view json = std::string_view(in.frame).substr(in.offset, in.size);
    if (known_copy(json, in.ordinal)) {
      rc.bump(&Counters::duplicates);
      return std::nullopt;
    }
    if (auto rej = parser_.parse(json, ev_)) return reject(rc, *rej, parser_.id_parsed());
    if (!setup_.filter.matches(ev_)) {
      rc.bump(&Counters::filtered);
      return std::nullopt;
    }
    if (auto rej = validator_.check_id(ev_)) return reject(rc, *rej, true);
    if (seen_.find(ev_.id)) {  // verified earlier, not committed yet
      rc.bump(&Counters::duplicates);
      return std::nullopt;
    }
    CheckedEvent out{in.relay, CheckedEvent::Outcome::new_event, ev_.id, ev_.pubkey, ev_.created_at, ev_.kind, {}, {}, {}, {}};
    if (index_.contains(ev_.id)) return out.outcome = CheckedEvent::Outcome::known, out;
    if (seen_.claim_or_wait(ev_.id) == SeenIds::Claim::verified) {  // another copy was verified meanwhile
      rc.bump(&Counters::duplicates);
      return std::nullopt;
    }
    ClaimGuard claim(seen_, ev_.id, in.ordinal);
    if (auto rej = validator_.check_signature(ev_)) return reject(rc, *rej, true);
    append_record(out.record, ev_);
    if (out.record.size() > kMaxRecordBytes) return reject(rc, {RejectCategory::invalid_field, "event too large"}, true);
    out.tags = index_tags(ev_, hasher_);
    if (setup_.collect_hints) out.hints = relay_hints(ev_);
    claim.set_valid();
    return out;
  }

 private:
  // A copy of an event verified earlier in this run, told by the id it names, before parsing: relays send
  // each event more than once (every relay that has it), and a copy's parse and id hash cost a quarter of
  // a verify. Only ids verified valid from a frame that arrived EARLIER count, so a copy read before the
  // genuine one is always judged on its content, whichever worker finishes first. Whatever a dropped copy
  // is, it cannot be a new valid event: a valid event's id is the hash of its content, and a second "id"
  // key makes it invalid. A forged copy read after its genuine event is counted as a duplicate (or as
  // invalid when it is checked before the genuine copy's verify has ended), as the pipeline has it:
  // dedup before the id check and the signature.
  bool known_copy(std::string_view json, std::uint64_t ordinal) {
    const auto id = leading_id(json);
    if (!id) return false;
    const auto first = seen_.find(*id);
    return first && *first < ordinal;
  }

  std::optional<CheckedEvent> reject(RelayCounters& rc, const Rejection& rej, bool id_parsed) {
    rc.bump(&Counters::invalid);
    const std::string prefix = id_parsed ? to_hex(std::span(ev_.id).first(8)) : std::string();
    log_.reject(rc.url, category_name(rej.category), prefix, rej.message);
    return std::nullopt;
  }

  const VerifierSetup& setup_;
  SeenIds& seen_;
  DaemonLog& log_;
  EventParser parser_;
  EventValidator validator_;
  ArchiveIndex index_;
  Sha256Hasher hasher_;
  Event ev_;
};

}  // namespace

VerifierPool::VerifierPool(VerifierSetup setup, WorkQueue<InboundEvent>& in, WorkQueue<CheckedEvent>& out,
                           SeenIds& seen, DaemonLog& log)
    : setup_(std::move(setup)), in_(in), out_(out), seen_(seen), log_(log) {
  for (unsigned i = 0; i < std::max(1u, setup_.threads); ++i) threads_.emplace_back([this] { run(); });
}

VerifierPool::~VerifierPool() { join(); }

void VerifierPool::join() {
  for (auto& t : threads_)
    if (t.joinable()) t.join();
}

void VerifierPool::run() {
  name_this_thread("pb-verify");
  Checker checker(setup_, seen_, log_);
  while (auto item = in_.pop()) {
    std::optional<CheckedEvent> checked;
    if (!item->history.end) {
      try {
        checked = checker.check(*item);
      } catch (const std::exception& e) {  // an index read failing must not kill the daemon silently
        log_.error(fmt::format("worker: {}", e.what()));
        item->relay->bump(&Counters::invalid);
      }
    }
    // Every item of a history run reaches the writer, dropped or not, and so does the run's end mark: the
    // writer counts them to know when the run is complete (cursor_hold.hpp).
    if (!checked && item->history.run == 0) continue;
    if (!checked) {
      checked.emplace();
      checked->relay = item->relay;
      checked->outcome = item->history.end ? CheckedEvent::Outcome::history_end : CheckedEvent::Outcome::dropped;
    }
    checked->history = item->history;
    out_.push(std::move(*checked));
  }
}

}  // namespace pb::daemon
