// proton-beam-daemon configuration: precedence (command line > environment > file > defaults), value
// checks that name the key (and the file line), lists, flags and --print-config.
#include <filesystem>
#include <fstream>
#include <map>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "daemon/config.hpp"
#include "daemon/relay_message.hpp"

namespace pb::daemon {
namespace {

struct Env {
  std::map<std::string, std::string> vars;
  EnvLookup lookup() const {
    return [this](const std::string& name) -> std::optional<std::string> {
      auto it = vars.find(name);
      if (it == vars.end()) return std::nullopt;
      return it->second;
    };
  }
};

class TempToml {
 public:
  explicit TempToml(const std::string& text) {
    path_ = std::filesystem::temp_directory_path() /
            ("pb_daemon_cfg_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".toml");
    std::ofstream(path_) << text;
  }
  ~TempToml() { std::filesystem::remove(path_); }
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

TEST(DaemonConfig, DefaultsMatchTheIssue) {
  Env env;
  auto r = load_config({}, env.lookup());
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.config.output_dir, "./nostr_events");
  EXPECT_EQ(r.config.batch_size, 500u);
  EXPECT_EQ(r.config.batch_interval, 30);
  EXPECT_TRUE(r.config.discovery);
  EXPECT_EQ(r.config.max_relays, 50u);
  EXPECT_EQ(r.config.listen, "127.0.0.1:9477");
  EXPECT_TRUE(r.config.validate_signatures);
  EXPECT_EQ(r.config.overlap_seconds, 900);
  EXPECT_EQ(r.config.page_size, 500u);
  EXPECT_EQ(effective_relays(r.config), default_relays());
}

TEST(DaemonConfig, PageSizeFromEveryPlaceAndBounded) {
  TempToml file("page_size = 100\n");
  EXPECT_EQ(load_config({"--config", file.path()}, Env{}.lookup()).config.page_size, 100u);
  EXPECT_EQ(load_config({}, Env{{{"PROTON_BEAM_PAGE_SIZE", "250"}}}.lookup()).config.page_size, 250u);
  EXPECT_EQ(load_config({"--page-size", "7"}, Env{}.lookup()).config.page_size, 7u);
  auto bad = load_config({"--page-size", "0"}, Env{}.lookup());
  EXPECT_NE(bad.error.find("page_size"), std::string::npos) << bad.error;
}

TEST(DaemonConfig, CommandLineBeatsEnvironmentBeatsFileBeatsDefault) {
  TempToml file("batch_size = 10\nbatch_interval = 5\nmax_relays = 7\ncompression_level = 3\n");
  Env env{{{"PROTON_BEAM_BATCH_SIZE", "20"}, {"PROTON_BEAM_BATCH_INTERVAL", "6"}}};
  auto r = load_config({"--config", file.path(), "--batch-size", "30"}, env.lookup());
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.config.batch_size, 30u);       // command line
  EXPECT_EQ(r.config.batch_interval, 6);     // environment over file
  EXPECT_EQ(r.config.max_relays, 7u);        // file over default
  EXPECT_EQ(r.config.compression_level, 3);  // file
  EXPECT_EQ(r.config.ping_interval_ms, 30000);  // default
}

TEST(DaemonConfig, ConfigFileFromEnvironment) {
  TempToml file("relays = [\"wss://Relay.Example\", \"ws://127.0.0.1:7000/x\"]\nno_default_relays = true\n");
  Env env{{{"PROTON_BEAM_CONFIG", file.path()}}};
  auto r = load_config({}, env.lookup());
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.config.relays, (std::vector<std::string>{"wss://relay.example/", "ws://127.0.0.1:7000/x"}));
  EXPECT_EQ(effective_relays(r.config), r.config.relays);
}

TEST(DaemonConfig, ListsReplaceRatherThanMerge) {
  TempToml file("relays = [\"wss://a.example\"]\nkinds = [1, 7]\n");
  Env env{{{"PROTON_BEAM_KINDS", "3,0,3"}}};
  auto r = load_config({"--config", file.path(), "--relay", "wss://b.example", "--relay", "wss://c.example"}, env.lookup());
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.config.relays, (std::vector<std::string>{"wss://b.example/", "wss://c.example/"}));
  EXPECT_EQ(r.config.kinds, (std::vector<std::int32_t>{0, 3}));
}

