// The SMPP session and channel against the real SMSC simulator
// (tests/support/smsc_sim.py), started per test: reassembled texts, receipts
// per outcome, throttling, reconnects, a refused bind, keep-alive.

#include <atomic>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "notifier/smpp/smpp_channel.h"
#include "notifier/smpp/smpp_session.h"
#include "services/core/ports.h"
#include "tests/support/process.h"

namespace forewarn::smpp {
namespace {

using forewarn::testing::ChildProcess;
using forewarn::testing::MakeTempDir;
using forewarn::testing::WaitForFile;
using nlohmann::json;
using std::chrono::milliseconds;

std::vector<json> ReadJsonLines(const std::string& path) {
  std::vector<json> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(json::parse(line));
  }
  return out;
}

std::vector<json> Events(const std::string& log, const std::string& event) {
  std::vector<json> out;
  for (auto& j : ReadJsonLines(log)) {
    if (j.value("event", "") == event) out.push_back(j);
  }
  return out;
}

// One simulator process; its log and port in a scratch directory.
class Smsc {
 public:
  Smsc(const std::string& dir, const std::string& name, std::vector<std::string> flags)
      : port_file_(absl::StrCat(dir, "/", name, ".port")), log_(absl::StrCat(dir, "/", name, ".jsonl")) {
    std::vector<std::string> argv = {FOREWARN_PYTHON, FOREWARN_SMSC_SIM, "--port-file", port_file_, "--log", log_,
                                     "--dc0", "gsm"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    process_ = std::make_unique<ChildProcess>(argv, absl::StrCat(dir, "/", name, ".out"));
  }
  void Start() {
    ASSERT_TRUE(process_->Start().ok());
    std::string port;
    ASSERT_TRUE(WaitForFile(port_file_, absl::Seconds(15), &port).ok()) << "simulator did not start";
    port_ = std::stoi(port);
  }
  int port() const { return port_; }
  const std::string& log() const { return log_; }
  ChildProcess& process() { return *process_; }

 private:
  std::string port_file_;
  std::string log_;
  int port_ = 0;
  std::unique_ptr<ChildProcess> process_;
};

// Receipts handed to the callback.
class ReceiptSink {
 public:
  Session::ReceiptFn Fn() {
    return [this](std::vector<Receipt> batch) {
      std::lock_guard lock(mu_);
      for (Receipt& r : batch) receipts_.push_back(std::move(r));
    };
  }
  std::vector<Receipt> WaitFor(size_t n, absl::Duration max) {
    const absl::Time until = absl::Now() + max;
    for (;;) {
      {
        std::lock_guard lock(mu_);
        if (receipts_.size() >= n || absl::Now() > until) return receipts_;
      }
      absl::SleepFor(absl::Milliseconds(20));
    }
  }

