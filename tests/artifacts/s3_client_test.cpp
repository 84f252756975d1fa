// The S3 client against a real S3 server (versitygw), checked with awscli as the other party.
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <thread>

#include "artifacts/s3_client.hpp"
#include "net/url.hpp"
#include "test_support.hpp"

namespace wwp::artifacts::test {
namespace {

S3Client client_for(const S3Server& server, std::uint64_t part_size = 64ULL << 20) {
  S3Endpoint endpoint{server.endpoint(), false, "us-east-1", S3Addressing::Path};
  S3ClientOptions options;
  options.part_size = part_size;
  options.retry.max_attempts = 2;
  options.retry.initial_backoff = std::chrono::milliseconds(20);
  return S3Client(endpoint, S3Credentials{kAccessKey, kSecretKey, ""}, options);
}

class S3ClientTest : public ::testing::Test {
 protected:
  void SetUp() override { server.make_bucket("bucket"); }
  S3Server server;
  ScratchDir dir;
};

TEST_F(S3ClientTest, PutThenAwsReadsItBack) {
  write_file(dir / "in.txt", "hello from the plugin\n");
  auto put = client_for(server).put_object("bucket", "wf/pod/in.txt", dir / "in.txt");
  ASSERT_TRUE(put) << put.error().message;
  ASSERT_TRUE(server.get("bucket", "wf/pod/in.txt", dir / "out.txt"));
  EXPECT_EQ(read_file(dir / "out.txt"), "hello from the plugin\n");
}

TEST_F(S3ClientTest, GetWhatAwsWrote) {
  write_file(dir / "in.bin", std::string(100000, 'x') + "end");
  server.put(dir / "in.bin", "bucket", "some/key.bin");
  auto got = client_for(server).get_object("bucket", "some/key.bin", dir / "got.bin");
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(read_file(dir / "got.bin"), read_file(dir / "in.bin"));
}

TEST_F(S3ClientTest, KeysWithCharactersThatNeedEncoding) {
  write_file(dir / "in.txt", "odd key");
  const std::string key = "dir with space/a+b=c&d;e,f@g~h(1)/ünïcode 'q'.txt";
  auto put = client_for(server).put_object("bucket", key, dir / "in.txt");
  ASSERT_TRUE(put) << put.error().message;
  ASSERT_TRUE(server.get("bucket", key, dir / "aws.txt"));
  EXPECT_EQ(read_file(dir / "aws.txt"), "odd key");
  auto got = client_for(server).get_object("bucket", key, dir / "got.txt");
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(read_file(dir / "got.txt"), "odd key");
}

TEST_F(S3ClientTest, EmptyObject) {
  write_file(dir / "empty", "");
  ASSERT_TRUE(client_for(server).put_object("bucket", "empty", dir / "empty"));
  auto got = client_for(server).get_object("bucket", "empty", dir / "got");
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(fs::file_size(dir / "got"), 0u);
}

TEST_F(S3ClientTest, MultipartUploadAboveThePartSize) {
  // 12 MiB + a tail with 5 MiB parts: three parts, the last one short.
  std::string content;
  for (int i = 0; content.size() < (12u << 20) + 12345; ++i) content += std::to_string(i) + ",";
  write_file(dir / "big.bin", content);
  auto put = client_for(server, 5ULL << 20).put_object("bucket", "big.bin", dir / "big.bin");
  ASSERT_TRUE(put) << put.error().message;
  auto head = server.aws("s3api head-object --bucket bucket --key big.bin");
  ASSERT_EQ(head.exit_code, 0) << head.output;
  EXPECT_NE(head.output.find("\"ETag\": \"\\\""), std::string::npos);
  EXPECT_NE(head.output.find("-3\\\""), std::string::npos)
      << "expected a 3-part ETag: " << head.output;
  ASSERT_TRUE(server.get("bucket", "big.bin", dir / "back.bin"));
  EXPECT_TRUE(read_file(dir / "back.bin") == content);
  // No unfinished uploads left behind.
  auto uploads = server.aws("s3api list-multipart-uploads --bucket bucket");
  EXPECT_EQ(uploads.output.find("UploadId"), std::string::npos) << uploads.output;
}

TEST_F(S3ClientTest, MissingObjectIsNotFound) {
  auto got = client_for(server).get_object("bucket", "nope", dir / "x");
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().kind, ErrorKind::NotFound) << got.error().message;
}

TEST_F(S3ClientTest, MissingBucketIsNotFound) {
  auto got = client_for(server).get_object("no-such-bucket", "nope", dir / "x");
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().kind, ErrorKind::NotFound) << got.error().message;
}

