// Import checkpoints: atomic save/load round trip and the acknowledged-prefix rule for batches that
// complete out of order.
#include <gtest/gtest.h>

#include <fstream>

#include "clickhouse/checkpoint.hpp"
#include "test_support.hpp"

namespace pb::ch {
namespace {

TEST(ClickHouseCheckpoint, SaveLoadRoundTrip) {
  test::TempDir dir;
  const auto path = dir.path() / "ckpt";
  EXPECT_TRUE(load_checkpoint(path).empty());  // absent file: start from scratch
  CheckpointMap map;
  map["/a/2024_01_01.pb.gz"] = FilePosition{1234, 17, 5017, false, 0};
  map["/b c/with\ttab?.pb.gz"] = FilePosition{0, 3, 3, true, 999};
  save_checkpoint(path, map);
  EXPECT_EQ(load_checkpoint(path), map);
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "ckpt.tmp"));
  map.erase("/a/2024_01_01.pb.gz");
  save_checkpoint(path, map);
  EXPECT_EQ(load_checkpoint(path), map);
}

TEST(ClickHouseCheckpoint, RejectsGarbage) {
  test::TempDir dir;
  const auto path = dir.path() / "ckpt";
  std::ofstream(path) << "something else\n";
  EXPECT_THROW(load_checkpoint(path), std::runtime_error);
  std::ofstream(path) << "proton-beam-clickhouse-checkpoint v1\n1 2 x\t/f\n";
  EXPECT_THROW(load_checkpoint(path), std::runtime_error);
}

TEST(ClickHouseCheckpoint, AdvancesOnlyOverTheAcknowledgedPrefix) {
  CheckpointMap initial;
  initial["/other"] = FilePosition{5, 5, 5, true, 10};
  AckTracker t(initial);
  const auto s0 = t.add("/f", FilePosition{0, 100, 100, false, 0});
  const auto s1 = t.add("/f", FilePosition{4096, 50, 200, false, 0});
  const auto s2 = t.add("/f", FilePosition{8192, 10, 300, true, 9000});
  const auto s3 = t.add("/g", FilePosition{0, 7, 7, true, 70});
  EXPECT_EQ(t.pending(), 4u);
  EXPECT_FALSE(t.acknowledge(s2));  // later batches done first: nothing committed yet
  EXPECT_FALSE(t.acknowledge(s1));
  EXPECT_EQ(t.committed().count("/f"), 0u);
  EXPECT_TRUE(t.acknowledge(s0));  // now 0, 1 and 2 form a prefix
  EXPECT_EQ(t.committed().at("/f"), (FilePosition{8192, 10, 300, true, 9000}));
  EXPECT_EQ(t.committed().count("/g"), 0u);
  EXPECT_EQ(t.committed().at("/other"), initial.at("/other"));  // files not in this run are kept
  EXPECT_TRUE(t.acknowledge(s3));
  EXPECT_EQ(t.committed().at("/g").records, 7u);
  EXPECT_EQ(t.pending(), 0u);
  EXPECT_FALSE(t.acknowledge(s3));  // unknown or repeated: no change
}

TEST(ClickHouseCheckpoint, WriterSavesCommittedPositions) {
  test::TempDir dir;
  const auto path = dir.path() / "ckpt";
  AckTracker t({});
  CheckpointWriter w(path, std::chrono::hours(1));
  t.acknowledge(t.add("/f", FilePosition{0, 1, 1, false, 0}));
  w.maybe_save(t);  // the first save is due at once
  EXPECT_EQ(load_checkpoint(path).at("/f").records, 1u);
  t.acknowledge(t.add("/f", FilePosition{0, 2, 2, false, 0}));
  w.maybe_save(t);  // throttled
  EXPECT_EQ(load_checkpoint(path).at("/f").records, 1u);
  w.flush(t);
  EXPECT_EQ(load_checkpoint(path).at("/f").records, 2u);
}

}  // namespace
}  // namespace pb::ch
