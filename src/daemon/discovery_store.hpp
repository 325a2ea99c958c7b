// The candidate table: <archive>/discovery.db, a small SQLite file owned by the daemon (not index.db,
// whose schema belongs to the archive writer; the archive lock already means one daemon per archive).
//   candidates(url PRIMARY KEY, mentions, first_seen, last_seen, source, failures, parked_until,
//              novel_events, connected_seconds, active_seconds, last_error)
// Loaded whole at start (it holds at most kMaxCandidates rows), saved as changed rows in one transaction
// per discovery round and at shutdown. io thread only.
#pragma once

#include <filesystem>
#include <memory>
#include <vector>

#include "daemon/discovery_candidate.hpp"

struct sqlite3;

namespace pb::daemon {

inline constexpr std::size_t kMaxCandidates = 10'000;

class CandidateStore {
 public:
  // Opens (creating) the file. Throws std::runtime_error naming the file and SQLite's message.
  explicit CandidateStore(const std::filesystem::path& path);
  ~CandidateStore();
  CandidateStore(const CandidateStore&) = delete;
  CandidateStore& operator=(const CandidateStore&) = delete;

  std::vector<Candidate> load();
  // Upserts these rows in one transaction. Throws on failure (nothing is half-written).
  void save(const std::vector<const Candidate*>& rows);

 private:
  void exec(const char* sql);
  std::filesystem::path path_;
  std::unique_ptr<sqlite3, int (*)(sqlite3*)> db_;
};

// "nip65", "hint", "nip65,hint" and back.
std::string sources_text(std::uint8_t sources);
std::uint8_t sources_from_text(std::string_view text);

}  // namespace pb::daemon
