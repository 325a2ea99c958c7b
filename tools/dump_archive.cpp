// pb-dump-archive: prints every event of an archive's day files as compact NIP-01 JSON, one per line,
// in file-name order then file order. A test and debugging aid: it checks that each record decodes and
// sits in the day file of its created_at, and exits 1 on any damage (with the file and offset).
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "archive/day.hpp"
#include "archive/day_file_reader.hpp"
#include "nostr/json_writer.hpp"
#include "archive/proto_codec.hpp"

int main(int argc, char** argv) {
  CLI::App app{"Print every event of an archive as JSONL (file-name order, then file order)", "pb-dump-archive"};
  std::filesystem::path dir;
  bool with_file = false;
  app.add_option("dir", dir, "Archive directory")->required()->check(CLI::ExistingDirectory);
  app.add_flag("--with-file", with_file, "Prefix each line with the day file name and a tab");
  CLI11_PARSE(app, argc, argv);

  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (pb::parse_day_file_name(e.path().filename().string())) files.push_back(e.path());
  std::sort(files.begin(), files.end());

  int status = 0;
  std::string out;
  pb::Event ev;
  for (const auto& path : files) {
    const std::string name = path.filename().string();
    const std::int64_t day = *pb::parse_day_file_name(name);
    pb::DayFileReader reader(path);
    while (auto rec = reader.next()) {
      if (auto err = pb::decode_proto_event(*rec, ev)) {
        fmt::print(stderr, "{}: record {}: {}\n", name, reader.records_read(), *err);
        status = 1;
        continue;
      }
      if (pb::day_number(ev.created_at) != day) {
        fmt::print(stderr, "{}: record {} has created_at {} of another day\n", name, reader.records_read(), ev.created_at);
        status = 1;
      }
      out.clear();
      if (with_file) out += name + "\t";
      pb::append_event_json(out, ev);
      out += '\n';
      std::fwrite(out.data(), 1, out.size(), stdout);
    }
    if (reader.damage()) {
      fmt::print(stderr, "{}: damaged at byte {}: {}\n", name, reader.damage()->offset, reader.damage()->message);
      status = 1;
    }
  }
  return status;
}
