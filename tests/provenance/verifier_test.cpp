// Policy, payload and signature checks without a registry: keys are made here with OpenSSL.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "common/base64.hpp"
#include "provenance/cosign_signature.hpp"
#include "provenance/verifier.hpp"

using namespace wwp;
using namespace wwp::provenance;

namespace {

using Key = UniqueHandle<EVP_PKEY, EVP_PKEY_free>;

Key make_key(const char* curve = "P-256") {
  return Key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve));
}

std::string public_pem(const Key& key) {
  UniqueHandle<BIO, BIO_free> bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PUBKEY(bio.get(), key.get());
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(length));
}

std::string sign(const Key& key, const std::string& message) {
  UniqueHandle<EVP_MD_CTX, EVP_MD_CTX_free> ctx(EVP_MD_CTX_new());
  EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get());
  std::size_t length = 0;
  EVP_DigestSign(ctx.get(), nullptr, &length,
                 reinterpret_cast<const unsigned char*>(message.data()), message.size());
  std::string signature(length, '\0');
  EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &length,
                 reinterpret_cast<const unsigned char*>(message.data()), message.size());
  signature.resize(length);
  return base64_encode(signature);
}

PublicKey public_key(const Key& key, const std::string& name) {
  auto loaded = PublicKey::from_pem(public_pem(key), name);
  EXPECT_TRUE(loaded) << loaded.error().message;
  return std::move(*loaded);
}

const Digest kModule = sha256_of("the module's manifest");
const Digest kOther = sha256_of("another manifest");

}  // namespace

TEST(ProvenancePolicy, LongestPrefixWinsAndStarIsTheDefault) {
  auto policy = Policy::parse(
      {"*=warn", "ghcr.io/acme=require", "ghcr.io/acme/experiments=off", "Quay.IO/=require"});
  ASSERT_TRUE(policy) << policy.error().message;
  EXPECT_EQ(policy->decide("ghcr.io/acme/tools").mode, Mode::Require);
  EXPECT_EQ(policy->decide("ghcr.io/acme").mode, Mode::Require);
  EXPECT_EQ(policy->decide("ghcr.io/acme/experiments/x").mode, Mode::Off);
  EXPECT_EQ(policy->decide("ghcr.io/acme-evil/tools").mode, Mode::Warn);  // not a path prefix
  EXPECT_EQ(policy->decide("quay.io/team/mod").mode, Mode::Require);
  EXPECT_EQ(policy->decide("quay.io/team/mod").rule, "quay.io");
  EXPECT_EQ(policy->decide("docker.example/x").mode, Mode::Warn);
  EXPECT_EQ(Policy().decide("anything/at/all").mode, Mode::Off);
}

TEST(ProvenancePolicy, BadEntriesNameThemselves) {
  auto no_mode = Policy::parse({"ghcr.io/acme"});
  ASSERT_FALSE(no_mode);
  EXPECT_NE(no_mode.error().message.find("\"ghcr.io/acme\": expected PREFIX=MODE"),
            std::string::npos);
  auto bad_mode = Policy::parse({"ghcr.io/acme=always"});
  ASSERT_FALSE(bad_mode);
  EXPECT_NE(bad_mode.error().message.find("\"always\" is not one of require, warn, off"),
            std::string::npos);
  auto file =
      Policy::parse_file_text("# comment\n\nghcr.io/acme require\nquay.io maybe\n", "p.txt");
  ASSERT_FALSE(file);
  EXPECT_NE(file.error().message.find("p.txt line 4"), std::string::npos) << file.error().message;
  auto good = Policy::parse_file_text("# comment\n  ghcr.io/acme   require \n* off\n", "p.txt");
  ASSERT_TRUE(good) << good.error().message;
  EXPECT_EQ(good->decide("ghcr.io/acme/x").mode, Mode::Require);
}

