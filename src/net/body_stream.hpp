// A response body produced after the response started: the handler answers with a Response whose
// `stream` is set, then writes the body piece by piece from any thread and finishes it (or aborts). The
// server sends the head at once with Transfer-Encoding: chunked and each piece as it comes, so a large
// answer leaves while the rest is still being produced, and never sits in memory whole.
#pragma once

#include <deque>
#include <functional>
#include <mutex>
#include <string>

namespace pb::net {

// The producer must end the body with finish() or abort(): until then the connection waits for it.
class BodyStream {
 public:
  // Producer side (thread-safe). Pieces after finish()/abort(), or once the client is gone, are dropped.
  void write(std::string piece);
  void finish();  // the body is complete: the server sends the last chunk
  void abort();   // the body cannot be completed: the server closes the connection mid-body
  bool abandoned() const;  // the connection is gone: the producer may stop

  // Server side. `wake` is called (from any thread) whenever there is something new to take; it is
  // called once at once if there already is.
  void on_ready(std::function<void()> wake);
  enum class End { open, finished, aborted };
  // Moves out what is queued; `end` says whether more may come.
  std::deque<std::string> take(End& end);
  void abandon();  // the connection closed: later pieces are dropped, the queue is freed

 private:
  void end(End how);

  mutable std::mutex mu_;
  std::deque<std::string> queue_;
  End end_ = End::open;
  bool abandoned_ = false;
  std::function<void()> wake_;
};

}  // namespace pb::net