TEST_F(S3ClientTest, WrongSecretIsAPermanentFailure) {
  S3Client client({server.endpoint(), false, "us-east-1", S3Addressing::Path},
                  S3Credentials{kAccessKey, "wrong", ""});
  write_file(dir / "in.txt", "x");
  auto put = client.put_object("bucket", "k", dir / "in.txt");
  ASSERT_FALSE(put);
  EXPECT_EQ(put.error().kind, ErrorKind::Failed);
  EXPECT_NE(put.error().message.find("403"), std::string::npos) << put.error().message;
}

TEST_F(S3ClientTest, ListsEveryObjectUnderAPrefixAcrossPages) {
  write_file(dir / "f", "x");
  for (int i = 0; i < 3; ++i) server.put(dir / "f", "bucket", "p/" + std::to_string(i));
  server.put(dir / "f", "bucket", "p/sub/deep");
  server.put(dir / "f", "bucket", "other/x");
  auto listed = client_for(server).list_objects("bucket", "p/");
  ASSERT_TRUE(listed) << listed.error().message;
  std::vector<std::string> keys;
  for (const auto& o : *listed) keys.push_back(o.key);
  EXPECT_EQ(keys, (std::vector<std::string>{"p/0", "p/1", "p/2", "p/sub/deep"}));
}

TEST(S3ClientDown, UnreachableServerIsTransient) {
  ScratchDir dir;
  S3ClientOptions options;
  options.retry.max_attempts = 3;
  options.retry.initial_backoff = std::chrono::milliseconds(10);
  S3Client client(
      {"127.0.0.1:" + std::to_string(free_port()), false, "us-east-1", S3Addressing::Path},
      S3Credentials{"a", "b", ""}, options);
  auto got = client.get_object("bucket", "key", dir / "x");
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().kind, ErrorKind::Transient) << got.error().message;
  EXPECT_NE(got.error().message.find("gave up after 3 attempts"), std::string::npos)
      << got.error().message;
}

// A fake S3 that answers 503 SlowDown twice before serving: the client retries and succeeds,
// and with fewer attempts it gives up with Transient.
TEST(S3ClientRetry, RetriesServerErrorsWithBackoff) {
  httplib::Server fake;
  std::atomic<int> calls{0};
  fake.Get("/bucket/key", [&](const httplib::Request& request, httplib::Response& response) {
    EXPECT_TRUE(request.has_header("Authorization"));
    EXPECT_TRUE(request.has_header("x-amz-content-sha256"));
    if (++calls <= 2) {
      response.status = 503;
      response.set_content(
          "<Error><Code>SlowDown</Code><Message>Reduce your rate</Message></Error>",
          "application/xml");
      return;
    }
    response.set_content("payload", "application/octet-stream");
  });
  int port = fake.bind_to_any_port("127.0.0.1");
  std::thread thread([&] { fake.listen_after_bind(); });
  ScratchDir dir;
  S3ClientOptions options;
  options.retry.max_attempts = 3;
  options.retry.initial_backoff = std::chrono::milliseconds(10);
  S3Client client({"127.0.0.1:" + std::to_string(port), false, "us-east-1", S3Addressing::Path},
                  S3Credentials{"a", "b", ""}, options);
  auto got = client.get_object("bucket", "key", dir / "x");
  EXPECT_TRUE(got) << got.error().message;
  EXPECT_EQ(calls.load(), 3);
  EXPECT_EQ(read_file(dir / "x"), "payload");  // the 503 bodies did not end up in the file

  calls = 0;
  options.retry.max_attempts = 2;
  S3Client impatient({"127.0.0.1:" + std::to_string(port), false, "us-east-1", S3Addressing::Path},
                     S3Credentials{"a", "b", ""}, options);
  auto failed = impatient.get_object("bucket", "key", dir / "y");
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().kind, ErrorKind::Transient);
  EXPECT_NE(failed.error().message.find("SlowDown"), std::string::npos) << failed.error().message;
  fake.stop();
  thread.join();
}