TEST(ProvenanceKeys, OnlyEcdsaP256PemKeysAreAccepted) {
  EXPECT_TRUE(PublicKey::from_pem(public_pem(make_key()), "k.pub"));
  auto p384 = PublicKey::from_pem(public_pem(make_key("P-384")), "p384.pub");
  ASSERT_FALSE(p384);
  EXPECT_NE(p384.error().message.find("p384.pub: curve secp384r1 is not P-256"), std::string::npos)
      << p384.error().message;
  Key rsa(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(2048)));
  auto not_ec = PublicKey::from_pem(public_pem(rsa), "rsa.pub");
  ASSERT_FALSE(not_ec);
  EXPECT_NE(not_ec.error().message.find("not an ECDSA key"), std::string::npos);
  EXPECT_FALSE(PublicKey::from_pem("garbage", "g.pub"));
  EXPECT_FALSE(PublicKey::load("/nonexistent/cosign.pub"));
}

TEST(ProvenancePayload, CosignSimpleSigningRoundTripsAndBadOnesAreNamed) {
  const std::string payload = make_payload("ghcr.io/acme/mod", kModule);
  auto parsed = parse_payload(payload);
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->manifest, kModule);
  EXPECT_EQ(parsed->docker_reference, "ghcr.io/acme/mod");
  EXPECT_EQ(signature_tag(kModule), "sha256-" + kModule.hex + ".sig");
  EXPECT_FALSE(parse_payload("not json"));
  EXPECT_FALSE(parse_payload(R"({"critical":{"type":"something else","image":{}}})"));
  auto no_digest =
      parse_payload(R"({"critical":{"type":"cosign container image signature","image":{}}})");
  ASSERT_FALSE(no_digest);
  EXPECT_NE(no_digest.error().message.find("docker-manifest-digest"), std::string::npos);
}

TEST(ProvenanceVerifier, AcceptsTheKeysSignatureAndNamesKeyAndDigestOtherwise) {
  const Key signer = make_key();
  const Key stranger = make_key();
  std::vector<PublicKey> keys;
  keys.push_back(public_key(stranger, "/keys/other.pub"));
  keys.push_back(public_key(signer, "/keys/cosign.pub"));
  const Verifier verifier(Policy(), std::move(keys));
  const std::string payload = make_payload("ghcr.io/acme/mod", kModule);

  auto good = verifier.verify(kModule, {{payload, sign(signer, payload)}});
  ASSERT_TRUE(good) << good.error().message;
  EXPECT_EQ(*good, "/keys/cosign.pub");
  // One good signature among bad ones is enough (cosign appends a layer per signing).
  EXPECT_TRUE(verifier.verify(
      kModule, {{payload, "bm90IGEgc2lnbmF0dXJl"}, {payload, sign(signer, payload)}}));

  auto check_failure = [&](const Result<std::string>& result, const std::string& reason) {
    ASSERT_FALSE(result);
    const std::string& message = result.error().message;
    EXPECT_NE(message.find(kModule.str()), std::string::npos) << message;
    EXPECT_NE(message.find("/keys/other.pub, /keys/cosign.pub"), std::string::npos) << message;
    EXPECT_NE(message.find(reason), std::string::npos) << message;
  };
  const Key unknown = make_key();
  check_failure(verifier.verify(kModule, {{payload, sign(unknown, payload)}}),
                "its signature does not verify");
  std::string tampered = payload;
  tampered.replace(tampered.find("acme"), 4, "evil");
  check_failure(verifier.verify(kModule, {{tampered, sign(signer, payload)}}),
                "its signature does not verify");
  // A genuine signature of another module, copied under this module's signature tag.
  const std::string other = make_payload("ghcr.io/acme/mod", kOther);
  check_failure(verifier.verify(kModule, {{other, sign(signer, other)}}),
                "its signed payload names " + kOther.str());
  check_failure(verifier.verify(kModule, {}), "no signature found (tag sha256-" + kModule.hex);
  check_failure(verifier.verify(kModule, {{payload, "%%%"}}), "not base64");
}
