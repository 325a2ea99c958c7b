// BoundedQueue: the item bound, the byte budget (daemon queues) and the on_room hand-off.
#include <gtest/gtest.h>

#include <string>

#include "base/bounded_queue.hpp"

namespace pb {
namespace {

struct Blob {
  std::string bytes;
  std::size_t queue_bytes() const { return bytes.size(); }
};

TEST(BoundedQueue, TheItemBoundRefusesTryPushWhenFull) {
  BoundedQueue<int> q(2);
  int a = 1, b = 2, c = 3;
  EXPECT_TRUE(q.try_push(a));
  EXPECT_TRUE(q.try_push(b));
  EXPECT_FALSE(q.try_push(c));
  EXPECT_EQ(c, 3);  // a refused item is left to the caller
  EXPECT_EQ(q.pop(), 1);
  EXPECT_TRUE(q.try_push(c));
}

TEST(BoundedQueue, TheByteBudgetIsABoundToo) {
  BoundedQueue<Blob> q(100, 1000);
  Blob big{std::string(600, 'x')}, small{std::string(300, 'y')}, more{std::string(200, 'z')};
  EXPECT_TRUE(q.try_push(big));
  EXPECT_TRUE(q.try_push(small));  // 900 < 1000: room
  EXPECT_EQ(q.bytes(), 900u);
  EXPECT_TRUE(q.try_push(more));   // under the budget when offered: may end over it by one item
  EXPECT_EQ(q.bytes(), 1100u);
  Blob last{std::string(1, 'w')};
  EXPECT_FALSE(q.try_push(last));  // at the budget: full although 3 items < 100
  EXPECT_EQ(q.pop()->bytes.size(), 600u);
  EXPECT_EQ(q.bytes(), 500u);
  EXPECT_TRUE(q.try_push(last));
}

TEST(BoundedQueue, AnItemLargerThanTheBudgetStillMovesThroughAnEmptyQueue) {
  BoundedQueue<Blob> q(100, 10);
  Blob huge{std::string(1 << 20, 'h')}, next{std::string(1, 'n')};
  EXPECT_TRUE(q.try_push(huge));
  EXPECT_FALSE(q.try_push(next));
  EXPECT_EQ(q.pop()->bytes.size(), std::size_t{1} << 20);
  EXPECT_EQ(q.bytes(), 0u);
  EXPECT_TRUE(q.try_push(next));
}

TEST(BoundedQueue, OnRoomFiresOnceBothBoundsAreAtHalf) {
  BoundedQueue<Blob> q(4, 1000);
  int calls = 0;
  q.on_room([&] { ++calls; });
  Blob a{std::string(500, 'a')}, b{std::string(500, 'b')}, c{std::string(10, 'c')};
  ASSERT_TRUE(q.try_push(a));
  ASSERT_TRUE(q.try_push(b));
  ASSERT_FALSE(q.try_push(c));  // 1000 bytes: full; arms on_room
  ASSERT_TRUE(q.pop());         // 500 bytes left = half the budget
  EXPECT_EQ(calls, 1);
  ASSERT_TRUE(q.pop());
  EXPECT_EQ(calls, 1);          // once per refusal
}

}  // namespace
}  // namespace pb
