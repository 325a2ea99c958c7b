// The set of relay connections: the operator's relays (set_relays: added ones connect, removed ones close,
// unchanged ones keep their connection) and the ones discovery picked (set_discovered, same rules; a URL
// the operator names is the operator's). Resumes paused relays, reports per-relay state. io thread only.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "daemon/relay_connection.hpp"

namespace pb::daemon {

class RelayManager {
 public:
  RelayManager(RelayContext& ctx, std::map<std::string, std::int64_t> cursors);
  void set_relays(const std::vector<std::string>& urls);
  void set_discovered(const std::set<std::string>& urls);
  // Stops every relay; returns the events they had read but not queued.
  std::vector<InboundEvent> stop_all();
  void resume_paused();
  std::size_t connected() const;
  bool is_operator(const std::string& url) const { return operators_.count(url) > 0; }
  const std::set<std::string>& operator_urls() const { return operators_; }
  const RelayConnection* connection(const std::string& url) const;
  // The relays as a JSON array; `extra` may append fields to a relay's object (",\"k\":v...").
  using ExtraFields = std::function<void(std::string& out, const std::string& url)>;
  std::string relays_json(const ExtraFields& extra = {}) const;

 private:
  void sync(std::string_view why);  // closes the relays no longer wanted, starts the new ones
  std::shared_ptr<RelayCounters> counters_for(const std::string& url);
  RelayContext& ctx_;
  Nip42Signer signer_;
  std::map<std::string, std::int64_t> initial_cursors_;
  std::map<std::string, std::shared_ptr<RelayCounters>> counters_;  // kept across removal and re-adding
  std::vector<std::string> operator_list_;                          // in the operator's order
  std::set<std::string> operators_, discovered_;
  std::map<std::string, std::shared_ptr<RelayConnection>> relays_;
};

}  // namespace pb::daemon
