#include "serve/inflated_copy.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <set>
#include <stdexcept>
#include <vector>

#include <libdeflate.h>

#include "archive/day.hpp"
#include "archive/member_read.hpp"
#include "base/posix_file.hpp"

namespace pb::serve {

// A copy file, COPY_DIR/<day file>.raw: a header, the members' records back to back, then the table of
// members. Little-endian, as every machine we build for.
namespace {

constexpr std::array<char, 8> kMagic{'P', 'B', 'I', 'N', 'F', 'L', '0', '1'};
constexpr const char* kSuffix = ".raw";

struct Header {
  std::array<char, 8> magic{};
  std::uint64_t dev = 0, ino = 0;  // the day file copied
  std::uint64_t day_size = 0;      // its size then (a larger file has members the copy lacks)
  std::uint64_t members = 0;
  std::uint64_t table_offset = 0;
};

struct Member {
  std::uint64_t offset = 0;      // in the day file
  std::uint64_t raw_offset = 0;  // in the copy
  std::uint32_t raw_size = 0;
  std::uint32_t size = 0;        // compressed, with the gzip header and trailer
};

static_assert(sizeof(Header) == 48 && sizeof(Member) == 24);

// Exactly n bytes, or false (a short file or a read error: the copy is not used, the member is inflated).
bool read_exact(int fd, void* out, std::size_t n, std::uint64_t offset) {
  try {
    return read_at_most(fd, out, n, offset, {}) == n;
  } catch (const std::runtime_error&) {
    return false;
  }
}

std::filesystem::path copy_path(const std::filesystem::path& copy_dir, const std::string& file_name) {
  return copy_dir / (file_name + kSuffix);
}

}  // namespace

struct InflatedCopy::Table {
  Header header;
  std::vector<Member> members;  // by offset
  const char* data = nullptr;   // the whole copy file, mapped read-only (a replaced file stays mapped)
  std::uint64_t bytes = 0;
  Table() = default;
  Table(const Table&) = delete;
  Table& operator=(const Table&) = delete;
  ~Table() {
    if (data) ::munmap(const_cast<char*>(data), bytes);
  }
  // Maps `fd`'s first `size` bytes; false when it cannot.
  bool map(int fd, std::uint64_t size) {
    if (size == 0) return false;
    void* p = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) return false;
    data = static_cast<const char*>(p);
    bytes = size;
    return true;
  }
};

namespace {

std::shared_ptr<InflatedCopy::Table> load_table(const std::filesystem::path& path);

}  // namespace

InflatedCopy::InflatedCopy(std::filesystem::path archive_dir, std::filesystem::path copy_dir)
    : archive_dir_(std::move(archive_dir)), copy_dir_(std::move(copy_dir)) {
  if (inside_archive(archive_dir_, copy_dir_))
    throw std::runtime_error("--inflated-copy " + copy_dir_.string() + " is inside the archive " +
                             archive_dir_.string() + ": name a folder outside it");
  std::filesystem::create_directories(copy_dir_);
  try {
    lock_ = ArchiveLock::acquire(copy_dir_, ArchiveLock::Kind::exclusive);
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("--inflated-copy: ") + e.what() + " (one serve per copy folder)");
  }
}

InflatedCopy::~InflatedCopy() = default;

bool InflatedCopy::inside_archive(const std::filesystem::path& archive_dir, const std::filesystem::path& copy_dir) {
  const auto archive = std::filesystem::weakly_canonical(archive_dir);
  const auto copy = std::filesystem::weakly_canonical(copy_dir);
  return std::mismatch(archive.begin(), archive.end(), copy.begin(), copy.end()).first == archive.end();
}

