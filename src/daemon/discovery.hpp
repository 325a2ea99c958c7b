// Relay discovery (docs/daemon.md, "Discovery"): every round (--discovery-interval) it folds the relay
// hints of newly stored events into the candidate table (discovery.db), updates the scores of the
// discovered relays it has connected (novel events, uptime, failures), parks relays that failed
// kParkAfterFailures times in a row, and fills the free slots (--max-relays minus the operator relays)
// with the best eligible candidates, rotating the worst one out when a better one waits. It is also the
// connection gate (RelayContext::admit) of discovered relays: SSRF rules on the resolved addresses and
// the per-IP cap. Operator relays are never judged, counted against the caps, or rotated out.
// Lives on the io thread (rounds, the gate and the HTTP handlers all run there).
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/steady_timer.hpp>

#include "daemon/daemon_log.hpp"
#include "daemon/discovery_feed.hpp"
#include "daemon/discovery_limits.hpp"
#include "daemon/discovery_plan.hpp"
#include "daemon/discovery_store.hpp"
#include "daemon/nip11_info.hpp"
#include "daemon/relay_manager.hpp"

namespace pb::daemon {

struct DiscoverySettings {
  std::filesystem::path db_path;          // <archive>/discovery.db
  std::size_t max_relays = 50;            // operator + discovered relays connected at once
  bool allow_private = false;             // lift the name and address rules (LAN relays, tests)
  std::chrono::milliseconds interval{300'000};
  std::size_t connects_per_minute = 10;   // new discovered relays started per minute
};

class Discovery : public std::enable_shared_from_this<Discovery> {
 public:
  Discovery(boost::asio::io_context& io, RelayManager& relays, DiscoveryFeed& feed, DaemonLog& log, DiscoverySettings s);
  // Loads the candidate table and runs the first round now, then one every interval.
  void start();
  // Last bookkeeping and save; no rounds after it.
  void shutdown();

  // The connection gate, called with a relay's freshly resolved addresses before it dials. Discovered
  // relays keep only addresses that pass the rules and one with a free per-IP slot (the connection goes
  // to exactly that address: no second lookup). Returns why not, or nothing to dial `addresses`.
  std::optional<std::string> admit(const std::string& url, std::vector<boost::asio::ip::address>& addresses);
  // The second gate, with the relay's NIP-11 document (fetched from the admitted address): a discovered
  // relay that requires auth or payment is refused (nip11_auth_required, nip11_payment_required).
  std::optional<std::string> admit_info(const std::string& url, const RelayInfo& info);

  void append_metrics(std::string& out) const;
  // /relays: extra fields for a relay of the connected set, and the candidates outside it.
  void append_relay_fields(std::string& out, const std::string& url) const;
  void append_candidates(std::string& out) const;

 private:
  struct Tracking {  // counters of an active relay at the last round (to turn totals into increments)
    std::uint64_t stored = 0, connects = 0, failures = 0;
    std::int64_t active_ms = 0, connected_ms = 0;  // not yet moved to whole seconds
  };
  void schedule();
  void round();
  void ingest(std::int64_t now_unix);
  Candidate* candidate_for(const std::string& url, std::int64_t now_unix);
  void update_active(std::int64_t elapsed_ms);
  void apply(const Plan& plan, std::int64_t now_unix);
  void drop(const std::string& url);
  std::string refuse_dial(const std::string& url, std::string_view reason, const std::string& detail);
  void refused(std::string_view reason, std::string_view url, std::uint64_t n, std::string_view when);
  void save();

  boost::asio::io_context& io_;
  RelayManager& relays_;
  DiscoveryFeed& feed_;
  DaemonLog& log_;
  DiscoverySettings settings_;
  std::unique_ptr<CandidateStore> store_;  // null when discovery.db could not be opened (in memory only)
  Candidates candidates_;
  std::set<std::string> active_;           // discovered relays in the connected set
  std::map<std::string, Tracking> tracking_;
  IpSlots ip_slots_;
  ConnectRateLimit rate_;
  boost::asio::steady_timer timer_;
  std::chrono::steady_clock::time_point last_round_{};
  std::map<std::string_view, std::uint64_t> refused_;  // by reason
  std::uint64_t rounds_ = 0, rotations_ = 0, parks_ = 0, rate_limited_ = 0, store_errors_ = 0;
  bool stopped_ = false;
};

}  // namespace pb::daemon