TEST(S3ClientUrl, AddressingStyles) {
  S3Client path({"minio.example:9000", false, "us-east-1", S3Addressing::Auto}, {});
  EXPECT_EQ(path.url("b", "a b/c"), "http://minio.example:9000/b/a%20b/c");
  S3Client aws({"s3.amazonaws.com", true, "us-east-1", S3Addressing::Auto}, {});
  EXPECT_EQ(aws.url("my-bucket", "k"), "https://my-bucket.s3.amazonaws.com/k");
  EXPECT_EQ(aws.url("dotted.bucket", "k"), "https://s3.amazonaws.com/dotted.bucket/k");
  S3Client forced({"https://storage.example", true, "eu-1", S3Addressing::VirtualHost}, {});
  EXPECT_EQ(forced.url("b", "k", "uploads="), "https://b.storage.example/k?uploads=");
}

TEST(S3Xml, ValuesAndEntities) {
  auto values = xml_values("<a><Key>x &amp; y</Key><Key>&lt;&#65;&#x42;&gt;</Key></a>", "Key");
  EXPECT_EQ(values, (std::vector<std::string>{"x & y", "<AB>"}));
  // Malformed references from a server are kept as text, never thrown on.
  EXPECT_EQ(xml_values("<K>&#zz;&#;&#x110000;&bogus;</K>", "K"),
            (std::vector<std::string>{"&#zz;&#;&#x110000;&bogus;"}));
  EXPECT_EQ(net::percent_encode("a b/ü~", true), "a%20b/%C3%BC~");
  EXPECT_EQ(net::percent_encode("a/b", false), "a%2Fb");
}

TEST(S3Xml, ListPage) {
  auto page = parse_list_page(
      "<ListBucketResult><IsTruncated>true</IsTruncated><NextContinuationToken>t/2=</"
      "NextContinuationToken><Contents><Key>a&amp;b</Key><Size>12</Size></Contents>"
      "<Contents><Key>c</Key><Size>huge</Size></Contents><Contents><Size>1</Size></Contents>"
      "</ListBucketResult>");
  ASSERT_EQ(page.objects.size(), 2u);  // an entry without a key is skipped
  EXPECT_EQ(page.objects[0].key, "a&b");
  EXPECT_EQ(page.objects[0].size, 12u);
  EXPECT_EQ(page.objects[1].size, 0u);  // a malformed size reads as 0
  EXPECT_EQ(page.next_token, "t/2=");
  EXPECT_EQ(parse_list_page("<IsTruncated>false</IsTruncated><NextContinuationToken>x"
                            "</NextContinuationToken>")
                .next_token,
            "");
}

TEST(S3ClientList, ServerRepeatingItsContinuationTokenIsAnError) {
  // A broken or hostile server that answers every page with "truncated, continue at t" would
  // otherwise keep list_objects going forever (it has no deadline of its own).
  httplib::Server fake;
  std::atomic<int> calls{0};
  fake.Get("/bucket", [&](const httplib::Request&, httplib::Response& response) {
    ++calls;
    response.set_content(
        "<ListBucketResult><IsTruncated>true</IsTruncated><NextContinuationToken>t"
        "</NextContinuationToken><Contents><Key>k</Key><Size>1</Size></Contents>"
        "</ListBucketResult>",
        "application/xml");
  });
  int port = fake.bind_to_any_port("127.0.0.1");
  std::thread thread([&] { fake.listen_after_bind(); });
  S3Client client({"127.0.0.1:" + std::to_string(port), false, "us-east-1", S3Addressing::Path},
                  S3Credentials{"a", "b", ""});
  auto listed = client.list_objects("bucket", "p/");
  ASSERT_FALSE(listed);
  EXPECT_NE(listed.error().message.find("repeated continuation token t"), std::string::npos)
      << listed.error().message;
  EXPECT_EQ(calls.load(), 2);
  fake.stop();
  thread.join();
}

}  // namespace
}  // namespace wwp::artifacts::test