 private:
  std::mutex mu_;
  std::vector<Receipt> receipts_;
};

SessionConfig ConfigFor(int port) {
  SessionConfig c;
  c.port = port;
  c.bind = {"forewarn", "secret", "forewarn"};
  c.window = 10;
  c.timeout = milliseconds(10000);
  c.reconnect_min = milliseconds(100);
  c.reconnect_max = milliseconds(1000);
  return c;
}

Recipient To(const std::string& e164) {
  Recipient r;
  r.address = e164;
  return r;
}

RenderedNotice Text(const std::string& text, int i = 0) { return RenderedNotice{"", text, "", absl::StrCat("<m", i, ">")}; }

std::string Number(int i) { return absl::StrCat("+9665", 10000000 + i); }

class SmppSessionTest : public ::testing::Test {
 protected:
  std::string dir_ = MakeTempDir("smpp-session");
};

TEST_F(SmppSessionTest, EnglishAndArabicArriveReassembledAndStopUnbinds) {
  Smsc smsc(dir_, "smsc", {"--delivered", "1", "--undelivered", "0", "--silent", "0"});
  ASSERT_NO_FATAL_FAILURE(smsc.Start());
  Session session(ConfigFor(smsc.port()));
  session.Start();
  ASSERT_TRUE(session.WaitBound(milliseconds(10000)).ok());
  SmppChannel channel(session, "Forewarn");
  const std::string english = "Power outage in Olaya (Riyadh): crews are on site; expected back by 18:30 {ref €5}.";
  std::string long_english;
  for (int i = 0; i < 4; ++i) long_english += english + " ";
  std::string arabic;
  for (int i = 0; i < 3; ++i) arabic += "انقطاع الكهرباء في حي العليا، نعمل على إعادتها قبل الساعة ٦:٣٠ مساءً. ";
  const std::vector<std::pair<std::string, int>> texts = {{english, 1}, {long_english, 3}, {arabic, 4}};
  std::map<std::string, std::string> ids;
  for (size_t i = 0; i < texts.size(); ++i) {
    auto id = channel.Send(To(Number(static_cast<int>(i))), Text(texts[i].first, static_cast<int>(i)));
    ASSERT_TRUE(id.ok()) << id.status();
    ids[texts[i].first] = *id;
  }
  session.Stop();
  const auto submits = Events(smsc.log(), "submit");
  ASSERT_EQ(submits.size(), texts.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    EXPECT_EQ(submits[i]["text"], texts[i].first);
    EXPECT_EQ(submits[i]["parts"], texts[i].second);
    EXPECT_EQ(submits[i]["to"], Number(static_cast<int>(i)).substr(1));
    EXPECT_EQ(submits[i]["from"], "Forewarn");
    EXPECT_EQ(submits[i]["data_coding"], i == 2 ? 8 : 0);
    EXPECT_EQ(submits[i]["registered_delivery"], 1);
    EXPECT_EQ(submits[i]["message_ids"][0], ids[texts[i].first]);  // the provider id is the first part's
  }
  EXPECT_EQ(Events(smsc.log(), "unbind").size(), 1u);
}

TEST_F(SmppSessionTest, ReceiptsPerOutcomeReachTheCallbackOncePerNotice) {
  Smsc smsc(dir_, "smsc", {"--delivered", "0.25", "--undelivered", "0.25", "--expired", "0.25", "--silent", "0.25",
                           "--receipt-delay-ms", "50"});
  ASSERT_NO_FATAL_FAILURE(smsc.Start());
  ReceiptSink sink;
  Session session(ConfigFor(smsc.port()));
  session.set_receipt_callback(sink.Fn());
  session.Start();
  SmppChannel channel(session, "");
  std::string arabic;
  for (int i = 0; i < 2; ++i) arabic += "انقطاع الكهرباء في حي العليا، نعمل على إعادتها قبل الساعة ٦:٣٠ مساءً. ";
  constexpr int kNotices = 40;
  std::map<std::string, std::string> provider_of;  // destination -> provider id
  for (int i = 0; i < kNotices; ++i) {
    auto id = channel.Send(To(Number(i)), Text(i % 2 == 0 ? arabic : absl::StrCat("Notice ", i), i));
    ASSERT_TRUE(id.ok()) << id.status();
    provider_of[Number(i).substr(1)] = *id;
  }
  std::map<std::string, std::string> expected;  // provider id -> outcome
  int silent = 0;
  for (const auto& s : Events(smsc.log(), "submit")) {
    const std::string outcome = s["outcome"];
    ASSERT_EQ(s["message_ids"][0], provider_of[s["to"]]);
    if (outcome == "silent") {
      ++silent;
    } else {
      expected[provider_of[s["to"]]] = outcome;
    }
  }
  ASSERT_EQ(expected.size() + static_cast<size_t>(silent), static_cast<size_t>(kNotices));
  ASSERT_GT(silent, 0);
  sink.WaitFor(expected.size(), absl::Seconds(20));
  absl::SleepFor(absl::Milliseconds(500));  // nothing more may come (silent ones, later parts)
  const auto receipts = sink.WaitFor(0, absl::ZeroDuration());
  ASSERT_EQ(receipts.size(), expected.size());
  std::set<std::string> seen;
  for (const Receipt& r : receipts) {
    ASSERT_TRUE(expected.contains(r.provider_id)) << r.provider_id;
    EXPECT_TRUE(seen.insert(r.provider_id).second) << "twice: " << r.provider_id;
    EXPECT_EQ(ToString(r.status), expected[r.provider_id]);
    EXPECT_EQ(r.source, "smpp");
    EXPECT_NE(r.reported_at, absl::InfinitePast());
    EXPECT_FALSE(r.detail.empty());
  }
  session.Stop();
  EXPECT_GT(session.stats().receipts, static_cast<int64_t>(expected.size()));  // the parts' own
}

TEST_F(SmppSessionTest, ThrottlingStillDeliversEveryMessageExactlyOnce) {
  Smsc smsc(dir_, "smsc", {"--throttle-share", "0.3", "--max-tps", "40", "--silent", "0"});
  ASSERT_NO_FATAL_FAILURE(smsc.Start());
  SessionConfig config = ConfigFor(smsc.port());
  config.timeout = milliseconds(30000);
  Session session(config);
  session.Start();
  SmppChannel channel(session, "Forewarn");
  constexpr int kThreads = 4, kPerThread = 20;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const int n = t * kPerThread + i;
        std::string text = absl::StrCat("Notice ", n, ": water supply interrupted in Jeddah.");
        if (n % 5 == 0) {
          for (int k = 0; k < 4; ++k) text += " Tankers are available at the district office until repairs end.";
        }
        if (!channel.Send(To(Number(n)), Text(text, n)).ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  session.Stop();
  EXPECT_EQ(failures.load(), 0);
  std::map<std::string, int> texts;
  for (const auto& s : Events(smsc.log(), "submit")) ++texts[s["text"]];
  EXPECT_EQ(texts.size(), static_cast<size_t>(kThreads * kPerThread));
  for (const auto& [text, count] : texts) EXPECT_EQ(count, 1) << text;
  const auto throttled = Events(smsc.log(), "throttled");
  EXPECT_GT(throttled.size(), 10u);
  EXPECT_EQ(session.stats().throttled, static_cast<int64_t>(throttled.size()));
}

TEST_F(SmppSessionTest, ReconnectsWhenTheSmscIsKilledAndComesBack) {
  Smsc first(dir_, "first", {});
  ASSERT_NO_FATAL_FAILURE(first.Start());
  const std::string target = dir_ + "/target.port";
  std::ofstream(target) << first.port() << "\n";
  ChildProcess relay({FOREWARN_PYTHON, FOREWARN_TCP_RELAY, "--port-file", dir_ + "/relay.port", "--target-file", target},
                     dir_ + "/relay.out");
  ASSERT_TRUE(relay.Start().ok());
  std::string relay_port;
  ASSERT_TRUE(WaitForFile(dir_ + "/relay.port", absl::Seconds(15), &relay_port).ok());
  SessionConfig config = ConfigFor(std::stoi(relay_port));
  config.timeout = milliseconds(2000);
  Session session(config);
  session.Start();
  SmppChannel channel(session, "");
  ASSERT_TRUE(channel.Send(To(Number(1)), Text("before the restart")).ok());

  first.process().Kill();
  Smsc second(dir_, "second", {});
  ASSERT_NO_FATAL_FAILURE(second.Start());
  auto failed = channel.Send(To(Number(2)), Text("while it is down or reconnecting"));
  if (!failed.ok()) {
    EXPECT_TRUE(IsRetryable(failed.status())) << failed.status();
  }
  std::ofstream(target) << second.port() << "\n";
  absl::StatusOr<std::string> sent = absl::UnavailableError("not tried");
  for (int i = 0; i < 20 && !sent.ok(); ++i) {
    sent = channel.Send(To(Number(3)), Text("after the restart"));
    if (!sent.ok()) {
      EXPECT_TRUE(IsRetryable(sent.status())) << sent.status();
    }
  }
  ASSERT_TRUE(sent.ok()) << sent.status();
  session.Stop();
  EXPECT_GE(session.stats().binds, 2);
  const auto submits = Events(second.log(), "submit");
  ASSERT_FALSE(submits.empty());
  EXPECT_EQ(submits.back()["text"], "after the restart");
  relay.Stop();
}

TEST_F(SmppSessionTest, WrongPasswordIsAProviderFault) {
  Smsc smsc(dir_, "smsc", {"--password", "right"});
  ASSERT_NO_FATAL_FAILURE(smsc.Start());
  SessionConfig config = ConfigFor(smsc.port());
  config.bind.password = "wrong";
  config.timeout = milliseconds(1500);
  Session session(config);
  session.Start();
  const absl::Status bound = session.WaitBound(milliseconds(10000));
  EXPECT_EQ(ProviderFaultReason(bound), "auth") << bound;
  EXPECT_NE(bound.message().find("ESME_RINVPASWD"), std::string::npos) << bound;
  SmppChannel channel(session, "");
  auto sent = channel.Send(To(Number(1)), Text("never sent"));
  EXPECT_EQ(ProviderFaultReason(sent.status()), "auth") << sent.status();
  session.Stop();
  EXPECT_TRUE(Events(smsc.log(), "submit").empty());
  EXPECT_GE(session.stats().bind_failures, 1);
}

TEST_F(SmppSessionTest, EnquireLinkKeepsAnIdleSessionAtTheInterval) {
  Smsc smsc(dir_, "smsc", {});
  ASSERT_NO_FATAL_FAILURE(smsc.Start());
  SessionConfig config = ConfigFor(smsc.port());
  config.enquire_link = milliseconds(300);
  Session session(config);
  session.Start();
  ASSERT_TRUE(session.WaitBound(milliseconds(10000)).ok());
  absl::SleepFor(absl::Milliseconds(2000));
  const auto stats = session.stats();
  EXPECT_GE(stats.enquire_links_sent, 5);
  EXPECT_LE(stats.enquire_links_sent, 8);
  EXPECT_EQ(stats.binds, 1);  // every enquire_link answered: never reconnected
  SmppChannel channel(session, "");
  EXPECT_TRUE(channel.Send(To(Number(1)), Text("still bound")).ok());
  session.Stop();
  EXPECT_EQ(Events(smsc.log(), "bind").size(), 1u);
}

TEST_F(SmppSessionTest, InvalidNumberIsRefusedWithoutASubmit) {
  Smsc smsc(dir_, "smsc", {});
  ASSERT_NO_FATAL_FAILURE(smsc.Start());
  Session session(ConfigFor(smsc.port()));
  session.Start();
  SmppChannel channel(session, "");
  auto sent = channel.Send(To("0501234567"), Text("x"));
  EXPECT_EQ(sent.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(sent.status().message().find("0501234567"), std::string::npos);  // masked
  session.Stop();
}

}  // namespace
}  // namespace forewarn::smpp
