// KannelSmsChannel against the real Kannel (bearerbox + smsbox, started by
// scripts/kannel.sh) connected over SMPP to the SMSC simulator
// (tests/support/smsc_sim.py), with Kannel's dlr-url callbacks caught by
// dlr_listener.py. Skipped when Kannel is not installed. The notifier's
// --sms-provider kannel flags are checked on the real binary.
#include "notifier/channels/kannel_sms_channel.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "services/core/ports.h"
#include "services/core/receipts.h"
#include "tests/channels/test_util.h"
#include "tests/support/process.h"

#ifndef FOREWARN_REPO_DIR
#error "FOREWARN_REPO_DIR must point at the repository"
#endif

namespace forewarn {
namespace {

using channel_testing::PythonPeer;
using channel_testing::ReadFile;
using channel_testing::ReadLines;
using nlohmann::json;

// The simulator delivers half the numbers and fails the other half, by
// sha256 of the number as Kannel submits it (without '+'): 0.758 and 0.263.
constexpr char kDelivered[] = "+966501234569";    // x = 0.263 < 0.5: DELIVRD
constexpr char kUndelivered[] = "+966501234567";  // x = 0.758: UNDELIV
constexpr char kEnglish[] = "Planned outage in Al Nakheel on 12 Dec 10:00-12:00 {grid work}. Ask @forewarn";
constexpr char kArabic[] =
    "انقطاع مخطط للكهرباء في حي النخيل يوم 12 ديسمبر من الساعة 10:00 حتى 12:00. التفاصيل على موقعنا، نعتذر عن "
    "الإزعاج";

bool KannelInstalled() { return ::access("/usr/sbin/bearerbox", X_OK) == 0 && ::access("/usr/sbin/smsbox", X_OK) == 0; }

ReceiptSigner Signer() { return *ReceiptSigner::FromSecret(std::string(32, 'k') + "-kannel-test"); }

std::string Id(int64_t customer) {
  NoticeKey key;
  key.incident_id = "inc-77";
  key.version = 1;
  key.customer_id = customer;
  return MessageIdFor(key);
}

Recipient Phone(std::string e164) {
  Recipient r;
  r.customer_id = 5;
  r.channel = Channel::kSms;
  r.address = std::move(e164);
  return r;
}

RenderedNotice Sms(std::string text, std::string id) {
  RenderedNotice n;
  n.text = std::move(text);
  n.message_id = std::move(id);
  return n;
}

int Shell(const std::string& cmd) {
  const int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// The simulator, the dlr-url listener and Kannel in one temp dir; Kannel
// stopped (by pid, scripts/kannel.sh stop) on destruction.
class KannelStack {
 public:
  KannelStack() : dir_(testing::MakeTempDir("kannel-channel")) {}
  ~KannelStack() { StopKannel(); }

  absl::Status Start() {
    sim_ = std::make_unique<testing::ChildProcess>(
        std::vector<std::string>{FOREWARN_PYTHON, absl::StrCat(FOREWARN_REPO_DIR, "/tests/support/smsc_sim.py"),
                                 "--port-file", dir_ + "/sim.port", "--log", dir_ + "/sim.jsonl", "--dc0", "gsm",
                                 "--delivered", "0.5", "--undelivered", "0.5", "--expired", "0", "--silent", "0",
                                 "--receipt-delay-ms", "100"},
        dir_ + "/sim.out");
    if (auto s = sim_->Start(); !s.ok()) return s;
    std::string port;
    if (auto s = testing::WaitForFile(dir_ + "/sim.port", absl::Seconds(30), &port); !s.ok()) return s;
    Shell(absl::StrCat("mkdir -p ", dir_, "/dlr"));
    listener_ = std::make_unique<PythonPeer>("dlr_listener.py", std::vector<std::string>{"--log", dir_ + "/dlr.jsonl"},
                                             dir_ + "/dlr");
    if (auto s = listener_->Start(); !s.ok()) return s;
    const std::string cmd = absl::StrCat("bash ", FOREWARN_REPO_DIR, "/scripts/kannel.sh start ", dir_, " --smsc 127.0.0.1:",
                                         port, " --system-id forewarn --password secret > ", dir_, "/kannel.out 2>&1");
    if (Shell(cmd) != 0) return absl::UnavailableError("kannel.sh start failed: " + ReadFile(dir_ + "/kannel.out"));
    started_ = true;
    for (const auto& line : ReadLines(dir_ + "/kannel.env")) {
      const std::vector<std::string> kv = absl::StrSplit(line, absl::MaxSplits('=', 1));
      if (kv.size() == 2) env_[kv[0]] = kv[1];
    }
    return absl::OkStatus();
  }

  void StopKannel() {
    if (started_) Shell(absl::StrCat("bash ", FOREWARN_REPO_DIR, "/scripts/kannel.sh stop ", dir_, " > /dev/null 2>&1"));
    started_ = false;
  }

  KannelSmsConfig Config() {
    KannelSmsConfig c;
    c.sendsms_url = env_["SENDSMS_URL"];
    c.username = env_["SENDSMS_USER"];
    c.password = env_["SENDSMS_PASSWORD"];
    c.receipt_url = absl::StrCat("http://127.0.0.1:", listener_->port(), "/");
    c.timeout = std::chrono::milliseconds(3000);
    return c;
  }

  std::vector<json> Events(const std::string& file, const std::string& event = "") const {
    std::vector<json> out;
    for (const auto& line : ReadLines(dir_ + "/" + file)) {
      json j = json::parse(line);
      if (event.empty() || j.value("event", "") == event) out.push_back(std::move(j));
    }
    return out;
  }
  std::vector<json> Submits() const { return Events("sim.jsonl", "submit"); }
  std::vector<json> Dlrs() const { return Events("dlr.jsonl"); }

  // Waits until the simulator logged `submits` messages and the listener `dlrs` callbacks.
  void WaitFor(size_t submits, size_t dlrs) const {
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while ((Submits().size() < submits || Dlrs().size() < dlrs) && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(100));
    }
  }

 private:
  std::string dir_;
  bool started_ = false;
  std::unique_ptr<testing::ChildProcess> sim_;
  std::unique_ptr<PythonPeer> listener_;
  std::map<std::string, std::string> env_;
};

#define START_KANNEL(stack)                                                   \
  if (!KannelInstalled()) GTEST_SKIP() << "Kannel (bearerbox) not installed"; \
  KannelStack stack;                                                          \
  ASSERT_TRUE(stack.Start().ok())

TEST(KannelSmsChannel, EnglishAndArabicArriveAsRenderedAndTheDlrUrlIsSigned) {
  START_KANNEL(kannel);
  const ReceiptSigner signer = Signer();
  KannelSmsChannel channel(kannel.Config(), signer);
  ASSERT_TRUE(channel.Probe().ok());
  auto en = channel.Send(Phone(kDelivered), Sms(kEnglish, Id(1)));
  ASSERT_TRUE(en.ok()) << en.status();
  EXPECT_EQ(*en, Id(1)) << "Kannel gives no id: the notice's own";
  auto ar = channel.Send(Phone(kUndelivered), Sms(kArabic, Id(2)));
  ASSERT_TRUE(ar.ok()) << ar.status();

  kannel.WaitFor(2, 2);
  absl::SleepFor(absl::Milliseconds(500));  // a duplicate would show now
  const std::vector<json> submits = kannel.Submits();
  ASSERT_EQ(submits.size(), 2u);
  std::map<std::string, json> by_text;
  for (const json& s : submits) by_text[s["text"].get<std::string>()] = s;
  ASSERT_TRUE(by_text.count(kEnglish)) << submits[0].dump();
  ASSERT_TRUE(by_text.count(kArabic)) << submits[1].dump();
  EXPECT_EQ(by_text[kEnglish]["data_coding"], 0) << "GSM 7-bit";
  EXPECT_EQ(by_text[kEnglish]["to"], std::string(kDelivered).substr(1));
  EXPECT_EQ(by_text[kEnglish]["from"], "Forewarn");
  EXPECT_EQ(by_text[kArabic]["data_coding"], 8) << "UCS-2";
  EXPECT_EQ(by_text[kArabic]["parts"], 2) << "concatenated";

  const std::vector<json> dlrs = kannel.Dlrs();
  ASSERT_EQ(dlrs.size(), 2u) << "one delivery report per message";
  std::map<std::string, json> by_ref;
  for (const json& d : dlrs) {
    EXPECT_EQ(d["path"], "/receipts/kannel");
    const json& q = d["query"];
    by_ref[q["ref"].get<std::string>()] = q;
    EXPECT_TRUE(signer.Verify(q["ref"].get<std::string>(), q["sig"].get<std::string>())) << d.dump();
    EXPECT_FALSE(signer.Verify(Id(3), q["sig"].get<std::string>()));
    EXPECT_GT(std::stoll(q["at"].get<std::string>()), 1700000000) << "%T: a Unix time";
  }
  ASSERT_TRUE(by_ref.count(Id(1)) && by_ref.count(Id(2)));
  EXPECT_EQ(by_ref[Id(1)]["type"], "1") << "%d: delivered";
  auto delivered = ParseDlrText(by_ref[Id(1)]["reply"].get<std::string>());
  ASSERT_TRUE(delivered.has_value());
  EXPECT_EQ(delivered->stat, "DELIVRD");
  EXPECT_EQ(delivered->id, by_text[kEnglish]["message_ids"][0]);
  EXPECT_EQ(by_ref[Id(2)]["type"], "2") << "%d: failed";
  auto failed = ParseDlrText(by_ref[Id(2)]["reply"].get<std::string>());
  ASSERT_TRUE(failed.has_value());
  EXPECT_EQ(StatusOfStat(failed->stat), ReceiptStatus::kUndelivered);
}

TEST(KannelSmsChannel, WrongPasswordIsAProviderFaultAndTheProbeNamesTheFlags) {
  START_KANNEL(kannel);
  KannelSmsConfig config = kannel.Config();
  config.password = "not-the-password";
  KannelSmsChannel channel(config, Signer());
  auto sent = channel.Send(Phone(kDelivered), Sms(kEnglish, Id(1)));
  ASSERT_FALSE(sent.ok());
  EXPECT_EQ(ProviderFaultReason(sent.status()), "auth") << sent.status();
  EXPECT_FALSE(absl::StrContains(sent.status().message(), "not-the-password"));
  EXPECT_FALSE(absl::StrContains(sent.status().message(), "501234569")) << "the number is masked";
  const absl::Status probe = channel.Probe();
  EXPECT_EQ(probe.code(), absl::StatusCode::kFailedPrecondition) << probe;
  EXPECT_TRUE(absl::StrContains(probe.message(), "--kannel-password-file")) << probe;
  EXPECT_TRUE(kannel.Submits().empty());
}

TEST(KannelSmsChannel, OtherRefusalsArePermanentAndBadInputSendsNothing) {
  START_KANNEL(kannel);
  KannelSmsConfig config = kannel.Config();
  config.sendsms_url = absl::StrReplaceAll(config.sendsms_url, {{"/cgi-bin/sendsms", "/cgi-bin/nowhere"}});
  KannelSmsChannel wrong_path(config, Signer());
  auto sent = wrong_path.Send(Phone(kDelivered), Sms(kEnglish, Id(1)));
  EXPECT_EQ(sent.status().code(), absl::StatusCode::kInvalidArgument) << sent.status();

  KannelSmsChannel channel(kannel.Config(), Signer());
  EXPECT_EQ(channel.Send(Phone("0501234567"), Sms(kEnglish, Id(1))).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(channel.Send(Phone(kDelivered), Sms(kEnglish, "<id with é>")).status().code(),
            absl::StatusCode::kInvalidArgument);
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_TRUE(kannel.Submits().empty());
}

TEST(KannelSmsChannel, KannelStoppedIsUnavailable) {
  START_KANNEL(kannel);
  KannelSmsChannel channel(kannel.Config(), Signer());
  ASSERT_TRUE(channel.Send(Phone(kDelivered), Sms(kEnglish, Id(1))).ok());
  kannel.StopKannel();
  auto sent = channel.Send(Phone(kDelivered), Sms(kEnglish, Id(2)));
  EXPECT_EQ(sent.status().code(), absl::StatusCode::kUnavailable) << sent.status();
  EXPECT_TRUE(ProviderFaultReason(sent.status()).empty()) << "retryable, not a set-up fault";
  EXPECT_EQ(channel.Probe().code(), absl::StatusCode::kUnavailable);
}

TEST(KannelSmsChannel, DlrUrlCarriesTheEscapedIdItsSignatureAndKannelsEscapes) {
  const ReceiptSigner signer = Signer();
  const std::string id = Id(9);
  EXPECT_EQ(KannelSmsChannel::DlrUrl("https://forewarn.example:8443/", id, signer),
            absl::StrCat("https://forewarn.example:8443/receipts/kannel?ref=%3Cinc-77.v1.outage_started.c9.sms%40forewarn%3E",
                         "&sig=", signer.Sign(id), "&type=%d&at=%T&reply=%A"));
}

TEST(KannelSmsChannel, ValidatesItsConfiguration) {
  KannelSmsConfig c;
  c.sendsms_url = "http://127.0.0.1:13013/cgi-bin/sendsms";
  c.username = "u";
  c.password = "p";
  c.receipt_url = "https://forewarn.example";
  EXPECT_TRUE(KannelSmsChannel::Validate(c).ok());
  for (auto bad : std::vector<std::function<void(KannelSmsConfig&)>>{
           [](KannelSmsConfig& k) { k.sendsms_url = "ftp://x"; }, [](KannelSmsConfig& k) { k.receipt_url = "http://"; },
           [](KannelSmsConfig& k) { k.receipt_url = "http://x/?a=b"; }, [](KannelSmsConfig& k) { k.username = ""; },
           [](KannelSmsConfig& k) { k.password = ""; }, [](KannelSmsConfig& k) { k.dlr_mask = 0; }}) {
    KannelSmsConfig k = c;
    bad(k);
    EXPECT_EQ(KannelSmsChannel::Validate(k).code(), absl::StatusCode::kFailedPrecondition);
  }
}

// The notifier's flags: --sms-provider kannel needs every Kannel and receipt
// flag, checked before anything is started (exit 2, the flag named).
struct Exit {
  int code = -1;
  std::string log;
};

Exit RunNotifier(const std::vector<std::string>& args) {
  const std::string dir = testing::MakeTempDir("notifier-kannel-flags");
  std::vector<std::string> argv = {FOREWARN_NOTIFIER_BIN, "--pg", "postgresql://127.0.0.1:1/none", "--pg-pooling",
                                   "session", "--kafka", "127.0.0.1:1", "--templates", FOREWARN_TEMPLATES_DIR,
                                   "--outbox-dir", dir, "--provider-probe-wait-ms", "0",
                                   "--message-code-secret-file", dir + "/message-code.key"};
  std::ofstream(dir + "/message-code.key") << std::string(40, 'c') << "\n";
  argv.insert(argv.end(), args.begin(), args.end());
  testing::ChildProcess notifier(argv, dir + "/notifier.log");
  EXPECT_TRUE(notifier.Start().ok());
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (notifier.Running() && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(20));
  Exit out;
  const bool exited = !notifier.Running();
  const int status = notifier.Stop();
  if (exited) out.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  out.log = ReadFile(dir + "/notifier.log");
  return out;
}

std::string WriteTemp(const std::string& name, const std::string& content) {
  const std::string path = testing::MakeTempDir("notifier-kannel-files") + "/" + name;
  std::ofstream(path) << content;
  return path;
}

std::vector<std::string> KannelFlags(const std::string& url, const std::string& password_file) {
  return {"--sms-provider", "kannel", "--kannel-url", url, "--kannel-user", "forewarn", "--kannel-password-file",
          password_file, "--receipt-url", "https://forewarn.example:8443", "--receipt-secret-file",
          WriteTemp("receipt.secret", std::string(40, 's') + "\n")};
}

TEST(NotifierKannelFlags, EachMissingOrWrongFlagIsNamed) {
  const std::string password = WriteTemp("kannel.password", "pw\n");
  const std::string url = "http://127.0.0.1:1/cgi-bin/sendsms";
  struct Case {
    std::vector<std::string> args;
    std::string want;
  };
  std::vector<Case> cases;
  for (const std::string flag : {"--kannel-url", "--kannel-user", "--kannel-password-file", "--receipt-url",
                                 "--receipt-secret-file"}) {
    std::vector<std::string> args = KannelFlags(url, password);
    for (size_t i = 0; i + 1 < args.size(); ++i) {
      if (args[i] == flag) args.erase(args.begin() + i, args.begin() + i + 2);
    }
    cases.push_back({args, flag + ": required with --sms-provider kannel"});
  }
  auto with = [&](const std::string& flag, const std::string& value) {
    std::vector<std::string> args = KannelFlags(url, password);
    for (size_t i = 0; i + 1 < args.size(); ++i) {
      if (args[i] == flag) args[i + 1] = value;
    }
    return args;
  };
  cases.push_back({with("--receipt-url", "ftp://forewarn.example"), "--receipt-url: must be http(s)://"});
  cases.push_back({with("--kannel-url", "127.0.0.1:13013"), "--kannel-url: must be http:// or https://"});
  cases.push_back({with("--kannel-password-file", WriteTemp("empty", "\n")), "--kannel-password-file: the file is empty"});
  cases.push_back({with("--kannel-password-file", "/nonexistent/pw"), "--kannel-password-file: /nonexistent/pw cannot be read"});
  cases.push_back({with("--receipt-secret-file", WriteTemp("short", "too-short\n")), "--receipt-secret-file: "});
  cases.push_back({{"--kannel-url", url}, "--kannel-url: only with --sms-provider kannel"});
  for (const Case& c : cases) {
    const Exit e = RunNotifier(c.args);
    EXPECT_EQ(e.code, 2) << c.want << "\n" << e.log;
    EXPECT_TRUE(absl::StrContains(e.log, c.want)) << c.want << "\n" << e.log;
  }
}

TEST(NotifierKannelFlags, StartUpProbeRefusesAWrongPasswordAndWaitsForNoKannel) {
  START_KANNEL(kannel);
  const KannelSmsConfig config = kannel.Config();
  const Exit wrong = RunNotifier(KannelFlags(config.sendsms_url, WriteTemp("kannel.password", "wrong\n")));
  EXPECT_EQ(wrong.code, 2) << wrong.log;
  EXPECT_TRUE(absl::StrContains(wrong.log, "--kannel-url")) << wrong.log;
  EXPECT_TRUE(absl::StrContains(wrong.log, "--kannel-password-file")) << wrong.log;
  EXPECT_FALSE(absl::StrContains(wrong.log, "wrong\n")) << "the password stays out of the log";
  const Exit gone = RunNotifier(KannelFlags(absl::StrCat("http://127.0.0.1:", channel_testing::RefusedPort(), "/cgi-bin/sendsms"),
                                            WriteTemp("kannel.password", "pw\n")));
  EXPECT_EQ(gone.code, 1) << "unreachable: exit 1\n" << gone.log;
  EXPECT_TRUE(absl::StrContains(gone.log, "cannot reach the gateway")) << gone.log;
}

}  // namespace
}  // namespace forewarn
