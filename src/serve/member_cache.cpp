#include "serve/member_cache.hpp"

#include <algorithm>
#include <stdexcept>

#include "archive/day.hpp"
#include "archive/day_file_reader.hpp"
#include "archive/proto_codec.hpp"

namespace pb::serve {

const Event* DecodedMember::find(const Id32& id) const {
  const auto it = std::lower_bound(events.begin(), events.end(), id,
                                   [](const Event& e, const Id32& v) { return e.id < v; });
  return it != events.end() && it->id == id ? &*it : nullptr;
}

namespace {
std::size_t event_bytes(const Event& ev) {
  std::size_t n = sizeof(Event) + ev.content.size();
  for (const auto& t : ev.tags) {
    n += sizeof(Tag);
    for (const auto& s : t) n += sizeof(std::string) + s.size();
  }
  return n;
}
}  // namespace

std::shared_ptr<const DecodedMember> MemberCache::decode(const std::string& file_name, std::uint64_t offset) const {
  if (!parse_day_file_name(file_name)) throw std::runtime_error("not a day-file name: " + file_name);
  auto member = std::make_shared<DecodedMember>();
  DayFileReader reader(dir_ / file_name, offset);
  while (const auto rec = reader.next()) {
    if (reader.record_member_offset() != offset) break;  // our writer never splits a record across members
    Event ev;
    if (decode_proto_event(*rec, ev)) continue;  // undecodable: not served
    member->bytes += event_bytes(ev);
    member->events.push_back(std::move(ev));
  }
  std::sort(member->events.begin(), member->events.end(), [](const Event& a, const Event& b) { return a.id < b.id; });
  return member;
}

std::shared_ptr<const DecodedMember> MemberCache::get(const std::string& file_name, std::uint64_t offset) {
  const Key key = file_name + '@' + std::to_string(offset);
  {
    std::lock_guard lock(mu_);
    if (auto it = map_.find(key); it != map_.end()) {
      ++hits_;
      lru_.splice(lru_.begin(), lru_, it->second.lru);
      return it->second.member;
    }
    ++misses_;
  }
  auto member = decode(file_name, offset);
  std::lock_guard lock(mu_);
  insert_locked(key, member);
  return member;
}

void MemberCache::insert_locked(const Key& key, std::shared_ptr<const DecodedMember> member) {
  if (map_.count(key) || member->bytes > max_bytes_) return;
  lru_.push_front(key);
  bytes_ += member->bytes;
  map_.emplace(key, Entry{std::move(member), lru_.begin()});
  while (bytes_ > max_bytes_ && !lru_.empty()) {
    auto it = map_.find(lru_.back());
    bytes_ -= it->second.member->bytes;
    map_.erase(it);
    lru_.pop_back();
  }
}

void MemberCache::forget(const std::string& file_name, std::uint64_t offset) {
  std::lock_guard lock(mu_);
  const auto it = map_.find(file_name + '@' + std::to_string(offset));
  if (it == map_.end()) return;
  bytes_ -= it->second.member->bytes;
  lru_.erase(it->second.lru);
  map_.erase(it);
}

MemberCacheStats MemberCache::stats() const {
  std::lock_guard lock(mu_);
  return {hits_, misses_, bytes_, map_.size()};
}

}  // namespace pb::serve
