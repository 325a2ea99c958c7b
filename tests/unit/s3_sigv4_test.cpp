// SigV4 against the worked examples in AWS's S3 documentation ("Signature Calculations for the
// Authorization Header: Transferring Payload in a Single Chunk", examplebucket, 20130524T000000Z).
// botocore's S3SigV4Auth computes the same four signatures (checked when these tests were written);
// the integration tests compare every live request with botocore as well.
#include <gtest/gtest.h>

#include "s3/sigv4.hpp"

namespace pb::s3 {
namespace {

const Credentials kAwsExample{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
constexpr std::string_view kDate = "20130524T000000Z";
constexpr std::string_view kHost = "examplebucket.s3.amazonaws.com";

std::string signature_of(const SignedHeaders& s) {
  for (const auto& [k, v] : s.headers)
    if (k == "authorization") return v.substr(v.find("Signature=") + 10);
  return {};
}

std::string header_of(const SignedHeaders& s, const std::string& name) {
  for (const auto& [k, v] : s.headers)
    if (k == name) return v;
  return {};
}

TEST(S3SigV4, AwsDocGetObjectWithRange) {
  const SigningInput in{"GET", kHost, "/test.txt", {}, {{"Range", "bytes=0-9"}}, kEmptySha256, kDate, "us-east-1"};
  EXPECT_EQ(sha256_hex(canonical_request(in)), "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  const SignedHeaders s = sign(in, kAwsExample);
  EXPECT_EQ(signature_of(s), "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  EXPECT_EQ(header_of(s, "authorization"),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(S3SigV4, AwsDocPutObject) {
  const std::string body = "Welcome to Amazon S3.";
  const std::string payload = sha256_hex(body);
  EXPECT_EQ(payload, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  const SigningInput in{"PUT", kHost, "/test%24file.text", {},
                        {{"Date", "Fri, 24 May 2013 00:00:00 GMT"}, {"x-amz-storage-class", "REDUCED_REDUNDANCY"}},
                        payload, kDate, "us-east-1"};
  EXPECT_EQ(signature_of(sign(in, kAwsExample)), "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
  EXPECT_EQ(uri_encode("test$file.text", false), "test%24file.text");
}

TEST(S3SigV4, AwsDocListObjectsQueryIsSorted) {
  // Given in the "wrong" order: the canonical query (and the wire query we send) is sorted.
  const SigningInput in{"GET", kHost, "/", {{"prefix", "J"}, {"max-keys", "2"}}, {}, kEmptySha256, kDate, "us-east-1"};
  EXPECT_EQ(signature_of(sign(in, kAwsExample)), "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(S3SigV4, AwsDocValuelessParameterGetsEquals) {
  const SigningInput in{"GET", kHost, "/", {{"lifecycle", ""}}, {}, kEmptySha256, kDate, "us-east-1"};
  EXPECT_EQ(canonical_query(in.query), "lifecycle=");
  EXPECT_EQ(signature_of(sign(in, kAwsExample)), "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

TEST(S3SigV4, SessionTokenIsSignedAndSent) {
  Credentials c = kAwsExample;
  c.session_token = "token/with+chars=";
  const SigningInput in{"GET", kHost, "/test.txt", {}, {}, kEmptySha256, kDate, "us-east-1"};
  const SignedHeaders s = sign(in, c);
  EXPECT_EQ(header_of(s, "x-amz-security-token"), "token/with+chars=");
  EXPECT_NE(header_of(s, "authorization").find("SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token"),
            std::string::npos);
  EXPECT_NE(signature_of(s), signature_of(sign(in, kAwsExample)));
}

TEST(S3SigV4, UriEncoding) {
  EXPECT_EQ(uri_encode("a b+c/d~e_f-g.h", false), "a%20b%2Bc/d~e_f-g.h");
  EXPECT_EQ(uri_encode("a/b=c", true), "a%2Fb%3Dc");
  EXPECT_EQ(uri_encode("\xc3\xa9", true), "%C3%A9");
  EXPECT_EQ(canonical_query({{"uploadId", "x/y"}, {"partNumber", "10"}, {"uploads", ""}}),
            "partNumber=10&uploadId=x%2Fy&uploads=");
}

TEST(S3SigV4, AmzDateFormat) {
  const std::string d = amz_date_now();
  ASSERT_EQ(d.size(), 16u);
  EXPECT_EQ(d[8], 'T');
  EXPECT_EQ(d.back(), 'Z');
}

}  // namespace
}  // namespace pb::s3