TEST(DaemonConfig, FlagsAndBooleans) {
  Env env{{{"PROTON_BEAM_DISCOVERY", "false"}, {"PROTON_BEAM_ALLOW_PRIVATE_ADDRESSES", "yes"}}};
  auto r = load_config({"--validate-signatures=false"}, env.lookup());
  ASSERT_EQ(r.error, "");
  EXPECT_FALSE(r.config.discovery);
  EXPECT_TRUE(r.config.allow_private_addresses);
  EXPECT_FALSE(r.config.validate_signatures);
  auto r2 = load_config({"--discovery"}, env.lookup());
  EXPECT_TRUE(r2.config.discovery);  // command line over environment
  auto r3 = load_config({"--no-discovery"}, Env{}.lookup());
  EXPECT_FALSE(r3.config.discovery);
}

TEST(DaemonConfig, BadFileValueNamesKeyAndLine) {
  TempToml file("# comment\nbatch_size = 10\nkinds = [1, 70000]\n");
  auto r = load_config({"--config", file.path()}, Env{}.lookup());
  EXPECT_NE(r.error.find("kinds"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("line 3"), std::string::npos) << r.error;
  EXPECT_EQ(r.exit_code, 2);
}

TEST(DaemonConfig, UnknownFileKeyAndSyntaxErrorNameTheLine) {
  TempToml unknown("batch_size = 1\n\nbatch_sise = 2\n");
  auto r = load_config({"--config", unknown.path()}, Env{}.lookup());
  EXPECT_NE(r.error.find("batch_sise"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("line 3"), std::string::npos) << r.error;
  TempToml broken("batch_size = 1\nlisten = \"x\n");
  auto r2 = load_config({"--config", broken.path()}, Env{}.lookup());
  EXPECT_NE(r2.error.find("line 2"), std::string::npos) << r2.error;
}

TEST(DaemonConfig, BadEnvironmentAndCommandLineValuesNameTheirSource) {
  auto r = load_config({}, Env{{{"PROTON_BEAM_BATCH_SIZE", "lots"}}}.lookup());
  EXPECT_NE(r.error.find("batch_size"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("PROTON_BEAM_BATCH_SIZE"), std::string::npos) << r.error;
  auto r2 = load_config({"--relay", "http://x.example"}, Env{}.lookup());
  EXPECT_NE(r2.error.find("relays"), std::string::npos) << r2.error;
  auto r3 = load_config({"--listen", "nowhere"}, Env{}.lookup());
  EXPECT_NE(r3.error.find("listen"), std::string::npos) << r3.error;
  auto r4 = load_config({"--authors", "abc"}, Env{}.lookup());
  EXPECT_NE(r4.error.find("authors"), std::string::npos) << r4.error;
  auto r5 = load_config({"--no-such-option"}, Env{}.lookup());
  EXPECT_EQ(r5.exit_code, 2);
  EXPECT_FALSE(r5.error.empty());
}

TEST(DaemonConfig, HelpExitsZeroAndExplainsSources) {
  auto r = load_config({"--help"}, Env{}.lookup());
  EXPECT_TRUE(r.exit_now);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.output.find("--batch-interval"), std::string::npos);
  EXPECT_NE(r.output.find("PROTON_BEAM_"), std::string::npos);
  EXPECT_NE(r.output.find("command line > environment > file > defaults"), std::string::npos);
}

TEST(DaemonConfig, PrintConfigRoundTrips) {
  auto r = load_config({"--s3-output", "s3://bucket/path", "--s3-endpoint", "http://127.0.0.1:9000", "--s3-interval", "2.5",
                        "--kinds", "1,7", "--batch-size", "42"},
                       Env{}.lookup());
  ASSERT_EQ(r.error, "");
  const std::string text = format_config(r.config);
  EXPECT_NE(text.find("batch_size = 42"), std::string::npos) << text;
  EXPECT_NE(text.find("s3_output = \"s3://bucket/path\""), std::string::npos) << text;
  // The printed configuration is itself a valid config file giving the same values.
  TempToml file(text.substr(text.find('\n') + 1));
  auto again = load_config({"--config", file.path()}, Env{}.lookup());
  ASSERT_EQ(again.error, "") << text;
  EXPECT_EQ(again.config.kinds, r.config.kinds);
  EXPECT_EQ(again.config.batch_size, 42u);
  EXPECT_EQ(again.config.s3_output, "s3://bucket/path");
  EXPECT_EQ(again.config.s3_endpoint, "http://127.0.0.1:9000");
  EXPECT_EQ(again.config.s3_interval, 2.5);
}

TEST(DaemonConfig, S3KeysDefaultsPrecedenceAndChecks) {
  auto d = load_config({}, Env{}.lookup());
  ASSERT_EQ(d.error, "");
  EXPECT_EQ(d.config.s3_output, "");
  EXPECT_EQ(d.config.s3_interval, 3600);
  EXPECT_EQ(d.config.s3_shutdown_timeout, 10);
  EXPECT_EQ(d.config.s3_part_size, "64M");
  EXPECT_EQ(d.config.s3_jobs, 4);

  TempToml file("s3_output = \"s3://from-file/x\"\ns3_interval = 60\ns3_jobs = 2\n");
  Env env{{{"PROTON_BEAM_S3_INTERVAL", "30"}, {"PROTON_BEAM_S3_ENDPOINT", "https://minio.example:9000"}}};
  auto r = load_config({"--config", file.path(), "--s3-jobs", "8"}, env.lookup());
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.config.s3_output, "s3://from-file/x");                // file
  EXPECT_EQ(r.config.s3_interval, 30);                               // environment over file
  EXPECT_EQ(r.config.s3_endpoint, "https://minio.example:9000");     // environment
  EXPECT_EQ(r.config.s3_jobs, 8);                                    // command line over file

  auto bucket = load_config({"--s3-output", "s3://No_Such"}, Env{}.lookup());
  EXPECT_NE(bucket.error.find("s3_output"), std::string::npos) << bucket.error;
  EXPECT_NE(bucket.error.find("bad bucket name"), std::string::npos) << bucket.error;
  auto part = load_config({"--s3-part-size", "6G"}, Env{}.lookup());
  EXPECT_NE(part.error.find("s3_part_size"), std::string::npos) << part.error;
  auto interval = load_config({}, Env{{{"PROTON_BEAM_S3_INTERVAL", "0"}}}.lookup());
  EXPECT_NE(interval.error.find("PROTON_BEAM_S3_INTERVAL"), std::string::npos) << interval.error;
}

TEST(DaemonConfig, CredentialsInS3UrlsAreRefusedWithoutEchoingThem) {
  for (const auto& [opt, value] : std::vector<std::pair<std::string, std::string>>{
           {"--s3-output", "s3://AKIA:XYZZYsecret@bucket/path"}, {"--s3-endpoint", "http://AKIA:XYZZYsecret@127.0.0.1:9000"}}) {
    auto r = load_config({opt, value}, Env{}.lookup());
    EXPECT_EQ(r.exit_code, 2) << opt;
    EXPECT_NE(r.error.find("credentials do not belong in the URL"), std::string::npos) << r.error;
    EXPECT_EQ(r.error.find("XYZZY"), std::string::npos) << r.error;
  }
}

TEST(DaemonRelayMessage, SplitsEventsAndClassifiesTheRest) {
  RelayMessageParser p;
  auto m = p.parse(R"( [ "EVENT" , "pb1" , {"id":"x","tags":[["e","]"]]} ] )");
  ASSERT_EQ(m.type, RelayMsgType::event);
  EXPECT_EQ(m.sub, "pb1");
  EXPECT_EQ(m.event, R"({"id":"x","tags":[["e","]"]]})");
  EXPECT_EQ(p.parse(R"(["EOSE","pb1"])").type, RelayMsgType::eose);
  auto closed = p.parse(R"(["CLOSED","pb1","auth-required: who are you"])");
  EXPECT_EQ(closed.type, RelayMsgType::closed);
  EXPECT_EQ(closed.text, "auth-required: who are you");
  EXPECT_EQ(p.parse(R"(["AUTH","challenge"])").text, "challenge");
  EXPECT_EQ(p.parse(R"(["NOTICE","hi"])").type, RelayMsgType::notice);
  EXPECT_EQ(p.parse(R"(["OK","id",true,""])").type, RelayMsgType::ok);
  EXPECT_EQ(p.parse(R"(["WHAT"])").type, RelayMsgType::other);
  for (const char* bad : {"", "{}", "[]", "[1]", R"(["EVENT"])", R"(["EVENT","s"])", R"(["EVENT","s",{})", R"(["EOSE"])", "nul"})
    EXPECT_EQ(p.parse(bad).type, RelayMsgType::malformed) << bad;
}

