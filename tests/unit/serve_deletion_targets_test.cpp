// The deletion set (serve/deletion_targets.hpp): after build() it names exactly the `e` ids and `a`
// addresses of the kind-5 events up to the seq it covers, catch_up() adds later commits, and a kind-5 event
// that cannot be read or a stopped build leaves the set unused (every check then goes to SQL).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "archive/committed_files.hpp"
#include "archive/writer.hpp"
#include "archive_test_support.hpp"
#include "nostr/hex.hpp"
#include "serve/deletion_targets.hpp"
#include "serve/query_engine.hpp"
#include "test_support.hpp"

namespace pb::serve {
namespace {

class DeletionTargetsTest : public ::testing::Test {
 protected:
  Event make(std::int32_t kind, std::vector<Tag> tags, std::int64_t created_at) {
    Event e;
    e.kind = kind;
    e.created_at = created_at;
    e.tags = std::move(tags);
    e.content = std::to_string(n_++);
    signer_.sign(e);
    return e;
  }
  static IndexTag e_key(const Event& ev) { return index_tag('e', to_hex(ev.id)); }

  // Reads events the way the server does (member cache, then record); `fail` makes it lose every event.
  DeletionTargets::Loader loader(QueryEngine& engine, bool fail = false) {
    return [&engine, fail](const IndexRow& row) { return fail ? std::nullopt : engine.load(row); };
  }

