// The daemon's workers: a copy naming an id verified from an EARLIER frame is a duplicate before any
// parsing; any other copy is judged on its content (docs/daemon.md, "Pipeline").
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "archive/writer.hpp"
#include "daemon/counters.hpp"
#include "daemon/daemon_log.hpp"
#include "daemon/verifier_pool.hpp"
#include "ingest/seen_ids.hpp"
#include "nostr/hex.hpp"
#include "test_support.hpp"

namespace pb::daemon {
namespace {

struct Fixture {
  test::TempDir dir;
  Counters global;
  std::shared_ptr<RelayCounters> relay = std::make_shared<RelayCounters>("ws://relay.test/", global, -1);
  SeenIds seen;
  std::string genuine = test::read_lines(test::data_path("sample_events.jsonl")).front();
  Id32 id{};

  Fixture() {
    ArchiveWriter(dir.path() / "archive", {});  // creates index.db for the workers' lookups
    EXPECT_TRUE(decode_lower_hex(genuine.substr(genuine.find("\"id\"") + 7, 64), id));
  }
  // The genuine event with another kind: same id field, so the id check fails on its own.
  std::string forged() const {
    const auto at = genuine.find("\"kind\": ") + 8;
    EXPECT_EQ(genuine.substr(at, 2), "7,");
    return genuine.substr(0, at) + "1" + genuine.substr(at);  // kind 7 -> 17
  }
  InboundEvent frame(const std::string& event, std::uint64_t ordinal) const {
    const std::string head = "[\"EVENT\",\"s\",";
    return InboundEvent{relay, head + event + "]", head.size(), event.size(), {}, ordinal};
  }
  // Runs one worker over `items` in order; returns the events it handed to the writer.
  std::size_t run(std::vector<InboundEvent> items) {
    WorkQueue<InboundEvent> in(items.size() + 1);
    WorkQueue<CheckedEvent> out(items.size() + 1);
    DaemonLog log(dir.path(), false);
    {
      VerifierPool pool({dir.path() / "archive" / "index.db", Filter{}, {}, 1, false}, in, out, seen, log);
      for (auto& item : items) in.push(std::move(item));
      in.close();
    }
    return out.size();
  }
};

TEST(VerifierPool, AForgedCopyReadBeforeTheGenuineIsInvalidAndTheGenuineIsStored) {
  Fixture f;
  ASSERT_EQ(f.genuine.rfind("{\"id\": \"", 0), 0u);  // the leading-id shape the fast path reads
  EXPECT_EQ(f.run({f.frame(f.forged(), 1), f.frame(f.genuine, 2)}), 1u);
  EXPECT_EQ(f.relay->invalid.load(), 1u);
  EXPECT_EQ(f.relay->duplicates.load(), 0u);
  EXPECT_EQ(f.seen.find(f.id), 2u);
}

TEST(VerifierPool, CopiesReadAfterTheVerifiedOneAreDuplicatesWhateverTheirContent) {
  Fixture f;
  EXPECT_EQ(f.run({f.frame(f.genuine, 1), f.frame(f.genuine, 2), f.frame(f.forged(), 3)}), 1u);
  EXPECT_EQ(f.relay->duplicates.load(), 2u);
  EXPECT_EQ(f.relay->invalid.load(), 0u);  // the order: dedup before the id check
}

// The verdict follows arrival order, not which worker finished first: a copy read BEFORE the frame the id
// was verified from is judged on its content.
TEST(VerifierPool, ACopyReadBeforeTheVerifiedFrameIsJudgedOnItsContent) {
  Fixture f;
  f.seen.note(f.id, 10);  // verified from frame 10 by another worker
  EXPECT_EQ(f.run({f.frame(f.forged(), 5), f.frame(f.genuine, 6)}), 0u);
  EXPECT_EQ(f.relay->invalid.load(), 1u);     // the forgery, read first, is invalid
  EXPECT_EQ(f.relay->duplicates.load(), 1u);  // the genuine copy: its content hashes to the verified id
}

}  // namespace
}  // namespace pb::daemon
