// plan_reload: which options a SIGHUP applies and which it keeps until a restart.
#include <gtest/gtest.h>

#include "serve/reload.hpp"

namespace pb::serve {
namespace {

TEST(ServeReload, AppliesLiveOptionsAndKeepsTheOthersAtTheirRunningValues) {
  ServeOptions running;
  running.workers = 2;
  ServeOptions loaded = running;
  loaded.name = "renamed";
  loaded.limits.max_limit = 100;
  loaded.limits.default_limit = 20;
  loaded.max_filters = 3;
  loaded.rate_limit_per_minute = 60;
  loaded.cors_origin = "https://example.org";
  loaded.workers = 4;
  loaded.port = 9999;
  loaded.limits.history = true;

  const ReloadPlan plan = plan_reload(running, loaded);
  EXPECT_EQ(plan.next.name, "renamed");
  EXPECT_EQ(plan.next.limits.max_limit, 100u);
  EXPECT_EQ(plan.next.limits.default_limit, 20u);
  EXPECT_EQ(plan.next.max_filters, 3u);
  EXPECT_EQ(plan.next.rate_limit_per_minute, 60u);
  EXPECT_EQ(plan.next.cors_origin, "https://example.org");
  EXPECT_EQ(plan.next.workers, 2u);
  EXPECT_EQ(plan.next.port, running.port);
  EXPECT_FALSE(plan.next.limits.history);
  EXPECT_EQ(plan.applied, (std::vector<std::string>{"max_limit 5000 -> 100", "default_limit 500 -> 20",
                                                    "max_filters 200 -> 3", "rate_limit 0 -> 60",
                                                    "name \"proton-beam archive\" -> \"renamed\"",
                                                    "cors_origin \"*\" -> \"https://example.org\""}));
  EXPECT_EQ(plan.need_restart,
            (std::vector<std::string>{"listen \"127.0.0.1:7447\" -> \"127.0.0.1:9999\" (needs a restart)",
                                      "history false -> true (needs a restart)", "workers 2 -> 4 (needs a restart)"}));
}

TEST(ServeReload, NothingChangedIsAnEmptyPlan) {
  ServeOptions running;
  running.inflated_copy = "/var/cache/copy";
  const ReloadPlan plan = plan_reload(running, running);
  EXPECT_TRUE(plan.applied.empty());
  EXPECT_TRUE(plan.need_restart.empty());
  EXPECT_EQ(plan.next.inflated_copy, running.inflated_copy);
}

}  // namespace
}  // namespace pb::serve
