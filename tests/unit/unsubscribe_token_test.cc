#include "services/directory/unsubscribe_token.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "absl/strings/escaping.h"

namespace forewarn {
namespace {

const std::string kSecretA(40, 'a');
const std::string kSecretB = "0123456789abcdef0123456789abcdef-b";

UnsubscribeTokens Keys(std::vector<UnsubscribeKey> keys) {
  auto tokens = UnsubscribeTokens::FromKeys(std::move(keys));
  EXPECT_TRUE(tokens.ok()) << tokens.status();
  return *std::move(tokens);
}

const UnsubscribePayload kPayload{1234567, NoticeCategory::kPlannedMaintenance, Channel::kEmail};

TEST(UnsubscribeToken, RoundTripsEveryCategoryAndChannel) {
  const UnsubscribeTokens tokens = Keys({{1, kSecretA}});
  for (NoticeCategory category : kAllNoticeCategories) {
    for (Channel channel : {Channel::kSms, Channel::kEmail}) {
      const UnsubscribePayload p{int64_t{1} << 40, category, channel};
      const std::string token = tokens.Sign(p);
      auto back = tokens.Verify(token);
      ASSERT_TRUE(back.ok()) << back.status();
      EXPECT_EQ(*back, p);
    }
  }
}

TEST(UnsubscribeToken, IsShortAndUrlSafe) {
  const std::string token = Keys({{1, kSecretA}}).Sign(kPayload);
  EXPECT_EQ(token.size(), 35u);
  for (char c : token) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') << token;
}

TEST(UnsubscribeToken, DiffersPerCustomerCategoryAndKey) {
  const UnsubscribeTokens a = Keys({{1, kSecretA}});
  const UnsubscribeTokens b = Keys({{1, kSecretB}});
  std::set<std::string> seen = {a.Sign(kPayload), b.Sign(kPayload),
                                a.Sign({kPayload.customer_id + 1, kPayload.category, kPayload.channel}),
                                a.Sign({kPayload.customer_id, NoticeCategory::kBankingChanges, kPayload.channel})};
  EXPECT_EQ(seen.size(), 4u);
  EXPECT_EQ(a.Sign(kPayload), a.Sign(kPayload));  // deterministic: the same link in every email
}

TEST(UnsubscribeToken, RefusesEveryAlteredCharacter) {
  const UnsubscribeTokens tokens = Keys({{1, kSecretA}});
  const std::string token = tokens.Sign(kPayload);
  for (size_t i = 0; i < token.size(); ++i) {
    for (char replacement : {'A', 'z', '-', '_', '0'}) {
      if (token[i] == replacement) continue;
      std::string tampered = token;
      tampered[i] = replacement;
      EXPECT_FALSE(tokens.Verify(tampered).ok()) << "position " << i << ": " << tampered;
    }
  }
}

TEST(UnsubscribeToken, AnotherCustomersIdUnderTheSameMacIsRefused) {
  const UnsubscribeTokens tokens = Keys({{1, kSecretA}});
  std::string bytes;
  ASSERT_TRUE(absl::WebSafeBase64Unescape(tokens.Sign(kPayload), &bytes));
  bytes[8] = static_cast<char>(bytes[8] ^ 0x01);  // customer id's last byte
  auto verified = tokens.Verify(absl::WebSafeBase64Escape(bytes));
  ASSERT_FALSE(verified.ok());
  EXPECT_EQ(verified.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(verified.status().message().find("signature does not match"), std::string::npos)
      << verified.status();
}

TEST(UnsubscribeToken, TruncatedExtendedPaddedOrMalformedIsRefused) {
  const UnsubscribeTokens tokens = Keys({{1, kSecretA}});
  const std::string token = tokens.Sign(kPayload);
  for (const std::string& bad : {token.substr(0, token.size() - 1), token.substr(0, 22), token + "A", token + "=",
                                 std::string(), std::string(35, '.'), std::string(35, '+'), token.substr(0, 34) + "/"}) {
    auto v = tokens.Verify(bad);
    EXPECT_FALSE(v.ok()) << bad;
    EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(UnsubscribeToken, NonCanonicalSpellingOfTheSameBytesIsRefused) {
  const UnsubscribeTokens tokens = Keys({{1, kSecretA}});
  const std::string token = tokens.Sign(kPayload);
  // 26 bytes: the last character carries 4 padding bits, which must be 0.
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string other = token;
  other.back() = alphabet[alphabet.find(token.back()) | 1];
  ASSERT_NE(other, token);
  EXPECT_FALSE(tokens.Verify(other).ok());
}

TEST(UnsubscribeToken, WrongKeyIsRefused) {
  const std::string token = Keys({{1, kSecretA}}).Sign(kPayload);
  auto v = Keys({{1, kSecretB}}).Verify(token);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("signature does not match"), std::string::npos);
  auto unknown = Keys({{2, kSecretA}}).Verify(token);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("unknown key version 1"), std::string::npos) << unknown.status();
}

TEST(UnsubscribeToken, RotationSignsWithTheFirstKeyAndVerifiesOlderOnes) {
  const UnsubscribeTokens old_ring = Keys({{1, kSecretA}});
  const UnsubscribeTokens rotated = Keys({{2, kSecretB}, {1, kSecretA}});
  EXPECT_EQ(rotated.signing_version(), 2);
  auto old_link = rotated.Verify(old_ring.Sign(kPayload));
  ASSERT_TRUE(old_link.ok()) << old_link.status();
  EXPECT_EQ(*old_link, kPayload);
  const std::string fresh = rotated.Sign(kPayload);
  EXPECT_TRUE(rotated.Verify(fresh).ok());
  EXPECT_FALSE(old_ring.Verify(fresh).ok());  // version 2 unknown there
}

TEST(UnsubscribeToken, KeysAreChecked) {
  EXPECT_FALSE(UnsubscribeTokens::FromKeys({}).ok());
  EXPECT_FALSE(UnsubscribeTokens::FromKeys({{1, std::string(31, 'x')}}).ok());
  EXPECT_FALSE(UnsubscribeTokens::FromKeys({{0, kSecretA}}).ok());
  EXPECT_FALSE(UnsubscribeTokens::FromKeys({{256, kSecretA}}).ok());
  EXPECT_FALSE(UnsubscribeTokens::FromKeys({{1, kSecretA}, {1, kSecretB}}).ok());
  EXPECT_TRUE(UnsubscribeTokens::FromKeys({{255, std::string(32, 'x')}}).ok());
}

class UnsubscribeKeyFile : public ::testing::Test {
 protected:
  std::string Write(const std::string& text) {
    std::ofstream(path_, std::ios::binary) << text;
    return path_;
  }
  void TearDown() override { std::filesystem::remove(path_); }
  std::string path_ = (std::filesystem::temp_directory_path() /
                       ("forewarn_unsub_key_" + std::to_string(::getpid()) + ".txt"))
                          .string();
};

TEST_F(UnsubscribeKeyFile, ReadsASingleSecretAsVersionOne) {
  auto tokens = UnsubscribeTokens::FromFile(Write(kSecretA + "\n"));
  ASSERT_TRUE(tokens.ok()) << tokens.status();
  EXPECT_EQ(tokens->signing_version(), 1);
  EXPECT_TRUE(Keys({{1, kSecretA}}).Verify(tokens->Sign(kPayload)).ok());
}

TEST_F(UnsubscribeKeyFile, ReadsVersionedKeysWithComments) {
  auto tokens = UnsubscribeTokens::FromFile(Write("# rotated 2026-12\n3 " + kSecretB + "\n\n1 " + kSecretA + "\n"));
  ASSERT_TRUE(tokens.ok()) << tokens.status();
  EXPECT_EQ(tokens->signing_version(), 3);
  EXPECT_TRUE(tokens->Verify(Keys({{1, kSecretA}}).Sign(kPayload)).ok());
}

TEST_F(UnsubscribeKeyFile, MisconfigurationNamesTheFileButNeverTheSecret) {
  const std::string shortish = "too-short-secret";
  auto s = UnsubscribeTokens::FromFile(Write(shortish + "\n"));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.status().message().find(path_), std::string::npos) << s.status();
  EXPECT_NE(s.status().message().find("at least 32"), std::string::npos) << s.status();
  EXPECT_EQ(s.status().message().find(shortish), std::string::npos) << s.status();

  auto two_bare = UnsubscribeTokens::FromFile(Write(kSecretA + "\n" + kSecretB + "\n"));
  ASSERT_FALSE(two_bare.ok());
  EXPECT_NE(two_bare.status().message().find(":1: expected \"VERSION SECRET\""), std::string::npos)
      << two_bare.status();
  EXPECT_FALSE(UnsubscribeTokens::FromFile(Write("# only a comment\n")).ok());
  auto missing = UnsubscribeTokens::FromFile(path_ + ".absent");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("cannot be read"), std::string::npos);
}

NoticeJob EmailJob(NoticeKind kind, Channel channel = Channel::kEmail) {
  NoticeJob job;
  job.kind = kind;
  job.recipient.customer_id = 42;
  job.recipient.channel = channel;
  return job;
}

TEST(UnsubscribeLinks, OnlyEmailsOfSilenceableCategoriesGetALink) {
  auto links = UnsubscribeLinks::Create("https://forewarn.example/u/", Keys({{1, kSecretA}}),
                                        {NoticeCategory::kPlannedMaintenance});
  ASSERT_TRUE(links.ok()) << links.status();
  const std::string url = links->For(EmailJob(NoticeKind::kMaintenanceReminder));
  ASSERT_EQ(url.rfind("https://forewarn.example/u/", 0), 0u) << url;
  auto payload = Keys({{1, kSecretA}}).Verify(url.substr(std::string("https://forewarn.example/u/").size()));
  ASSERT_TRUE(payload.ok()) << payload.status();
  EXPECT_EQ(*payload, (UnsubscribePayload{42, NoticeCategory::kPlannedMaintenance, Channel::kEmail}));
  EXPECT_EQ(links->For(EmailJob(NoticeKind::kOutageStarted)), "");
  EXPECT_EQ(links->For(EmailJob(NoticeKind::kIbanChangeHolder)), "");
  EXPECT_EQ(links->For(EmailJob(NoticeKind::kMaintenanceReminder, Channel::kSms)), "");
}

TEST(UnsubscribeLinks, BaseUrlMustBeHttpsExceptOnLoopback) {
  for (const char* good : {"https://forewarn.example/u/", "http://127.0.0.1:8080/u/", "http://localhost/u/"}) {
    EXPECT_TRUE(UnsubscribeLinks::Create(good, Keys({{1, kSecretA}}), {}).ok()) << good;
  }
  for (const char* bad : {"http://forewarn.example/u/", "ftp://x/u/", "https:///u/", "https://x/u/?a=",
                          "https://x/u/#f", "https://x y/u/", "forewarn.example/u/", "http://127.0.0.1.evil.example/"}) {
    EXPECT_FALSE(UnsubscribeLinks::Create(bad, Keys({{1, kSecretA}}), {}).ok()) << bad;
  }
}

}  // namespace
}  // namespace forewarn
