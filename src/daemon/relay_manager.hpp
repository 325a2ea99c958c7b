// The set of relay connections: applies a relay list (added ones connect, removed ones close, unchanged
// ones keep their connection), resumes paused relays, and reports per-relay state. io thread only.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "daemon/relay_connection.hpp"

namespace pb::daemon {

class RelayManager {
 public:
  RelayManager(RelayContext& ctx, std::map<std::string, std::int64_t> cursors);
  void set_relays(const std::vector<std::string>& urls);
  // Stops every relay; returns the events they had read but not queued.
  std::vector<InboundEvent> stop_all();
  void resume_paused();
  std::size_t connected() const;
  std::string relays_json() const;

 private:
  std::shared_ptr<RelayCounters> counters_for(const std::string& url);
  RelayContext& ctx_;
  Nip42Signer signer_;
  std::map<std::string, std::int64_t> initial_cursors_;
  std::map<std::string, std::shared_ptr<RelayCounters>> counters_;  // kept across removal and re-adding
  std::map<std::string, std::shared_ptr<RelayConnection>> relays_;
};

}  // namespace pb::daemon