std::shared_ptr<const InflatedCopy::Table> InflatedCopy::table_of(const std::string& file_name) {
  {
    std::lock_guard lock(mu_);
    if (const auto it = tables_.find(file_name); it != tables_.end()) return it->second;
  }
  // A copy left by an earlier run (or nothing: remembered too, refresh() replaces it when it copies).
  std::shared_ptr<const Table> table = load_table(copy_path(copy_dir_, file_name));
  std::lock_guard lock(mu_);
  return tables_.emplace(file_name, std::move(table)).first->second;
}

std::optional<InflatedCopy::Records> InflatedCopy::read(const std::string& file_name, std::uint64_t offset) {
  const auto fallback = [this]() -> std::optional<Records> {
    ++fallbacks_;
    return std::nullopt;
  };
  auto table = table_of(file_name);
  if (!table) return fallback();
  const auto it = std::lower_bound(table->members.begin(), table->members.end(), offset,
                                   [](const Member& m, std::uint64_t v) { return m.offset < v; });
  if (it == table->members.end() || it->offset != offset || it->size < 18) return fallback();
  // The day file's trailer for that member now: CRC-32 and length of its records, which the copy's
  // bytes must have (a day file replaced or rewritten since the copy has other members there).
  std::array<std::uint32_t, 2> trailer{};
  {
    const UniqueFd day{::open((archive_dir_ / file_name).c_str(), O_RDONLY | O_CLOEXEC)};
    if (!day || !read_exact(day.get(), trailer.data(), sizeof trailer, offset + it->size - 8)) return fallback();
  }
  const std::string_view bytes(table->data + it->raw_offset, it->raw_size);
  if (trailer[1] != it->raw_size || libdeflate_crc32(0, bytes.data(), bytes.size()) != trailer[0]) return fallback();
  ++reads_;
  return Records{std::move(table), bytes};
}

