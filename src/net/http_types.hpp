// Beast-free HTTP request/response types used by HttpServer handlers.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pb::net {

// A body made while it is sent (Response::source). Each call appends the next piece to `piece` (empty on
// entry) and returns false once the body is complete (that call's piece, possibly empty, is the last).
// The server calls it on the connection's thread, one piece ahead of the socket, so a client that reads
// slowly holds the producer back: at most two pieces wait in memory. An exception closes the connection
// mid-body, so a client never takes a short answer for a whole one. The source is destroyed (with what it
// owns) when the body ends, the client leaves or the server stops.
using BodySource = std::function<bool(std::string& piece)>;

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method;  // "GET", "POST", ... as sent
  std::string target;  // raw request target ("/path?x=1")
  std::string path;    // percent-decoded path
  std::vector<std::pair<std::string, std::string>> query;  // decoded ('+' is a space), in order
  HeaderList headers;  // as received
  std::string body;
  std::string remote_address;  // textual IP of the peer
  std::uint16_t remote_port = 0;
  bool keep_alive = true;

  // Case-insensitive header lookup (the first one wins).
  std::optional<std::string_view> header(std::string_view name) const;
  // The first query parameter with this name.
  std::optional<std::string_view> query_param(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  HeaderList headers;  // extra headers (Content-Length, Connection and Server are set by the server)
  std::string body;
  BodySource source;  // set: the body comes from it, chunked (HTTP/1.0: gathered), and `body` is ignored

  static Response text(int status, std::string body);
  static Response json(int status, std::string body);
};

// Decodes %XX escapes (and '+' as space if plus_is_space). Invalid escapes are kept literally.
std::string percent_decode(std::string_view in, bool plus_is_space);
// Splits "a=1&b=x%20y" into decoded pairs.
std::vector<std::pair<std::string, std::string>> parse_query(std::string_view query);
// Fills path and query from target.
void split_target(Request& req);

namespace detail {
// Implemented by the HTTP connection; receives the response on any thread.
class ResponseSink {
 public:
  virtual ~ResponseSink() = default;
  virtual void complete(Response response) = 0;
};
}  // namespace detail

// Completes one request. Copyable; may be moved to and completed from any thread, at any later time.
// Only the first respond() counts. If every copy is dropped without responding, the client gets a 500.
class Responder {
 public:
  explicit Responder(std::shared_ptr<detail::ResponseSink> sink);
  void respond(Response response) const;
  bool responded() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace pb::net
