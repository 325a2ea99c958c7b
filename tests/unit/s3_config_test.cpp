// AWS configuration resolution (environment, ~/.aws/credentials, ~/.aws/config profiles), s3:// URL
// parsing, the XML extraction S3 answers need, and the multipart part-size rule.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "s3/aws_config.hpp"
#include "s3/multipart_upload.hpp"
#include "s3/s3_location.hpp"
#include "s3/xml_extract.hpp"

namespace pb::s3 {
namespace {

namespace fs = std::filesystem;

class FakeEnv {
 public:
  explicit FakeEnv(std::map<std::string, std::string> vars) : vars_(std::move(vars)) {}
  EnvLookup lookup() const {
    return [this](const char* n) -> std::optional<std::string> {
      const auto it = vars_.find(n);
      if (it == vars_.end()) return std::nullopt;
      return it->second;
    };
  }

 private:
  std::map<std::string, std::string> vars_;
};

class S3AwsConfig : public ::testing::Test {
 protected:
  void SetUp() override {
    home_ = fs::temp_directory_path() / fmt_name();
    fs::create_directories(home_ / ".aws");
    std::ofstream(home_ / ".aws/credentials") << "[default]\naws_access_key_id = AKDEFAULT\naws_secret_access_key = secret1\n"
                                                 "\n# comment\n[work]\naws_access_key_id=AKWORK\naws_secret_access_key=secret2\n"
                                                 "aws_session_token = tok\n";
    std::ofstream(home_ / ".aws/config") << "[default]\nregion = eu-west-1\n[profile work]\nregion = ap-south-1\n"
                                            "endpoint_url = http://minio.local:9000/\n[profile cfgonly]\n"
                                            "aws_access_key_id = AKCFG\naws_secret_access_key = secret3\n";
  }
  void TearDown() override { fs::remove_all(home_); }
  static std::string fmt_name() {
    return "pb-aws-home-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
  }
  fs::path home_;
};

TEST_F(S3AwsConfig, EnvironmentWins) {
  const FakeEnv env({{"HOME", home_}, {"AWS_ACCESS_KEY_ID", "AKENV"}, {"AWS_SECRET_ACCESS_KEY", "s"},
                     {"AWS_SESSION_TOKEN", "t"}, {"AWS_REGION", "us-west-2"}, {"AWS_DEFAULT_REGION", "eu-north-1"}});
  const AwsConfig c = load_aws_config(env.lookup());
  EXPECT_EQ(c.credentials.access_key_id, "AKENV");
  EXPECT_EQ(c.credentials.session_token, "t");
  EXPECT_EQ(c.region, "us-west-2");
  EXPECT_EQ(c.credential_source, "environment");
  EXPECT_TRUE(c.endpoint.empty());
  EXPECT_FALSE(c.path_style);
}

TEST_F(S3AwsConfig, DefaultProfileAndConfigRegion) {
  const FakeEnv env({{"HOME", home_}});
  const AwsConfig c = load_aws_config(env.lookup());
  EXPECT_EQ(c.credentials.access_key_id, "AKDEFAULT");
  EXPECT_EQ(c.credentials.secret_access_key, "secret1");
  EXPECT_EQ(c.region, "eu-west-1");
  EXPECT_EQ(c.credential_source.find("secret"), std::string::npos);
}

TEST_F(S3AwsConfig, NamedProfileWithEndpoint) {
  const FakeEnv env({{"HOME", home_}, {"AWS_PROFILE", "work"}, {"AWS_DEFAULT_REGION", "ca-central-1"}});
  const AwsConfig c = load_aws_config(env.lookup());
  EXPECT_EQ(c.credentials.access_key_id, "AKWORK");
  EXPECT_EQ(c.credentials.session_token, "tok");
  EXPECT_EQ(c.region, "ca-central-1");  // the environment beats the profile
  EXPECT_EQ(c.endpoint, "http://minio.local:9000");
  EXPECT_TRUE(c.path_style);
}

TEST_F(S3AwsConfig, CredentialsFromConfigFileAndEndpointOverride) {
  const FakeEnv env({{"HOME", home_}, {"AWS_PROFILE", "cfgonly"}, {"AWS_ENDPOINT_URL", "http://ignored:1"}});
  const AwsConfig c = load_aws_config(env.lookup(), "https://s3.example.com");
  EXPECT_EQ(c.credentials.access_key_id, "AKCFG");
  EXPECT_EQ(c.region, "us-east-1");
  EXPECT_EQ(c.endpoint, "https://s3.example.com");
}

TEST_F(S3AwsConfig, MissingCredentialsAndBadEndpoint) {
  const FakeEnv none({{"HOME", home_}, {"AWS_PROFILE", "nope"}});
  EXPECT_THROW(load_aws_config(none.lookup()), std::runtime_error);
  const FakeEnv env({{"HOME", home_}, {"AWS_ENDPOINT_URL", "minio:9000"}});
  EXPECT_THROW(load_aws_config(env.lookup()), std::runtime_error);
  const FakeEnv path({{"HOME", home_}, {"AWS_ENDPOINT_URL", "http://minio:9000/bucket"}});
  EXPECT_THROW(load_aws_config(path.lookup()), std::runtime_error);
}

TEST(S3Location, Parse) {
  const S3Location a = parse_s3_url("s3://nostr-archive/hosts/a/");
  EXPECT_EQ(a.bucket, "nostr-archive");
  EXPECT_EQ(a.prefix, "hosts/a");
  EXPECT_EQ(a.key_for("2025_01_01.pb.gz"), "hosts/a/2025_01_01.pb.gz");
  EXPECT_EQ(a.list_prefix(), "hosts/a/");
  const S3Location b = parse_s3_url("s3://bucket");
  EXPECT_EQ(b.key_for("index.db"), "index.db");
  EXPECT_EQ(b.list_prefix(), "");
  EXPECT_EQ(b.url(), "s3://bucket");
  EXPECT_THROW(parse_s3_url("http://bucket/x"), std::invalid_argument);
  EXPECT_THROW(parse_s3_url("s3://Bucket/x"), std::invalid_argument);
  EXPECT_THROW(parse_s3_url("s3://ab"), std::invalid_argument);
  EXPECT_THROW(parse_s3_url("s3://bucket/a//b"), std::invalid_argument);
}

TEST(S3Xml, ListObjectsPage) {
  const std::string doc =
      "<ListBucketResult><IsTruncated>true</IsTruncated><Contents><Key>p/a&amp;b.pb.gz</Key><Size>12</Size>"
      "<ETag>&quot;abc&quot;</ETag></Contents><Contents><Key>p/c</Key><Size>3</Size></Contents>"
      "<NextContinuationToken>tok+/=</NextContinuationToken></ListBucketResult>";
  const auto contents = xml_elements(doc, "Contents");
  ASSERT_EQ(contents.size(), 2u);
  EXPECT_EQ(xml_first(contents[0], "Key"), "p/a&b.pb.gz");
  EXPECT_EQ(xml_first(contents[0], "ETag"), "\"abc\"");
  EXPECT_EQ(xml_first(doc, "NextContinuationToken"), "tok+/=");
  EXPECT_FALSE(xml_first(doc, "Missing").has_value());
  EXPECT_EQ(xml_unescape("&#233;&#x41;&lt;&bogus;"), "\xc3\xa9" "A<&bogus;");
  EXPECT_EQ(xml_escape("\"a\"&<"), "&quot;a&quot;&amp;&lt;");
}

TEST(S3Multipart, PartSizeGrowsToStayWithinTenThousandParts) {
  EXPECT_EQ(effective_part_size(1ull << 30, 64ull << 20), 64ull << 20);
  const std::uint64_t huge = 1000ull << 30;  // 1000 GiB at 64 MiB would be 16,000 parts
  const std::uint64_t p = effective_part_size(huge, 64ull << 20);
  EXPECT_LE((huge + p - 1) / p, kMaxParts);
  EXPECT_EQ(p % (1ull << 20), 0u);
}

}  // namespace
}  // namespace pb::s3
