#include "s3/multipart_upload.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "s3/file_digest.hpp"

namespace pb::s3 {
namespace {

namespace fs = std::filesystem;

// What the state file holds: enough to recognise the same upload of the same bytes, and its parts.
struct UploadState {
  std::string bucket, key, sha256, upload_id;
  std::uint64_t size = 0, part_size = 0;
  std::map<int, std::string> parts;  // number -> ETag

  bool same_upload(const UploadState& o) const {
    return bucket == o.bucket && key == o.key && sha256 == o.sha256 && size == o.size && part_size == o.part_size;
  }
};

fs::path state_path(const fs::path& dir, const std::string& bucket, const std::string& key) {
  return dir / (sha256_hex(bucket + "\n" + key).substr(0, 32) + ".upload");
}

UploadState load_state(const fs::path& path) {
  UploadState s;
  std::ifstream f(path);
  std::string line;
  while (std::getline(f, line)) {
    const auto sp = line.find(' ');
    if (sp == std::string::npos) continue;
    const std::string k = line.substr(0, sp), v = line.substr(sp + 1);
    try {
      if (k == "bucket") s.bucket = v;
      else if (k == "key") s.key = v;
      else if (k == "sha256") s.sha256 = v;
      else if (k == "upload_id") s.upload_id = v;
      else if (k == "size") s.size = std::stoull(v);
      else if (k == "part_size") s.part_size = std::stoull(v);
      else if (k == "part") {
        const auto sp2 = v.find(' ');
        if (sp2 != std::string::npos) s.parts[std::stoi(v.substr(0, sp2))] = v.substr(sp2 + 1);
      }
    } catch (const std::exception&) {
      return {};  // a damaged state file only costs a fresh upload
    }
  }
  return s;
}

// Written to a temp file and renamed: a kill mid-write leaves the previous state.
void save_state(const fs::path& path, const UploadState& s) {
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream f(tmp, std::ios::trunc);
    f << "bucket " << s.bucket << "\nkey " << s.key << "\nsha256 " << s.sha256 << "\nsize " << s.size << "\npart_size "
      << s.part_size << "\nupload_id " << s.upload_id << "\n";
    for (const auto& [n, etag] : s.parts) f << "part " << n << ' ' << etag << "\n";
    if (!f) throw std::runtime_error("cannot write the multipart state file " + tmp.string());
  }
  fs::rename(tmp, path);
}

}  // namespace

std::uint64_t effective_part_size(std::uint64_t size, std::uint64_t wanted) {
  if (wanted == 0) wanted = 64ull << 20;
  if ((size + wanted - 1) / wanted <= kMaxParts) return wanted;
  const std::uint64_t mib = 1ull << 20;
  const std::uint64_t need = (size + kMaxParts - 1) / kMaxParts;
  return (need + mib - 1) / mib * mib;
}

void multipart_upload(S3Client& client, const std::string& key, const fs::path& path, std::uint64_t size,
                      const std::string& sha256, const MultipartOptions& opt,
                      const std::function<void(const std::string&)>& on_note) {
  fs::create_directories(opt.state_dir);
  const fs::path sp = state_path(opt.state_dir, client.bucket(), key);
  UploadState st{client.bucket(), key, sha256, "", size, effective_part_size(size, opt.part_size), {}};
  const int n_parts = static_cast<int>((size + st.part_size - 1) / st.part_size);

  bool resumed = false;
  if (const UploadState old = load_state(sp); !old.upload_id.empty() && old.same_upload(st)) {
    st = old;
    resumed = true;
    if (on_note) on_note(fmt::format("{}: resuming multipart upload, {} of {} parts already uploaded", key, st.parts.size(), n_parts));
  } else {
    st.upload_id = client.create_multipart_upload(key, sha256);
    save_state(sp, st);
  }

  std::vector<int> todo;
  for (int n = 1; n <= n_parts; ++n)
    if (!st.parts.contains(n)) todo.push_back(n);

  std::mutex mu;
  std::atomic<std::size_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr error;
  auto worker = [&] {
    try {
      S3Client mine(client.config(), client.bucket(), client.options());
      for (std::size_t i; !failed && (i = next++) < todo.size();) {
        const int n = todo[i];
        const std::uint64_t off = static_cast<std::uint64_t>(n - 1) * st.part_size;
        const auto body = read_file_range(path, off, std::min(st.part_size, size - off));
        std::string etag = mine.upload_part(key, st.upload_id, n, body);
        const std::lock_guard lock(mu);
        st.parts[n] = std::move(etag);
        save_state(sp, st);
      }
    } catch (...) {
      const std::lock_guard lock(mu);
      if (!error) error = std::current_exception();
      failed = true;
    }
  };
  {
    std::vector<std::jthread> threads;
    const std::size_t n_threads = std::min<std::size_t>(std::max(1, opt.parallel), todo.size());
    for (std::size_t t = 0; t < n_threads; ++t) threads.emplace_back(worker);
  }

  try {
    if (error) std::rethrow_exception(error);
    std::vector<CompletedPart> parts;
    for (const auto& [n, etag] : st.parts) parts.push_back({n, etag});
    client.complete_multipart_upload(key, st.upload_id, parts);
  } catch (const S3Error& e) {
    if (e.code() == "Cancelled") throw;  // the state stays: the next run resumes this upload
    std::error_code ec;
    fs::remove(sp, ec);
    // NoSuchUpload: the upload we resumed expired or was aborted elsewhere; nothing to abort.
    if (e.code() == "NoSuchUpload" && resumed) {
      if (on_note) on_note(fmt::format("{}: the interrupted multipart upload is gone; starting it over", key));
      multipart_upload(client, key, path, size, sha256, opt, on_note);
      return;
    }
    if (e.code() != "NoSuchUpload") {
      try {
        client.abort_multipart_upload(key, st.upload_id);
      } catch (const std::exception& abort_error) {
        if (on_note) on_note(fmt::format("{}: could not abort the multipart upload: {}", key, abort_error.what()));
      }
    }
    throw;
  }
  std::error_code ec;
  fs::remove(sp, ec);
}

}  // namespace pb::s3
