#include "notifier/channels/file_outbox_channel.h"

#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "services/core/clock.h"

namespace forewarn {
namespace {

namespace fs = std::filesystem;

fs::path FreshDir(const std::string& name) {
  const fs::path dir = fs::path(::testing::TempDir()) / ("forewarn_outbox_" + name);
  fs::remove_all(dir);
  return dir;
}

std::vector<std::string> ReadLines(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

Recipient Phone() {
  Recipient r;
  r.customer_id = 7;
  r.channel = Channel::kSms;
  r.address = "+966500000007";
  r.locale = "ar";
  r.time_zone = "Asia/Riyadh";
  return r;
}

RenderedNotice SmsNotice(std::string text, std::string message_id) {
  RenderedNotice n;
  n.text = std::move(text);
  n.message_id = std::move(message_id);
  return n;
}

const absl::Time kNow = absl::FromUnixSeconds(1768059000);  // 2026-01-10T15:30:00Z

TEST(FileOutboxChannel, ValidateCreatesTheDirectory) {
  const fs::path dir = FreshDir("validate") / "nested" / "outbox";
  ASSERT_TRUE(FileOutboxChannel::Validate(dir.string()).ok());
  EXPECT_TRUE(fs::is_directory(dir));
  EXPECT_TRUE(FileOutboxChannel::Validate(dir.string()).ok());  // idempotent
}

TEST(FileOutboxChannel, ValidateFailsWhenThePathIsAFile) {
  const fs::path dir = FreshDir("validate_file");
  fs::create_directories(dir);
  std::ofstream(dir / "plain").put('x');
  EXPECT_EQ(FileOutboxChannel::Validate((dir / "plain").string()).code(), absl::StatusCode::kFailedPrecondition);
}

TEST(FileOutboxChannel, WritesNothingUntilFlushed) {
  const fs::path dir = FreshDir("unflushed");
  ASSERT_TRUE(FileOutboxChannel::Validate(dir.string()).ok());
  FakeClock clock(absl::FromUnixSeconds(1'790'000'000));
  FileOutboxChannel channel(dir.string(), Channel::kSms, clock);
  ASSERT_TRUE(channel.Send(Phone(), SmsNotice("one", "<1@f>")).ok());
  ASSERT_TRUE(channel.Send(Phone(), SmsNotice("two", "<2@f>")).ok());
  EXPECT_TRUE(ReadLines(dir / "sms.jsonl").empty());
  ASSERT_TRUE(channel.Flush().ok());
  EXPECT_EQ(ReadLines(dir / "sms.jsonl").size(), 2u);
  ASSERT_TRUE(channel.Flush().ok());  // nothing pending: nothing written
  EXPECT_EQ(ReadLines(dir / "sms.jsonl").size(), 2u);
}

TEST(FileOutboxChannel, AppendsOneJsonLinePerSmsWithoutEmptyFields) {
  const fs::path dir = FreshDir("sms");
  ASSERT_TRUE(FileOutboxChannel::Validate(dir.string()).ok());
  FakeClock clock(kNow);
  FileOutboxChannel channel(dir.string(), Channel::kSms, clock);
  EXPECT_EQ(channel.path(), (dir / "sms.jsonl").string());

  RenderedNotice notice{.subject = "", .text = "Outage: ELEC", .html = "", .message_id = "<m1@forewarn>"};
  auto id = channel.Send(Phone(), notice);
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(*id, "<m1@forewarn>");
  ASSERT_TRUE(channel.Flush().ok());
  clock.Advance(absl::Seconds(1));
  notice.message_id = "<m2@forewarn>";
  ASSERT_TRUE(channel.Send(Phone(), notice).ok());
  ASSERT_TRUE(channel.Flush().ok());

  const auto lines = ReadLines(dir / "sms.jsonl");
  ASSERT_EQ(lines.size(), 2u);
  const auto first = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(first["message_id"], "<m1@forewarn>");
  EXPECT_EQ(first["to"], "+966500000007");
  EXPECT_EQ(first["channel"], "sms");
  EXPECT_EQ(first["text"], "Outage: ELEC");
  EXPECT_EQ(first["sent_at"], "2026-01-10T15:30:00Z");
  EXPECT_FALSE(first.contains("subject"));
  EXPECT_FALSE(first.contains("html"));
  EXPECT_EQ(nlohmann::json::parse(lines[1])["sent_at"], "2026-01-10T15:30:01Z");
}

TEST(FileOutboxChannel, RecordsTheUnsubscribeLinkOfAnEmail) {
  const fs::path dir = FreshDir("email-unsub");
  ASSERT_TRUE(FileOutboxChannel::Validate(dir.string()).ok());
  FakeClock clock(kNow);
  FileOutboxChannel channel(dir.string(), Channel::kEmail, clock);
  Recipient to = Phone();
  to.channel = Channel::kEmail;
  to.address = "a@example.com";
  RenderedNotice notice{.subject = "s", .text = "t", .html = "", .message_id = "<u1@forewarn>",
                        .unsubscribe_url = "https://forewarn.example/u/TOKEN"};
  ASSERT_TRUE(channel.Send(to, notice).ok());
  notice.message_id = "<u2@forewarn>";
  notice.unsubscribe_url.clear();
  ASSERT_TRUE(channel.Send(to, notice).ok());
  ASSERT_TRUE(channel.Flush().ok());
  const auto lines = ReadLines(dir / "email.jsonl");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(nlohmann::json::parse(lines[0])["unsubscribe_url"], "https://forewarn.example/u/TOKEN");
  EXPECT_FALSE(nlohmann::json::parse(lines[1]).contains("unsubscribe_url"));
}

TEST(FileOutboxChannel, WritesEmailsWithSubjectAndHtmlToEmailJsonl) {
  const fs::path dir = FreshDir("email");
  ASSERT_TRUE(FileOutboxChannel::Validate(dir.string()).ok());
  FakeClock clock(kNow);
  FileOutboxChannel channel(dir.string(), Channel::kEmail, clock, FileOutboxOptions{.fsync = true});
  Recipient to = Phone();
  to.channel = Channel::kEmail;
  to.address = "a@example.com";
  const RenderedNotice notice{
      .subject = "Service outage", .text = "Dear customer,\nline two", .html = "<p>x</p>", .message_id = "<e@f>"};
  ASSERT_TRUE(channel.Send(to, notice).ok());
  ASSERT_TRUE(channel.Flush().ok());
  const auto lines = ReadLines(dir / "email.jsonl");
  ASSERT_EQ(lines.size(), 1u);  // the newline in the body is escaped inside the JSON string
  const auto j = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(j["channel"], "email");
  EXPECT_EQ(j["subject"], "Service outage");
  EXPECT_EQ(j["text"], "Dear customer,\nline two");
  EXPECT_EQ(j["html"], "<p>x</p>");
  EXPECT_FALSE(fs::exists(dir / "sms.jsonl"));
}

TEST(FileOutboxChannel, CompactRecordsKeepTheIdAndAHashOfWhatWasSent) {
  const fs::path dir = FreshDir("compact");
  ASSERT_TRUE(FileOutboxChannel::Validate(dir.string()).ok());
  FakeClock clock(kNow);
  FileOutboxChannel channel(dir.string(), Channel::kSms, clock, FileOutboxOptions{.compact = true});
  ASSERT_TRUE(channel.Send(Phone(), SmsNotice("انقطاع الكهرباء", "<1@f>")).ok());
  ASSERT_TRUE(channel.Send(Phone(), SmsNotice("انقطاع الكهرباء!", "<2@f>")).ok());
  ASSERT_TRUE(channel.Flush().ok());
  const auto lines = ReadLines(dir / "sms.jsonl");
  ASSERT_EQ(lines.size(), 2u);
  const auto first = nlohmann::json::parse(lines[0]), second = nlohmann::json::parse(lines[1]);
  EXPECT_EQ(first["message_id"], "<1@f>");
  EXPECT_EQ(first["channel"], "sms");
  EXPECT_FALSE(first.contains("text"));
  EXPECT_FALSE(first.contains("to"));
  EXPECT_EQ(first["hash"].get<std::string>().size(), 16u);
  EXPECT_NE(first["hash"], second["hash"]);  // one character more
  EXPECT_EQ(first["sent_at"], second["sent_at"]);
  // Still answers which messages reached the "provider".
  auto delivered = channel.Delivered({"<1@f>", "<3@f>"});
  ASSERT_TRUE(delivered.ok());
  EXPECT_EQ(*delivered, std::set<std::string>{"<1@f>"});
}

TEST(NoticeHash, FieldsCannotTradeBytes) {
  Recipient to = Phone();
  RenderedNotice a, b;
  a.subject = "ab";
  a.text = "c";
  b.subject = "a";
  b.text = "bc";
  EXPECT_NE(NoticeHash(to, a), NoticeHash(to, b));
  EXPECT_EQ(NoticeHash(to, a), NoticeHash(to, a));
}

TEST(FileOutboxChannel, StoresArabicAsReadableUtf8) {
  const fs::path dir = FreshDir("arabic");
  ASSERT_TRUE(FileOutboxChannel::Validate(dir.string()).ok());
  FakeClock clock(kNow);
  FileOutboxChannel channel(dir.string(), Channel::kSms, clock);
  const std::string text = "انقطاع في خدمة ELEC. السبب: عطل في محطة التحويل.";
  ASSERT_TRUE(channel.Send(Phone(), SmsNotice(text, "<a@f>")).ok());
  ASSERT_TRUE(channel.Flush().ok());
  const std::string raw = ReadAll(dir / "sms.jsonl");
  EXPECT_TRUE(absl::StrContains(raw, text)) << raw;
  EXPECT_FALSE(absl::StrContains(raw, "\\u0")) << raw;
  EXPECT_EQ(nlohmann::json::parse(ReadLines(dir / "sms.jsonl")[0])["text"], text);
}

TEST(FileOutboxChannel, ReplacesInvalidUtf8InsteadOfFailing) {
  const fs::path dir = FreshDir("invalid_utf8");
  ASSERT_TRUE(FileOutboxChannel::Validate(dir.string()).ok());
  FakeClock clock(kNow);
  FileOutboxChannel channel(dir.string(), Channel::kSms, clock);
  ASSERT_TRUE(channel.Send(Phone(), SmsNotice("bad \xff byte", "<b@f>")).ok());
  ASSERT_TRUE(channel.Flush().ok());
  EXPECT_EQ(nlohmann::json::parse(ReadLines(dir / "sms.jsonl")[0])["text"], "bad \xEF\xBF\xBD byte");
}

TEST(FileOutboxChannel, JsonStringsRoundTripThroughAJsonParser) {
  const std::string samples[] = {
      "", "plain", "quote \" backslash \\ slash /", "tab\tnew\nline\rcr\b\f", std::string("nul\0x", 5),
      "\x01\x1f\x7f", "عطل في المحطة", "emoji \xF0\x9F\x94\x8C", "\xE2\x80\x8F rtl mark"};
  for (const std::string& in : samples) {
    std::string out;
    AppendJsonString(out, in);
    EXPECT_EQ(nlohmann::json::parse(out).get<std::string>(), in) << out;
  }
  // Long plain runs (skipped eight bytes at a time) with one character that
  // needs care at every position.
  for (const std::string& special : std::vector<std::string>{"\"", "\\", "\n", std::string("\0", 1), "\x1f", "\x7f", "\xC3\xA9", "\xff"}) {
    for (size_t at = 0; at <= 24; ++at) {
      std::string in(24, 'x');
      in.insert(at, special);
      std::string out;
      AppendJsonString(out, in);
      const std::string expected = special == "\xff" ? std::string(in).replace(at, 1, "\xEF\xBF\xBD") : in;
      EXPECT_EQ(nlohmann::json::parse(out).get<std::string>(), expected) << out;
    }
  }
  // Invalid UTF-8 (a lone continuation byte, an overlong form, a surrogate,
  // a truncated sequence) becomes U+FFFD per byte, and the result is valid.
  std::string out;
  AppendJsonString(out, "a\x80" "b\xC0\xAF" "c\xED\xA0\x80" "d\xE2\x82");
  EXPECT_EQ(nlohmann::json::parse(out).get<std::string>(),
            "a\uFFFDb\uFFFD\uFFFDc\uFFFD\uFFFD\uFFFDd\uFFFD\uFFFD");
}

TEST(FileOutboxChannel, ConcurrentWritersNeverInterleaveLines) {
  const fs::path dir = FreshDir("concurrent");
  ASSERT_TRUE(FileOutboxChannel::Validate(dir.string()).ok());
  FakeClock clock(kNow);
  // Separate instances have separate file descriptions, as separate processes
  // would: only flock keeps their lines apart. A third writer shares one.
  FileOutboxChannel a(dir.string(), Channel::kSms, clock);
  FileOutboxChannel b(dir.string(), Channel::kSms, clock);
  const std::string big(16 * 1024, 'x');  // larger than a pipe buffer / page
  constexpr int kPerThread = 500;
  auto writer = [&](FileOutboxChannel* channel, std::string tag) {
    for (int i = 0; i < kPerThread; ++i) {
      const RenderedNotice n = SmsNotice(absl::StrCat(tag, i, " ", big, " انقطاع"), absl::StrCat("<", tag, i, ">"));
      ASSERT_TRUE(channel->Send(Phone(), n).ok());
      ASSERT_TRUE(channel->Flush().ok());
    }
  };
  std::thread t1(writer, &a, "a");
  std::thread t2(writer, &b, "b");
  std::thread t3(writer, &b, "c");
  t1.join();
  t2.join();
  t3.join();

  const auto lines = ReadLines(dir / "sms.jsonl");
  ASSERT_EQ(lines.size(), 3u * kPerThread);
  std::set<std::string> ids;
  for (const auto& line : lines) {
    auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    ASSERT_FALSE(j.is_discarded()) << line.substr(0, 80);
    ids.insert(j["message_id"].get<std::string>());
  }
  EXPECT_EQ(ids.size(), 3u * kPerThread);
}

// A writer killed in the middle of a write leaves half a line, never
// acknowledged (so never recorded, and sent again). The next writer cuts it
// before appending: every line stays whole JSON, and the half-written
// notice does not count as delivered.
TEST(FileOutboxChannel, ATornLineLeftByAKilledWriterIsCutBeforeTheNextAppend) {
  const fs::path dir = FreshDir("torn");
  ASSERT_TRUE(FileOutboxChannel::Validate(dir.string()).ok());
  FakeClock clock(kNow);
  {
    FileOutboxChannel killed(dir.string(), Channel::kSms, clock);
    ASSERT_TRUE(killed.Send(Phone(), SmsNotice("whole", "<whole>")).ok());
    ASSERT_TRUE(killed.Flush().ok());
  }
  const std::string torn = R"({"message_id":"<torn>","to":"+9665)" + std::string(5000, 'x');
  std::ofstream(dir / "sms.jsonl", std::ios::app) << torn;

  FileOutboxChannel next(dir.string(), Channel::kSms, clock);
  auto delivered = next.Delivered({"<whole>", "<torn>"});
  ASSERT_TRUE(delivered.ok()) << delivered.status();
  EXPECT_EQ(*delivered, (std::set<std::string>{"<whole>"}));
  ASSERT_TRUE(next.Send(Phone(), SmsNotice("again", "<torn>")).ok());
  ASSERT_TRUE(next.Flush().ok());

  const auto lines = ReadLines(dir / "sms.jsonl");
  ASSERT_EQ(lines.size(), 2u);
  for (const auto& line : lines) {
    EXPECT_FALSE(nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false).is_discarded()) << line;
  }
  EXPECT_EQ(nlohmann::json::parse(lines[1])["message_id"], "<torn>");
}

}  // namespace
}  // namespace forewarn
