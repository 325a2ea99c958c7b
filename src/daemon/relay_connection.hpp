// One relay: resolve, its NIP-11 document (relay_info_cache.hpp: limit = min(page_size, max_limit)), connect
// (pb_net WsClient), one live REQ with our filter, since = cursor - overlap and
// limit = page_size, its history paged back with until (history_pager.hpp: one page in flight, each page
// closed after its EOSE), the relay's messages, back-pressure, and reconnects with backoff. Events read
// while the history is unfinished are tagged with the connection's history run, whose end mark follows
// them to the writer (cursor_hold.hpp). Lives on the io thread only.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/steady_timer.hpp>

#include "daemon/backoff.hpp"
#include "daemon/history_pager.hpp"
#include "daemon/nip42_auth.hpp"
#include "daemon/relay_context.hpp"
#include "net/ws_client.hpp"

namespace pb::daemon {

class RelayConnection : public std::enable_shared_from_this<RelayConnection> {
 public:
  RelayConnection(RelayContext& ctx, Nip42Signer& signer, std::shared_ptr<RelayCounters> counters);
  void start();
  // Stops for good: no more reading or reconnecting. Returns the event read but not yet queued, if any
  // (the caller must queue it: nothing read is dropped).
  std::optional<InboundEvent> stop();
  // Queue has room again: queue the held event and read on.
  void resume();

  const std::string& url() const { return counters_->url; }
  const RelayCounters& counters() const { return *counters_; }
  std::string state() const;
  const std::string& last_error() const { return last_error_; }
  bool connected() const { return client_ && open_; }
  bool paused() const { return held_.has_value(); }
  std::uint64_t page_limit() const { return page_limit_; }  // the limit of its history REQs

 private:
  void connect();
  void fetch_info(std::vector<boost::asio::ip::address> addresses);
  void open_client(std::vector<boost::asio::ip::address> addresses);
  void on_open();
  bool on_message(std::string&& frame);
  void on_oversize(std::size_t bytes);
  void on_close(const std::string& reason);
  void on_closed_sub(const std::string& reason, void (RelayConnection::*again)());
  void send_req();    // the live subscription; its stored answer is the history's first page
  void send_page();   // the next history page (pager_'s until)
  bool end_page();    // a history page's EOSE: the next page, or the run's end mark
  bool finish_history();
  void close_page();
  bool push(InboundEvent&& item);  // to the workers; false: the queue is full, item held, reading paused
  void send(std::string message, const char* what);
  void schedule(std::chrono::milliseconds delay, void (RelayConnection::*what)());
  void reconnect_later();
  void fail(const std::string& why);
  void note(const std::string& msg, std::uint64_t count);

  RelayContext& ctx_;
  Nip42Signer& signer_;
  std::shared_ptr<RelayCounters> counters_;
  net::RelayUrl url_;
  std::unique_ptr<net::WsClient> client_;
  std::shared_ptr<net::HttpGet> info_fetch_;  // the NIP-11 GET in flight, if any
  boost::asio::steady_timer timer_;
  Backoff backoff_;
  std::optional<InboundEvent> held_;
  std::string sub_, page_sub_;  // the live subscription, the history page in flight (empty: none)
  std::optional<HistoryPager> pager_;  // while the history run is unfinished
  std::uint64_t run_ = 0, run_events_ = 0;  // the unfinished history run (0: none), events tagged with it
  std::string challenge_;
  std::string last_error_;
  std::chrono::steady_clock::time_point opened_at_{};
  std::uint64_t page_limit_;  // --page-size, or the relay's NIP-11 max_limit when lower
  unsigned sub_gen_ = 0;
  bool open_ = false, stopped_ = false, eose_ = false, auth_tried_ = false, resolving_ = false;
  bool fetching_info_ = false;
};

}  // namespace pb::daemon
