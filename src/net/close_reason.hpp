// The reason strings passed to on_close callbacks. Compare with these constants to count outcomes.
#pragma once

#include <string_view>

namespace pb::net::reason {

inline constexpr std::string_view connect_failed = "connect failed";          // TCP connect to every address failed
inline constexpr std::string_view connect_timeout = "connect timeout";        // TCP+TLS+WS handshake deadline passed
inline constexpr std::string_view tls_failed = "tls handshake failed";        // incl. certificate/host-name verification
inline constexpr std::string_view handshake_failed = "websocket handshake failed";
inline constexpr std::string_view message_too_big = "message too big";        // inbound message > read_message_max
inline constexpr std::string_view ping_timeout = "ping timeout";              // nothing received within pong_timeout of a ping
inline constexpr std::string_view closed_by_peer = "closed by peer";          // peer sent a close frame
inline constexpr std::string_view closed_locally = "closed locally";          // close() was called
inline constexpr std::string_view read_error = "read error";                  // EOF / reset / protocol error while reading
inline constexpr std::string_view write_error = "write error";
inline constexpr std::string_view send_queue_full = "send queue full";        // pending output over the cap (server side)
inline constexpr std::string_view idle_timeout = "idle timeout";              // server side keepalive failure
inline constexpr std::string_view server_stopping = "server stopping";

}  // namespace pb::net::reason