TEST(DaemonRelayMessage, CreatedAtOfAnEventForPaging) {
  RelayMessageParser p;
  EXPECT_EQ(p.created_at(R"({"content":"x\"created_at\":1","created_at":1700000123,"kind":1})"), 1700000123);
  EXPECT_EQ(p.created_at(R"({"created_at":"1700000123"})"), std::nullopt);
  EXPECT_EQ(p.created_at(R"({"kind":1})"), std::nullopt);
  EXPECT_EQ(p.created_at(R"([1,2])"), std::nullopt);
  EXPECT_EQ(p.created_at(R"({"created_at":)"), std::nullopt);
  // The top-level key only, whatever the values before it hold.
  EXPECT_EQ(p.created_at(R"({ "tags" : [["e","]}\"created_at\":5",{"created_at":6}]], "id":"x" , "created_at" : -7 })"), -7);
  EXPECT_EQ(p.created_at(R"({"x":{"created_at":6},"kind":1})"), std::nullopt);
  EXPECT_EQ(p.created_at(R"({"created_at":1.5})"), std::nullopt);
  EXPECT_EQ(p.created_at(R"({"created_at":1e3})"), std::nullopt);
  EXPECT_EQ(p.created_at(R"({"created_at":99999999999999999999})"), std::nullopt);  // beyond int64
  EXPECT_EQ(p.created_at(R"({"content":"unterminated)"), std::nullopt);
  EXPECT_EQ(p.created_at(R"({"tags":[[)"), std::nullopt);
}

TEST(DaemonRelayMessage, LeadingIdIsTheFirstKeysLowercaseHexOnly) {
  const std::string hex(64, 'a');
  Id32 want;
  want.fill(0xaa);
  EXPECT_EQ(leading_id(R"({"id":")" + hex + R"(","kind":1})"), want);
  EXPECT_EQ(leading_id(" {  \"id\" :  \"" + hex + "\"}"), want);                      // whitespace
  EXPECT_EQ(leading_id(R"({"kind":1,"id":")" + hex + R"("})"), std::nullopt);          // not the first key
  EXPECT_EQ(leading_id(R"({"id":")" + std::string(64, 'A') + R"("})"), std::nullopt);  // upper case
  EXPECT_EQ(leading_id(R"({"id":")" + hex.substr(1) + R"("})"), std::nullopt);         // 63 digits
  EXPECT_EQ(leading_id(R"({"id":")" + hex + "a" + R"("})"), std::nullopt);             // 65 digits
  EXPECT_EQ(leading_id(R"({"id":)" + hex + "}"), std::nullopt);                       // not a string
  EXPECT_EQ(leading_id(R"({"id":")" + hex), std::nullopt);                            // cut off
}

}  // namespace
}  // namespace pb::daemon
