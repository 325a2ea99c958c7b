// SeenIds: the in-flight dedup set, and the daemon's verification claims (one verify per id at a time).
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "ingest/seen_ids.hpp"

namespace pb {
namespace {

Id32 id_of(unsigned char b) {
  Id32 id{};
  id.fill(b);
  return id;
}

TEST(SeenIds, NoteKeepsTheSmallestOrdinal) {
  SeenIds seen;
  seen.note(id_of(1), 9);
  seen.note(id_of(1), 4);
  seen.note(id_of(1), 7);
  EXPECT_EQ(seen.find(id_of(1)), 4u);
  EXPECT_FALSE(seen.find(id_of(2)));
  seen.erase(id_of(1));
  EXPECT_FALSE(seen.find(id_of(1)));
}

TEST(SeenIds, FirstClaimIsMineAndAValidSettleRecordsTheId) {
  SeenIds seen;
  ASSERT_EQ(seen.claim_or_wait(id_of(3)), SeenIds::Claim::claimed);
  seen.settle(id_of(3), true);
  EXPECT_EQ(seen.find(id_of(3)), 0u);
  EXPECT_EQ(seen.claim_or_wait(id_of(3)), SeenIds::Claim::verified);
}

TEST(SeenIds, AnInvalidSettleLeavesTheIdToTheNextCopy) {
  SeenIds seen;
  ASSERT_EQ(seen.claim_or_wait(id_of(4)), SeenIds::Claim::claimed);
  seen.settle(id_of(4), false);  // e.g. a forged signature
  EXPECT_FALSE(seen.find(id_of(4)));
  EXPECT_EQ(seen.claim_or_wait(id_of(4)), SeenIds::Claim::claimed);  // the genuine copy is verified
  seen.settle(id_of(4), false);
}

// A second worker meeting a claimed id gets the claimant's verdict, never its own claim while the first
// one is open. Whether it starts waiting before or after the settle, the answer is the same.
TEST(SeenIds, AWaiterGetsTheClaimantsVerdict) {
  for (const bool valid : {true, false}) {
    SeenIds seen;
    const Id32 id = id_of(valid ? 5 : 6);
    ASSERT_EQ(seen.claim_or_wait(id), SeenIds::Claim::claimed);
    std::atomic<bool> returned{false};
    SeenIds::Claim got{};
    std::thread waiter([&] {
      got = seen.claim_or_wait(id);
      returned = true;
    });
    EXPECT_FALSE(returned.load()) << "returned while the claim was open";
    seen.settle(id, valid);
    waiter.join();
    EXPECT_EQ(got, valid ? SeenIds::Claim::verified : SeenIds::Claim::claimed);
    if (!valid) seen.settle(id, false);
  }
}

// Many workers racing on the same ids: each id is claimed (verified) exactly once when every claim is
// settled valid, and every worker ends.
TEST(SeenIds, RacingWorkersVerifyEachIdOnce) {
  SeenIds seen;
  constexpr int kIds = 200, kWorkers = 4;
  std::vector<std::atomic<int>> claims(kIds);
  std::vector<std::thread> workers;
  for (int w = 0; w < kWorkers; ++w)
    workers.emplace_back([&] {
      for (int i = 0; i < kIds; ++i) {
        const Id32 id = id_of(static_cast<unsigned char>(i));
        if (seen.claim_or_wait(id) == SeenIds::Claim::claimed) {
          ++claims[i];
          seen.settle(id, true);
        }
      }
    });
  for (auto& t : workers) t.join();
  for (int i = 0; i < kIds; ++i) EXPECT_EQ(claims[i].load(), 1) << i;
}

}  // namespace
}  // namespace pb
