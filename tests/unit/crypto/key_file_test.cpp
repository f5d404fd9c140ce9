#include "gateway/crypto/key_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "crypto_test_support.h"

namespace xoev::crypto {
namespace {

namespace fs = std::filesystem;

class KeyFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("xoev-keyfile-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  static mode_t mode_of(const fs::path& p) {
    struct stat st {};
    ::stat(p.c_str(), &st);
    return st.st_mode & 07777;
  }
  fs::path dir_;
};

TEST_F(KeyFile, WritesPrivateKeys0600AndPublicKeys0644) {
  const mode_t old = ::umask(0);  // a permissive umask must not widen the private file
  auto s1 = write_jwk_file(dir_ / "k.jwk", test::p256_enc(), true);
  auto s2 = write_jwk_file(dir_ / "k.pub.jwk", test::p256_enc(), false);
  ::umask(old);
  ASSERT_TRUE(s1 && s2);
  EXPECT_EQ(mode_of(dir_ / "k.jwk"), 0600u);
  EXPECT_EQ(mode_of(dir_ / "k.pub.jwk"), 0644u);
  auto priv = load_jwk_file(dir_ / "k.jwk");
  ASSERT_TRUE(priv) << priv.problem().one_line();
  EXPECT_TRUE(priv->is_private());
  auto pub = load_jwk_file(dir_ / "k.pub.jwk");
  ASSERT_TRUE(pub);
  EXPECT_FALSE(pub->is_private());
}

TEST_F(KeyFile, NeverOverwritesAnExistingFile) {
  ASSERT_TRUE(write_jwk_file(dir_ / "k.jwk", test::p256_enc(), true));
  auto again = write_jwk_file(dir_ / "k.jwk", test::x25519_enc(), true);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.problem().kind, ProblemKind::io_error);
  EXPECT_EQ(load_jwk_file(dir_ / "k.jwk")->type(), Jwk::Type::ec_p256);
}

TEST_F(KeyFile, RefusesGroupOrWorldReadablePrivateKey) {
  ASSERT_TRUE(write_jwk_file(dir_ / "k.jwk", test::p256_enc(), true));
  for (mode_t mode : {0640u, 0604u, 0660u, 0644u}) {
    fs::permissions(dir_ / "k.jwk", static_cast<fs::perms>(mode));
    auto key = load_jwk_file(dir_ / "k.jwk");
    ASSERT_FALSE(key) << std::oct << mode;
    EXPECT_EQ(key.problem().kind, ProblemKind::config_invalid);
    EXPECT_NE(key.problem().detail.find("readable by group or others"), std::string::npos) << key.problem().detail;
    EXPECT_NE(key.problem().detail.find("chmod 600"), std::string::npos);
    ASSERT_TRUE(key.problem().location);
    EXPECT_EQ(key.problem().location->file, (dir_ / "k.jwk").string());
  }
  fs::permissions(dir_ / "k.jwk", static_cast<fs::perms>(0400));
  EXPECT_TRUE(load_jwk_file(dir_ / "k.jwk"));
}

TEST_F(KeyFile, PublicKeysMayBeWorldReadable) {
  ASSERT_TRUE(write_jwk_file(dir_ / "k.pub.jwk", test::p256_enc(), false));
  fs::permissions(dir_ / "k.pub.jwk", static_cast<fs::perms>(0666));
  EXPECT_TRUE(load_jwk_file(dir_ / "k.pub.jwk"));
}

TEST_F(KeyFile, ReportsMissingAndMalformedFiles) {
  auto missing = load_jwk_file(dir_ / "nope.jwk");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.problem().kind, ProblemKind::io_error);
  std::ofstream(dir_ / "bad.jwk") << "{\"kty\":";
  auto bad = load_jwk_file(dir_ / "bad.jwk");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.problem().one_line().find("bad.jwk"), std::string::npos);
}

TEST_F(KeyFile, RingUsesFileStemWhenKidIsMissingAndRefusesDuplicateKids) {
  Jwk no_kid = test::p256_enc().public_key();
  no_kid.set_kid("");
  ASSERT_TRUE(write_jwk_file(dir_ / "standesamt-2026.pub.jwk", no_kid, false));
  ASSERT_TRUE(write_jwk_file(dir_ / "x.pub.jwk", test::x25519_enc(), false));
  auto ring = load_key_ring({dir_ / "standesamt-2026.pub.jwk", dir_ / "x.pub.jwk"});
  ASSERT_TRUE(ring) << ring.problem().one_line();
  EXPECT_EQ(ring->first()->kid(), "standesamt-2026");
  EXPECT_NE(ring->find("x25519-enc"), nullptr);
  auto dup = load_key_ring({dir_ / "x.pub.jwk", dir_ / "x.pub.jwk"});
  ASSERT_FALSE(dup);
  EXPECT_NE(dup.problem().detail.find("two keys with kid=x25519-enc"), std::string::npos);
}

}  // namespace
}  // namespace xoev::crypto