  test::TempDir dir_;
  test::Signer signer_{7};
  int n_ = 0;
  MemberCache cache_{dir_.path(), 1 << 20};
  QueryLimits limits_;
};

TEST_F(DeletionTargetsTest, BuildNamesWhatDeletionsNameAndCatchUpAddsLaterOnes) {
  const Event a = make(1, {}, 1700000000), b = make(1, {}, 1700000001);
  const Event del_a = make(5, {{"e", to_hex(a.id)}, {"a", "30023:ab:x"}, {"p", "zz"}}, 1700000002);
  test::write_archive(dir_.path(), {a, b, del_a});
  ArchiveIndex index = open_archive_index(dir_.path());
  QueryEngine engine(index, cache_, limits_);
  DeletionTargets set;
  EXPECT_EQ(set.covered(), -1);
  set.catch_up(index, index.last_seq(), loader(engine));  // before build(): nothing
  EXPECT_EQ(set.covered(), -1);

  set.build(index, index.last_seq(), loader(engine));
  EXPECT_EQ(set.covered(), index.last_seq());
  EXPECT_TRUE(set.may_target(e_key(a)));
  EXPECT_TRUE(set.may_target(index_tag('a', "30023:ab:x")));
  EXPECT_FALSE(set.may_target(e_key(b)));
  EXPECT_FALSE(set.may_target(index_tag('p', "zz")));  // only e and a name events
  EXPECT_FALSE(set.may_target(e_key(del_a)));
  EXPECT_EQ(set.stats().keys, 2u);
  EXPECT_EQ(set.stats().deletions, 1u);

  // A later commit: b is named once the set is caught up to it, not before.
  const Event del_b = make(5, {{"e", to_hex(b.id)}}, 1700000003);
  {
    ArchiveWriter w(dir_.path(), {});
    std::string rec;
    append_record(rec, del_b);
    ASSERT_TRUE(w.add({del_b.id, del_b.pubkey, del_b.created_at, del_b.kind, rec, index_tags(del_b)}));
    w.commit();
  }
  const std::int64_t old = set.covered();
  ASSERT_GT(index.last_seq(), old);
  EXPECT_FALSE(set.may_target(e_key(b)));
  set.catch_up(index, old, loader(engine));  // already covered: nothing read
  EXPECT_FALSE(set.may_target(e_key(b)));
  set.catch_up(index, index.last_seq(), loader(engine));
  EXPECT_EQ(set.covered(), index.last_seq());
  EXPECT_TRUE(set.may_target(e_key(b)));
  EXPECT_EQ(set.stats().deletions, 2u);
}

// Catch-ups go into a small delta beside the base; past an eighth of the base (at least 4096 keys) the
// delta is folded in. Either way every key is named once, and a snapshot taken before stays as it was.
TEST_F(DeletionTargetsTest, CatchUpsGrowADeltaThatIsFoldedIntoTheBase) {
  const Event a = make(1, {}, 1700000000);
  test::write_archive(dir_.path(), {a, make(5, {{"e", to_hex(a.id)}}, 1700000001)});
  ArchiveIndex index = open_archive_index(dir_.path());
  QueryEngine engine(index, cache_, limits_);
  DeletionTargets set;
  set.build(index, index.last_seq(), loader(engine));
  const DeletionTargets::Snapshot before = set.snapshot();
  auto commit_deletion = [&](int first, int count, std::int64_t at) {
    std::vector<Tag> tags;
    for (int i = first; i < first + count; ++i) tags.push_back({"e", "target " + std::to_string(i)});
    const Event del = make(5, std::move(tags), at);
    ArchiveWriter w(dir_.path(), {});
    std::string rec;
    append_record(rec, del);
    ASSERT_TRUE(w.add({del.id, del.pubkey, del.created_at, del.kind, rec, index_tags(del)}));
    w.commit();
  };
  commit_deletion(0, 100, 1700000002);  // small: stays in the delta
  set.catch_up(index, index.last_seq(), loader(engine));
  EXPECT_EQ(set.snapshot().base, before.base);
  EXPECT_EQ(set.snapshot().delta->size(), before.delta->size() + 100u);
  commit_deletion(50, 5000, 1700000003);  // overlaps by 50, and makes the delta too big: folded in
  set.catch_up(index, index.last_seq(), loader(engine));
  EXPECT_NE(set.snapshot().base, before.base);
  EXPECT_EQ(set.snapshot().delta->size(), 0u);
  EXPECT_EQ(set.stats().keys, 1u + 5050u);
  for (int i : {0, 49, 50, 99, 100, 5049}) EXPECT_TRUE(set.may_target(index_tag('e', "target " + std::to_string(i)))) << i;
  EXPECT_FALSE(set.may_target(index_tag('e', "target 5050")));
  EXPECT_TRUE(set.may_target(e_key(a)));
  EXPECT_FALSE(before.may_target(index_tag('e', "target 0")));  // an old snapshot does not change
  EXPECT_TRUE(before.may_target(e_key(a)));
}

// A backlog (rows committed since the set last caught up) is read in bounded steps: each call reads at
// most max_rows rows, says whether the set now covers the target, and a deletion counts once read.
TEST_F(DeletionTargetsTest, ABacklogIsCaughtUpInBoundedSteps) {
  const Event a = make(1, {}, 1700000000);
  test::write_archive(dir_.path(), {a});
  ArchiveIndex index = open_archive_index(dir_.path());
  QueryEngine engine(index, cache_, limits_);
  DeletionTargets set;
  set.build(index, index.last_seq(), loader(engine));
  const std::int64_t start = set.covered();
  {
    ArchiveWriter w(dir_.path(), {});
    std::string rec;
    std::vector<Event> later;
    for (int i = 0; i < 11; ++i) later.push_back(make(1, {}, 1700000100 + i));
    later.push_back(make(5, {{"e", to_hex(a.id)}}, 1700000200));  // the 12th row
    for (const Event& e : later) {
      rec.clear();
      append_record(rec, e);
      ASSERT_TRUE(w.add({e.id, e.pubkey, e.created_at, e.kind, rec, index_tags(e)}));
    }
    w.commit();
  }
  const std::int64_t last = index.last_seq();
  ASSERT_EQ(last, start + 12);
  EXPECT_FALSE(set.catch_up(index, last, loader(engine), 5));
  EXPECT_EQ(set.covered(), start + 5);
  EXPECT_FALSE(set.catch_up(index, last, loader(engine), 5));
  EXPECT_EQ(set.covered(), start + 10);
  EXPECT_FALSE(set.may_target(e_key(a)));
  EXPECT_TRUE(set.catch_up(index, last, loader(engine), 5));
  EXPECT_EQ(set.covered(), last);
  EXPECT_TRUE(set.may_target(e_key(a)));
  EXPECT_TRUE(set.catch_up(index, last, loader(engine), 5));  // nothing new: covered already
}

TEST_F(DeletionTargetsTest, AnUnreadableDeletionLeavesTheSetUnused) {
  const Event a = make(1, {}, 1700000000);
  test::write_archive(dir_.path(), {a, make(5, {{"e", to_hex(a.id)}}, 1700000001)});
  ArchiveIndex index = open_archive_index(dir_.path());
  QueryEngine engine(index, cache_, limits_);
  DeletionTargets set;
  set.build(index, index.last_seq(), loader(engine, /*fail=*/true));
  EXPECT_EQ(set.covered(), -1);
  EXPECT_FALSE(set.stats().ready);
  set.build(index, index.last_seq(), loader(engine));  // broken for good: no second build
  EXPECT_EQ(set.covered(), -1);
}

TEST_F(DeletionTargetsTest, AStoppedBuildLeavesTheSetUnusedAndMayBeRedone) {
  const Event a = make(1, {}, 1700000000);
  test::write_archive(dir_.path(), {a, make(5, {{"e", to_hex(a.id)}}, 1700000001)});
  ArchiveIndex index = open_archive_index(dir_.path());
  QueryEngine engine(index, cache_, limits_);
  DeletionTargets set;
  std::stop_source stop;
  stop.request_stop();
  set.build(index, index.last_seq(), loader(engine), stop.get_token());
  EXPECT_EQ(set.covered(), -1);
  set.build(index, index.last_seq(), loader(engine));
  EXPECT_EQ(set.covered(), index.last_seq());
  EXPECT_TRUE(set.may_target(e_key(a)));
}

// Rows without a kind-5 event among them move the covered seq and add nothing.
TEST_F(DeletionTargetsTest, AnArchiveWithoutDeletionsIsCoveredAndEmpty) {
  test::write_archive(dir_.path(), {make(1, {}, 1700000000), make(7, {{"e", std::string(64, 'a')}}, 1700000001)});
  ArchiveIndex index = open_archive_index(dir_.path());
  QueryEngine engine(index, cache_, limits_);
  DeletionTargets set;
  set.build(index, index.last_seq(), loader(engine));
  EXPECT_EQ(set.covered(), index.last_seq());
  EXPECT_EQ(set.stats().keys, 0u);
  EXPECT_FALSE(set.may_target(index_tag('e', std::string(64, 'a'))));
}

}  // namespace
}  // namespace pb::serve
