#include "serve/member_cache.hpp"

#include <algorithm>
#include <stdexcept>

#include "archive/day.hpp"
#include "archive/day_file_reader.hpp"
#include "archive/member_read.hpp"
#include "archive/proto_codec.hpp"
#include "nostr/hex.hpp"

namespace pb::serve {

std::uint64_t DecodedMember::head_of(const Id32& id) {
  std::uint64_t h = 0;
  for (std::size_t i = 0; i < 8; ++i) h = (h << 8) | id[i];
  return h;
}

std::optional<std::string_view> DecodedMember::record(const Id32& id) const {
  const std::uint64_t head = head_of(id);
  auto it = std::lower_bound(slots.begin(), slots.end(), head, [](const Slot& s, std::uint64_t h) { return s.head < h; });
  for (; it != slots.end() && it->head == head; ++it)
    if (it->id == id) return data.substr(it->offset, it->size);
  return std::nullopt;
}

std::optional<Event> DecodedMember::find(const Id32& id) const {
  const auto rec = record(id);
  Event ev;
  if (!rec || decode_proto_event(*rec, ev)) return std::nullopt;
  return ev;
}

namespace {

bool read_varint(std::string_view& in, std::uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 64 && !in.empty(); shift += 7) {
    const auto b = static_cast<std::uint8_t>(in.front());
    in.remove_prefix(1);
    v |= std::uint64_t(b & 0x7f) << shift;
    if (!(b & 0x80)) return true;
  }
  return false;
}

// The id (field 1, 64 hex chars) of a ProtoEvent without decoding the rest; our writer puts it first.
std::optional<Id32> record_id(std::string_view rec) {
  std::uint64_t key = 0, n = 0;
  while (read_varint(rec, key)) {
    const auto wire = key & 7;
    if (wire == 0) {
      if (!read_varint(rec, n)) return std::nullopt;
    } else if (wire == 2) {
      if (!read_varint(rec, n) || n > rec.size()) return std::nullopt;
      if ((key >> 3) == 1) {
        Id32 id{};
        if (!decode_lower_hex(rec.substr(0, n), id)) return std::nullopt;
        return id;
      }
      rec.remove_prefix(n);
    } else if (wire == 1 || wire == 5) {
      const std::size_t skip = wire == 1 ? 8 : 4;
      if (rec.size() < skip) return std::nullopt;
      rec.remove_prefix(skip);
    } else {
      return std::nullopt;
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> MemberCache::inflate(const std::filesystem::path& file, std::uint64_t offset) {
  std::unique_ptr<MemberInflater> inflater;
  {
    std::lock_guard lock(mu_);
    if (!inflaters_.empty()) {
      inflater = std::move(inflaters_.back());
      inflaters_.pop_back();
    }
  }
  if (!inflater) inflater = std::make_unique<MemberInflater>();
  struct GiveBack {  // however the inflate ends
    MemberCache& cache;
    std::unique_ptr<MemberInflater>& inflater;
    ~GiveBack() {
      std::lock_guard lock(cache.mu_);
      cache.inflaters_.push_back(std::move(inflater));
    }
  } give_back{*this, inflater};
  const auto bytes = inflater->inflate(file, offset);
  if (!bytes) return std::nullopt;
  return std::string(*bytes);
}

std::shared_ptr<const DecodedMember> MemberCache::decode(const std::string& file_name, std::uint64_t offset) {
  if (!parse_day_file_name(file_name)) throw std::runtime_error("not a day-file name: " + file_name);
  auto member = std::make_shared<DecodedMember>();
  const auto add = [&](std::string_view rec, std::size_t at) {
    if (const auto id = record_id(rec))  // an undecodable record is not served
      member->slots.push_back({DecodedMember::head_of(*id), *id, static_cast<std::uint32_t>(at),
                               static_cast<std::uint32_t>(rec.size())});
  };
  const auto add_all = [&] {  // the framed records in member->data
    std::string_view rest = member->data;
    std::uint64_t len = 0;
    while (read_varint(rest, len) && len <= rest.size()) {
      add(rest.substr(0, len), static_cast<std::size_t>(rest.data() - member->data.data()));
      rest.remove_prefix(len);
    }
  };
  if (auto copied = copy_ ? copy_->read(file_name, offset) : std::nullopt) {
    member->mapped = std::move(copied->owner);
    member->data = copied->bytes;
    add_all();
  } else if (auto inflated = inflate(dir_ / file_name, offset)) {
    // One read and one inflate of just this member; the slots point into the framed records.
    member->records = std::move(*inflated);
    member->data = member->records;
    add_all();
  } else {
    DayFileReader reader(dir_ / file_name, offset);
    while (const auto rec = reader.next()) {
      if (reader.record_member_offset() != offset) break;  // our writer never splits a record across members
      add(*rec, member->records.size());
      member->records += *rec;
    }
    member->records.shrink_to_fit();
    member->data = member->records;
  }
  std::sort(member->slots.begin(), member->slots.end(),
            [](const DecodedMember::Slot& a, const DecodedMember::Slot& b) { return a.head != b.head ? a.head < b.head : a.id < b.id; });
  member->bytes = sizeof(DecodedMember) + member->records.capacity() + member->slots.capacity() * sizeof(DecodedMember::Slot);
  return member;
}

std::shared_ptr<const DecodedMember> MemberCache::get(const std::string& file_name, std::uint64_t offset,
                                                      bool* missed) {
  const KeyView key{file_name, offset};
  {
    std::lock_guard lock(mu_);
    if (auto it = map_.find(key); it != map_.end()) {
      ++hits_;
      lru_.splice(lru_.begin(), lru_, it->second.lru);
      if (missed) *missed = false;
      return it->second.member;
    }
    ++misses_;
  }
  if (missed) *missed = true;
  auto member = decode(file_name, offset);
  std::lock_guard lock(mu_);
  insert_locked(Key{file_name, offset}, member);
  return member;
}

std::shared_ptr<const DecodedMember> MemberCache::get_uncached(const std::string& file_name, std::uint64_t offset) {
  {
    std::lock_guard lock(mu_);
    if (auto it = map_.find(KeyView{file_name, offset}); it != map_.end()) return it->second.member;
  }
  return decode(file_name, offset);
}

void MemberCache::insert_locked(const Key& key, std::shared_ptr<const DecodedMember> member) {
  if (map_.find(key) != map_.end() || member->bytes > max_bytes_) return;
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
  const auto it = map_.find(KeyView{file_name, offset});
  if (it == map_.end()) return;
  bytes_ -= it->second.member->bytes;
  lru_.erase(it->second.lru);
  map_.erase(it);
}

void MemberCache::forget_file(const std::string& file_name) {
  std::lock_guard lock(mu_);
  for (auto it = map_.begin(); it != map_.end();) {
    if (it->first.file_name != file_name) {
      ++it;
      continue;
    }
    bytes_ -= it->second.member->bytes;
    lru_.erase(it->second.lru);
    it = map_.erase(it);
  }
}

void MemberCache::use_inflated_copy(InflatedCopy* copy) {
  copy_ = copy;
  if (copy) copy->on_replaced([this](const std::string& file_name) { forget_file(file_name); });
}

MemberCacheStats MemberCache::stats() const {
  std::lock_guard lock(mu_);
  return {hits_, misses_, bytes_, map_.size()};
}

}  // namespace pb::serve
