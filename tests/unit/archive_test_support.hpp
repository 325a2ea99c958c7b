// Shared helper for the archive tests: an archive written through the real writer.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "archive/writer.hpp"
#include "nostr/event.hpp"
#include "archive/proto_codec.hpp"

namespace pb::test {

// Stores `events` in `dir` in one transaction, sealing members at `member_bytes` of records so that
// day files hold many members. Fails the test if an event is refused (e.g. a duplicate id).
inline void write_archive(const std::filesystem::path& dir, const std::vector<Event>& events,
                          std::size_t member_bytes = 4096) {
  ArchiveWriterOptions o;
  o.member_bytes = member_bytes;
  o.fsync = false;
  ArchiveWriter w(dir, o);
  std::string rec;
  for (const auto& e : events) {
    rec.clear();
    append_record(rec, e);
    ASSERT_TRUE(w.add({e.id, e.pubkey, e.created_at, e.kind, rec, index_tags(e)}));
  }
  w.commit();
}

}  // namespace pb::test