namespace {

std::shared_ptr<InflatedCopy::Table> load_table(const std::filesystem::path& path) {
  auto table = std::make_shared<InflatedCopy::Table>();
  const UniqueFd fd{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (!fd) return nullptr;
  struct stat st {};
  Header& h = table->header;
  if (::fstat(fd.get(), &st) != 0 || !read_exact(fd.get(), &h, sizeof h, 0) || h.magic != kMagic) return nullptr;
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (h.table_offset > size || h.members != (size - h.table_offset) / sizeof(Member)) return nullptr;
  table->members.resize(h.members);
  if (!read_exact(fd.get(), table->members.data(), h.members * sizeof(Member), h.table_offset)) return nullptr;
  if (!table->map(fd.get(), size)) return nullptr;
  for (std::size_t i = 0; i < table->members.size(); ++i) {
    const Member& m = table->members[i];
    const bool inside = m.raw_offset >= sizeof(Header) && m.raw_offset <= h.table_offset &&
                        m.raw_size <= h.table_offset - m.raw_offset;
    if (!inside || (i > 0 && m.offset <= table->members[i - 1].offset)) return nullptr;  // not a table this code wrote
  }
  return table;
}

// Inflates the day file's members from `offset` up to `h.day_size` and writes their records at `out`'s
// position (`h.table_offset` in the copy), adding them to the table and moving h.table_offset past them.
void copy_members(const std::filesystem::path& day_path, int out, const std::filesystem::path& out_path,
                  std::uint64_t offset, InflatedCopy::Table& table, std::stop_token stop) {
  Header& h = table.header;
  MemberInflater inflater;
  while (offset < h.day_size && !stop.stop_requested()) {
    const auto records = inflater.inflate(day_path, offset);
    if (!records || records->size() > UINT32_MAX) break;  // damaged or foreign from here: inflated on demand
    const std::uint64_t size = inflater.last_member_size();
    if (offset + size > h.day_size) break;  // appended after the stat: the next refresh copies it
    write_all(out, *records, out_path);
    table.members.push_back({offset, h.table_offset, static_cast<std::uint32_t>(records->size()),
                             static_cast<std::uint32_t>(size)});
    h.table_offset += records->size();
    offset += size;
  }
}

// Writes the member table at h.table_offset, then the header (which makes the file valid), and maps it.
void finish_copy(int out, const std::filesystem::path& out_path, InflatedCopy::Table& table) {
  Header& h = table.header;
  h.members = table.members.size();
  const std::string_view members(reinterpret_cast<const char*>(table.members.data()),
                                 table.members.size() * sizeof(Member));
  if (::lseek(out, static_cast<off_t>(h.table_offset), SEEK_SET) < 0) throw std::runtime_error("cannot seek in " + out_path.string());
  write_all(out, members, out_path);
  if (::ftruncate(out, static_cast<off_t>(h.table_offset + members.size())) != 0)
    throw std::runtime_error("cannot truncate " + out_path.string());
  if (::pwrite(out, &h, sizeof h, 0) != static_cast<ssize_t>(sizeof h))
    throw std::runtime_error("cannot write " + out_path.string());
  if (!table.map(out, h.table_offset + members.size())) throw std::runtime_error("cannot map " + out_path.string());
}

Header header_for(const struct stat& st) {
  Header h;
  h.magic = kMagic;
  h.dev = static_cast<std::uint64_t>(st.st_dev);
  h.ino = static_cast<std::uint64_t>(st.st_ino);
  h.day_size = static_cast<std::uint64_t>(st.st_size);
  h.table_offset = sizeof(Header);
  return h;
}

// Copies one day file into `tmp`; the table of what it wrote.
std::shared_ptr<InflatedCopy::Table> write_copy(const std::filesystem::path& day_path, const std::filesystem::path& tmp,
                                                std::stop_token stop) {
  const UniqueFd day = open_or_throw(day_path, O_RDONLY | O_CLOEXEC);
  struct stat st {};
  if (::fstat(day.get(), &st) != 0) throw std::runtime_error("cannot stat " + day_path.string());
  auto table = std::make_shared<InflatedCopy::Table>();
  table->header = header_for(st);
  const UniqueFd out = open_or_throw(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC);
  write_all(out.get(), std::string_view(reinterpret_cast<const char*>(&table->header), sizeof(Header)), tmp);
  copy_members(day_path, out.get(), tmp, 0, *table, stop);
  finish_copy(out.get(), tmp, *table);
  return table;
}

// A day file that grew (same file, larger): its new members are appended to the copy in place — their
// records where the table was, then the new table and header — instead of copying the whole day again.
// The header is invalidated first, so a copy cut short by a crash is not loaded by the next run.
// nullptr when the copy does not end where the day file's copied part still ends (the last copied
// member's trailer differs: the day file was rewritten) or is not the file `old` describes: copy it whole.
std::shared_ptr<InflatedCopy::Table> extend_copy(const InflatedCopy::Table& old, const std::filesystem::path& day_path,
                                                 const std::filesystem::path& path, std::stop_token stop) {
  if (old.members.empty() || !old.data) return nullptr;
  const UniqueFd day = open_or_throw(day_path, O_RDONLY | O_CLOEXEC);
  struct stat st {};
  if (::fstat(day.get(), &st) != 0) throw std::runtime_error("cannot stat " + day_path.string());
  const Header grown = header_for(st);
  if (grown.dev != old.header.dev || grown.ino != old.header.ino || grown.day_size <= old.header.day_size) return nullptr;
  const Member& last = old.members.back();
  std::array<std::uint32_t, 2> trailer{};
  if (!read_exact(day.get(), trailer.data(), sizeof trailer, last.offset + last.size - 8) || trailer[1] != last.raw_size ||
      trailer[0] != libdeflate_crc32(0, old.data + last.raw_offset, last.raw_size))
    return nullptr;
  const UniqueFd out{::open(path.c_str(), O_RDWR | O_CLOEXEC)};
  struct stat copy_st {};
  if (!out || ::fstat(out.get(), &copy_st) != 0 || static_cast<std::uint64_t>(copy_st.st_size) != old.bytes) return nullptr;
  auto table = std::make_shared<InflatedCopy::Table>();
  table->members = old.members;
  table->header = old.header;
  table->header.day_size = grown.day_size;
  const std::array<char, 8> invalid{};
  if (::pwrite(out.get(), invalid.data(), invalid.size(), 0) != static_cast<ssize_t>(invalid.size()))
    throw std::runtime_error("cannot write " + path.string());
  if (::lseek(out.get(), static_cast<off_t>(table->header.table_offset), SEEK_SET) < 0)
    throw std::runtime_error("cannot seek in " + path.string());
  copy_members(day_path, out.get(), path, last.offset + last.size, *table, stop);
  if (stop.stop_requested()) table->header.day_size = old.header.day_size;  // the next refresh goes on
  finish_copy(out.get(), path, *table);
  return table;
}

}  // namespace

std::size_t InflatedCopy::refresh(std::stop_token stop) {
  std::set<std::string> day_files;
  for (const auto& entry : std::filesystem::directory_iterator(archive_dir_)) {
    const auto name = entry.path().filename().string();
    if (entry.is_regular_file() && parse_day_file_name(name)) day_files.insert(name);
  }
  std::size_t copied = 0;
  for (const auto& name : day_files) {
    if (stop.stop_requested()) break;
    struct stat st {};
    if (::stat((archive_dir_ / name).c_str(), &st) != 0) continue;  // gone meanwhile
    const auto current = table_of(name);
    if (current && current->header.dev == static_cast<std::uint64_t>(st.st_dev) &&
        current->header.ino == static_cast<std::uint64_t>(st.st_ino) &&
        current->header.day_size == static_cast<std::uint64_t>(st.st_size))
      continue;
    const auto path = copy_path(copy_dir_, name);
    std::shared_ptr<const Table> table;
    // A day file that grew: its new members appended in place. The old table stays valid for the views
    // handed out (their bytes are not touched), so holders need not let it go.
    if (current) table = extend_copy(*current, archive_dir_ / name, path, stop);
    const bool extended = table != nullptr;
    if (!extended) {
      const auto tmp = std::filesystem::path(path.string() + ".tmp");
      try {
        table = write_copy(archive_dir_ / name, tmp, stop);
      } catch (const std::exception&) {
        std::filesystem::remove(tmp);
        throw;
      }
      if (stop.stop_requested()) {
        std::filesystem::remove(tmp);
        break;
      }
      std::filesystem::rename(tmp, path);
    }
    {
      std::lock_guard lock(mu_);
      tables_[name] = table;
    }
    members_copied_ += table->members.size() - (extended ? current->members.size() : 0);
    ++copied;
    if (current && !extended && on_replaced_) on_replaced_(name);
    if (stop.stop_requested()) break;
  }
  // Copies of day files that are gone, and files a stopped copy left.
  for (const auto& entry : std::filesystem::directory_iterator(copy_dir_)) {
    const auto name = entry.path().filename().string();
    const bool ours = name.ends_with(kSuffix) || name.ends_with(std::string(kSuffix) + ".tmp");
    if (!ours || stop.stop_requested()) continue;
    const auto day = name.substr(0, name.find(kSuffix));
    if (name.ends_with(".tmp") || !day_files.count(day)) {
      std::filesystem::remove(entry.path());
      if (name.ends_with(".tmp")) continue;
      {
        std::lock_guard lock(mu_);
        tables_.erase(day);
      }
      if (on_replaced_) on_replaced_(day);
    }
  }
  if (!stop.stop_requested()) ++refreshes_;
  return copied;
}

InflatedCopyStats InflatedCopy::stats() const {
  std::lock_guard lock(mu_);
  InflatedCopyStats s{reads_.load(), fallbacks_.load(), 0, 0, refreshes_.load(), members_copied_.load()};
  for (const auto& [name, table] : tables_)
    if (table) {
      ++s.files;
      s.bytes += table->bytes;
    }
  return s;
}

}  // namespace pb::serve
