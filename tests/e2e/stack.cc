#include "tests/e2e/stack.h"

#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>

#include <gtest/gtest.h>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "tests/support/kafka_topics.h"

namespace forewarn::testing {
namespace {

std::string Bin(const std::string& rel) { return absl::StrCat(FOREWARN_BIN_DIR, "/", rel); }

// A passing test leaves no scratch behind; a failed one keeps its logs and
// outbox for reading.
void RemoveUnlessTestFailed(const std::string& dir) {
  if (dir.empty() || ::testing::Test::HasFailure()) return;
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

// Parses "<incident.vN.kind[~occasion].cID.channel@forewarn>" (MessageIdFor).
bool ParseMessageId(const std::string& id, Delivered* d) {
  std::vector<std::string> parts = absl::StrSplit(id.substr(1, id.find('@') - 1), '.');
  if (parts.size() != 5) return false;
  std::vector<std::string> kind = absl::StrSplit(parts[2], absl::MaxSplits('~', 1));
  d->kind = kind[0];
  d->occasion = kind.size() > 1 ? kind[1] : "";
  d->channel = parts[4];
  return absl::SimpleAtoi(parts[1].substr(1), &d->version) && absl::SimpleAtoi(parts[3].substr(1), &d->customer_id);
}

// Runs `bash scripts/kafka.sh ARGS...`, its standard error appended to `log`,
// its standard output too, or written to `out` when given.
absl::Status RunKafkaScript(const std::vector<std::string>& args, const std::string& log, const std::string& out = "") {
  std::string cmd = absl::StrCat("bash '", FOREWARN_SOURCE_DIR, "/scripts/kafka.sh'");
  for (const std::string& a : args) absl::StrAppend(&cmd, " '", a, "'");
  if (out.empty()) {
    absl::StrAppend(&cmd, " >>'", log, "' 2>&1 </dev/null");
  } else {
    absl::StrAppend(&cmd, " >'", out, "' 2>>'", log, "' </dev/null");
  }
  if (const int rc = std::system(cmd.c_str()); rc != 0) {
    return absl::InternalError(absl::StrCat("scripts/kafka.sh ", absl::StrJoin(args, " "), " failed (status ", rc,
                                            "); see ", log));
  }
  return absl::OkStatus();
}

// "e2e.TEST_NAME.PID.RUN.N": a prefix for one stack's topics and groups.
std::string StackKafkaPrefix() {
  const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
  return UniqueKafkaName(test != nullptr ? absl::StrCat("e2e.", test->name()) : "e2e");
}

// Replaces every "{name}" in `arg` with `value`.
std::string Substitute(std::string arg, const std::string& name, const std::string& value) {
  const std::string mark = absl::StrCat("{", name, "}");
  for (size_t at = arg.find(mark); at != std::string::npos; at = arg.find(mark, at + value.size())) {
    arg.replace(at, mark.size(), value);
  }
  return arg;
}

}  // namespace

bool ServiceStack::KafkaNodeAvailable() { return !TestKafkaIsMock() && !TestKafkaBootstrap().empty(); }

absl::Status ServiceStack::KafkaNode(const std::string& action, int node) {
  if (kafka_kind_ != StackKafka::kOwnNode) return absl::FailedPreconditionError("the stack has no Kafka node of its own");
  return RunKafkaScript({action, dir_, std::to_string(node)}, dir_ + "/kafka.sh.log");
}

absl::StatusOr<int> ServiceStack::KafkaLeaderOf(const std::string& topic) {
  return KafkaScriptNumber({"leader", dir_, topic});
}

absl::StatusOr<int> ServiceStack::KafkaActiveController() { return KafkaScriptNumber({"controller", dir_}); }

absl::StatusOr<int> ServiceStack::KafkaScriptNumber(const std::vector<std::string>& args) {
  if (kafka_kind_ != StackKafka::kOwnNode) return absl::FailedPreconditionError("the stack has no Kafka node of its own");
  const std::string out = dir_ + "/kafka.sh.out";
  if (auto s = RunKafkaScript(args, dir_ + "/kafka.sh.log", out); !s.ok()) return s;
  std::string text;
  int node = 0;
  if (auto s = WaitForFile(out, absl::Seconds(1), &text); !s.ok()) return s;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(text), &node)) {
    return absl::InternalError(absl::StrCat("scripts/kafka.sh ", args[0], " printed '", text, "'"));
  }
  return node;
}

absl::Status ServiceStack::StartKafka(const Options& options) {
  kafka_kind_ = options.kafka;
  if (kafka_kind_ == StackKafka::kShared && !KafkaNodeAvailable()) kafka_kind_ = StackKafka::kMock;
  const std::string prefix = StackKafkaPrefix();
  events_topic_ = prefix + ".events";
  notices_topic_ = prefix + ".notices";
  retry_topic_ = prefix + ".notices.retry";
  dlq_topic_ = prefix + ".notices.dlq";
  resolver_group_ = prefix + ".resolver";
  notifier_group_ = prefix + ".notifier";
  // The partitions of scripts/test.sh's forewarn.* topics.
  const std::vector<TopicSpec> topics = {{events_topic_, 4}, {notices_topic_, 12}, {retry_topic_, 12}, {dlq_topic_, 4}};
  switch (kafka_kind_) {
    case StackKafka::kMock: {
      std::vector<std::string> argv = {Bin("services/cmd/devkafka/forewarn-devkafka"), "--bootstrap-file", dir_ + "/kafka"};
      for (const TopicSpec& t : topics) argv.insert(argv.end(), {"--topic", absl::StrCat(t.name, ":", t.partitions)});
      argv.insert(argv.end(), options.devkafka_args.begin(), options.devkafka_args.end());
      if (auto s = Launch("devkafka", argv); !s.ok()) return s;
      return WaitForFile(dir_ + "/kafka", absl::Seconds(30), &kafka_);
    }
    case StackKafka::kOwnNode:
      if (auto s = StartOwnKafka(options); !s.ok()) return s;
      return CreateTestTopics(kafka_admin_, topics);
    case StackKafka::kShared:
      kafka_ = TestKafkaBootstrap();
      break;
  }
  return CreateTestTopics(kafka_, topics);
}

absl::Status ServiceStack::StartOwnKafka(const Options& options) {
  if (!KafkaNodeAvailable()) return absl::FailedPreconditionError("no Apache Kafka under test (--kafka mock)");
  std::vector<std::string> args = {"start", dir_, "--nodes", std::to_string(options.kafka_nodes)};
  if (!options.kafka_scram.empty()) args.insert(args.end(), {"--scram", options.kafka_scram});
  if (auto s = RunKafkaScript(args, dir_ + "/kafka.sh.log"); !s.ok()) return s;
  if (auto s = WaitForFile(dir_ + "/kafka.bootstrap", absl::Seconds(1), &kafka_admin_); !s.ok()) return s;
  kafka_ = kafka_admin_;
  if (options.kafka_scram.empty()) return absl::OkStatus();
  const size_t colon = options.kafka_scram.find(':');
  for (const std::string& prop : {std::string("security.protocol=SASL_PLAINTEXT"),
                                  std::string("sasl.mechanism=SCRAM-SHA-512"),
                                  "sasl.username=" + options.kafka_scram.substr(0, colon),
                                  "sasl.password=" + options.kafka_scram.substr(colon + 1)}) {
    kafka_props_.insert(kafka_props_.end(), {"--kafka-prop", prop});
  }
  return WaitForFile(dir_ + "/kafka.sasl.bootstrap", absl::Seconds(1), &kafka_);
}

absl::Status ServiceStack::Launch(const std::string& name, std::vector<std::string> argv) {
  auto p = std::make_unique<ChildProcess>(std::move(argv), absl::StrCat(dir_, "/", name, ".log"));
  if (auto s = p->Start(); !s.ok()) return s;
  procs_.push_back(std::move(p));
  return absl::OkStatus();
}

absl::Status ServiceStack::Start(const std::string& seed_sql, const Options& options) {
  db_ = std::make_unique<ScratchDatabase>();
  dir_ = MakeTempDir("forewarn-e2e-");
  if (dir_.empty()) return absl::InternalError("cannot make a temp dir");
  outbox_ = dir_ + "/outbox";
  offset_file_ = dir_ + "/time-offset";
  std::filesystem::create_directories(outbox_);
  SetTimeOffset(absl::ZeroDuration());
  const std::string code_secret = dir_ + "/message-code.key";
  std::ofstream(code_secret) << kMessageCodeSecret << "\n";
  const std::vector<std::string> link_args = {"--status-base-url", kStatusBaseUrl, "--message-code-secret-file",
                                              code_secret};

  if (auto s = StartKafka(options); !s.ok()) return s;
  std::string pg_uri = db_->uri();
  if (options.services_pg_uri) {
    auto uri = options.services_pg_uri(pg_uri);
    if (!uri.ok()) return uri.status();
    pg_uri = *std::move(uri);
  }
  std::vector<std::string> read_args;  // the resolver's and the intake's
  if (options.services_pg_read_uri) {
    auto uri = options.services_pg_read_uri(db_->uri());
    if (!uri.ok()) return uri.status();
    read_args = {"--pg-read", *std::move(uri)};
  }
  std::vector<std::string> common = {"--pg", pg_uri, "--kafka", kafka_};
  common.insert(common.end(), kafka_props_.begin(), kafka_props_.end());
  auto with = [&](std::vector<std::string> head, std::vector<std::string> tail) {
    head.insert(head.end(), common.begin(), common.end());
    head.insert(head.end(), tail.begin(), tail.end());
    return head;
  };
  std::vector<std::string> intake_args = {"--listen", "127.0.0.1:0", "--port-file", dir_ + "/intake.port",
                                          "--templates", FOREWARN_TEMPLATES_DIR, "--time-offset-file", offset_file_,
                                          "--events-topic", events_topic_, "--notices-topic", notices_topic_,
                                          "--dlq-topic", dlq_topic_};
  intake_args.insert(intake_args.end(), read_args.begin(), read_args.end());
  intake_args.insert(intake_args.end(), link_args.begin(), link_args.end());
  for (std::string arg : options.intake_args) {
    for (size_t at = arg.find("{dir}"); at != std::string::npos; at = arg.find("{dir}", at + dir_.size())) {
      arg.replace(at, 5, dir_);
    }
    intake_args.push_back(std::move(arg));
  }
  if (auto s = Launch("intake", with({Bin("services/cmd/intake/forewarn-intake")}, intake_args)); !s.ok()) {
    return s;
  }
  std::string port;
  if (auto s = WaitForFile(dir_ + "/intake.port", absl::Seconds(60), &port); !s.ok()) return s;
  db_->Exec(seed_sql);
  // Short session timeouts: a killed worker's partitions move on quickly (and the mock broker
  // delays each rebalance by it).
  std::vector<std::string> resolver_args = {"--session-timeout-ms", "3000", "--events-topic", events_topic_,
                                            "--notices-topic", notices_topic_, "--group", resolver_group_};
  resolver_args.insert(resolver_args.end(), read_args.begin(), read_args.end());
  for (const std::string& arg : options.resolver_args) resolver_args.push_back(Substitute(arg, "dir", dir_));
  if (auto s = Launch("resolver", with({Bin("services/cmd/resolver/forewarn-resolver")}, resolver_args));
      !s.ok()) {
    return s;
  }
  if (auto s = Launch("scheduler", with({Bin("services/cmd/scheduler/forewarn-scheduler")},
                                        {"--poll-ms", "100", "--time-offset-file", offset_file_,
                                         "--notices-topic", notices_topic_}));
      !s.ok()) {
    return s;
  }
  // "{public_port}" in a notifier argument: the intake's public endpoint
  // (the intake runs with --public-port-file {dir}/public.port).
  std::string public_port;
  for (const std::string& arg : options.notifier_args) {
    if (arg.find("{public_port}") == std::string::npos || !public_port.empty()) continue;
    if (auto s = WaitForFile(dir_ + "/public.port", absl::Seconds(30), &public_port); !s.ok()) return s;
  }
  for (int k = 1; k <= options.notifiers; ++k) {
    const std::string name = absl::StrCat("notifier-", k);
    std::vector<std::string> args = {"--templates", FOREWARN_TEMPLATES_DIR, "--outbox-dir", outbox_,
                                     "--session-timeout-ms", "3000", "--time-offset-file", offset_file_,
                                     "--notices-topic", notices_topic_, "--retry-topic", retry_topic_,
                                     "--dlq-topic", dlq_topic_, "--group", notifier_group_};
    // A killed notifier's in-flight notices wait for its lease: short here.
    if (std::find(options.notifier_args.begin(), options.notifier_args.end(), "--lease-ms") ==
        options.notifier_args.end()) {
      args.insert(args.end(), {"--lease-ms", "5000"});
    }
    args.insert(args.end(), link_args.begin(), link_args.end());
    for (const std::string& arg : options.notifier_args) {
      args.push_back(Substitute(Substitute(Substitute(arg, "dir", dir_), "name", name), "public_port", public_port));
    }
    if (auto s = Launch(name, with({Bin("notifier/cmd/forewarn-notifier")}, args)); !s.ok()) return s;
  }
  intake_target_ = absl::StrCat("127.0.0.1:", absl::StripAsciiWhitespace(port));
  grpc::ChannelArguments channel_args;
  if (!options.tls_target_name.empty()) channel_args.SetSslTargetNameOverride(options.tls_target_name);
  auto channel = grpc::CreateCustomChannel(
      intake_target_,
      options.intake_credentials ? options.intake_credentials : grpc::InsecureChannelCredentials(), channel_args);
  stub_ = v1::IncidentService::NewStub(channel);
  return absl::OkStatus();
}

ChildProcess* ServiceStack::Process(const std::string& name) {
  const std::string suffix = absl::StrCat("/", name, ".log");
  for (auto& p : procs_) {
    const std::string& log = p->log_path();
    if (log.size() >= suffix.size() && log.compare(log.size() - suffix.size(), suffix.size(), suffix) == 0) {
      return p.get();
    }
  }
  return nullptr;
}

ServiceStack::~ServiceStack() {
  Stop();
  RemoveUnlessTestFailed(dir_);
}

void ServiceStack::Stop() {
  // Services first (they depend on the broker), broker last.
  for (auto it = procs_.rbegin(); it != procs_.rend(); ++it) (*it)->Stop();
  procs_.clear();
  if (kafka_kind_ == StackKafka::kOwnNode && std::filesystem::exists(dir_ + "/kafka/nodes")) {
    auto s = RunKafkaScript({"stop", dir_}, dir_ + "/kafka.sh.log");
    EXPECT_TRUE(s.ok()) << s;
  } else if (kafka_kind_ == StackKafka::kShared && !kafka_.empty()) {
    // The shared broker stays lean: a suite creates some hundred topics.
    auto s = DeleteTestTopics(kafka_, {events_topic_, notices_topic_, retry_topic_, dlq_topic_});
    EXPECT_TRUE(s.ok()) << s;
  }
  kafka_.clear();
  kafka_admin_.clear();
  kafka_props_.clear();
}

void ServiceStack::SetTimeOffset(absl::Duration offset) {
  std::ofstream(offset_file_ + ".tmp") << absl::ToInt64Seconds(offset) << "\n";
  std::filesystem::rename(offset_file_ + ".tmp", offset_file_);
}

std::vector<Delivered> ServiceStack::ReadOutbox() const {
  std::vector<Delivered> out;
  for (const char* file : {"sms.jsonl", "email.jsonl"}) {
    std::ifstream in(absl::StrCat(outbox_, "/", file));
    std::string line;
    while (std::getline(in, line)) {
      Delivered d;
      d.line = nlohmann::json::parse(line);
      if (ParseMessageId(d.line.at("message_id").get<std::string>(), &d)) out.push_back(std::move(d));
    }
  }
  return out;
}

bool ServiceStack::WaitForCount(const std::string& sql, int64_t want, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    try {
      if (std::stoll(db_->Exec(sql)) >= want) return true;
    } catch (const std::exception&) {
      // The database may be restarting (failure tests): keep polling.
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  return false;
}

std::unique_ptr<grpc::ClientContext> ServiceStack::Ctx() const {
  auto c = std::make_unique<grpc::ClientContext>();
  c->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  return c;
}

// Every log line the services wrote must be free of raw personal data.
void StackTest::SkipWithoutPostgres() {
  if (TestPgUri().empty()) GTEST_SKIP() << "FOREWARN_TEST_PG_URI not set";
}

void StackTest::StartStack(const std::string& seed_sql, const ServiceStack::Options& options) {
  SkipWithoutPostgres();
  if (IsSkipped()) return;
  const absl::Status s = stack_.Start(seed_sql, options);
  ASSERT_TRUE(s.ok()) << s << " (logs in " << stack_.dir() << ")";
}

void CliStackTest::StartCliStack(const std::string& dir_prefix, const std::string& tokens,
                                 const std::string& seed_sql, const std::string& default_token, int notifiers) {
  default_token_ = default_token;
  SkipWithoutPostgres();
  if (IsSkipped()) return;
  dir_ = MakeTempDir(dir_prefix);
  std::ofstream(dir_ + "/tokens") << tokens;
  ServiceStack::Options options;
  options.notifiers = notifiers;
  options.intake_args = {"--auth-tokens", dir_ + "/tokens"};
  StartStack(seed_sql, options);
}

void CliStackTest::TearDown() {
  status_pages_.reset();
  RemoveUnlessTestFailed(dir_);
}

std::string CliStackTest::Write(const std::string& name, const std::string& text) {
  const std::string path = dir_ + "/" + name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

CliRun CliStackTest::Forewarn(const std::vector<std::string>& args, const std::string& token) {
  static int runs = 0;
  const std::string base = absl::StrCat(dir_, "/run", ++runs);
  const std::string cmd = absl::StrCat("'", Bin("services/cmd/cli/forewarn"), "' --target ", stack_.intake_target(),
                                       " --token '", token.empty() ? default_token_ : token, "' '",
                                       absl::StrJoin(args, "' '"), "' >", base, ".out 2>", base, ".err");
  const int status = std::system(cmd.c_str());
  return CliRun{WIFEXITED(status) ? WEXITSTATUS(status) : -1, ReadFile(base + ".out"), ReadFile(base + ".err")};
}

int CliStackTest::StartStatusPages(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {Bin("services/cmd/status/forewarn-status"), "--pg", stack_.db().uri(),
                                   "--listen", "127.0.0.1:0", "--port-file", dir_ + "/status.port",
                                   "--message-code-secret-file", stack_.dir() + "/message-code.key"};
  argv.insert(argv.end(), args.begin(), args.end());
  status_pages_ = std::make_unique<ChildProcess>(argv, dir_ + "/status.log");
  if (absl::Status s = status_pages_->Start(); !s.ok()) {
    ADD_FAILURE() << "forewarn-status: " << s;
    return 0;
  }
  std::string port;
  if (absl::Status s = WaitForFile(dir_ + "/status.port", absl::Seconds(30), &port); !s.ok()) {
    ADD_FAILURE() << "forewarn-status did not start: " << s << " (log: " << dir_ << "/status.log)";
    return 0;
  }
  return std::stoi(port);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

absl::StatusOr<v1::Incident> ServiceStack::CreateIncident(const v1::CreateIncidentRequest& req) {
  v1::Incident incident;
  const grpc::Status status = stub().CreateIncident(Ctx().get(), req, &incident);
  if (!status.ok()) return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
  return incident;
}

v1::CreateIncidentRequest OutageRequest(const std::string& key, const std::string& service, const std::string& region,
                                        const std::string& reason_en, const std::string& reason_ar,
                                        absl::Duration restore_in) {
  v1::CreateIncidentRequest req;
  req.set_idempotency_key(key);
  req.set_kind(v1::UNPLANNED_OUTAGE);
  req.add_services(service);
  req.add_regions(region);
  req.mutable_reason()->set_en(reason_en);
  req.mutable_reason()->set_ar(reason_ar);
  req.mutable_expected_restoration_at()->set_seconds(absl::ToUnixSeconds(absl::Now() + restore_in));
  return req;
}

std::string GeneratedCustomersSql(const std::string& service, const std::string& region,
                                  const std::string& phone_prefix, int count) {
  return absl::StrCat(
      "INSERT INTO customers (id, name, locale, time_zone, phone, email, channels_unplanned, "
      "  channels_maintenance, channels_banking) "
      "SELECT i, 'Customer ' || i, CASE WHEN i % 2 = 0 THEN 'ar' ELSE 'en' END, 'Asia/Riyadh', "
      "  '", phone_prefix, "' || lpad(i::text, 7, '0'), 'c' || i || '@example.com', ch, ch, ch "
      "FROM generate_series(1, ", count, ") i, LATERAL (SELECT (i % 3 <> 1)::int + 2 * (i % 3 <> 0)::int) AS b(ch);"
      "INSERT INTO customer_services SELECT '", service, "', '", region, "', i FROM generate_series(1, ", count,
      ") i;");
}

int64_t GeneratedCustomersNotices(int count) {
  int64_t n = 0;
  for (int i = 1; i <= count; ++i) n += (i % 3 != 1) + (i % 3 != 0);
  return n;
}

SeededCustomer SeededCustomerFor(int id) {
  static const char* const kTimeZones[] = {"Asia/Riyadh", "Asia/Dubai", "Europe/London", "America/New_York"};
  return {id % 2 == 0 ? "ar" : "en", kTimeZones[id % 4], id % 3 != 1, id % 3 != 0};
}

std::string SeededCustomerRow(int id, int64_t phone_base, const std::string& email_user) {
  const SeededCustomer c = SeededCustomerFor(id);
  const int channels = (c.sms ? 1 : 0) + (c.email ? 2 : 0);
  return absl::StrCat("(", id, ",'Customer ", id, "','", c.locale, "','", c.tz, "','+9665", phone_base + id, "','",
                      email_user, id, "@example.com',", channels, ",", channels, ",", channels, ")");
}

std::set<std::pair<int64_t, std::string>> SeededRecipients(const std::set<int>& ids) {
  std::set<std::pair<int64_t, std::string>> out;
  for (int id : ids) {
    const SeededCustomer c = SeededCustomerFor(id);
    if (c.sms) out.insert({id, "sms"});
    if (c.email) out.insert({id, "email"});
  }
  return out;
}

std::string SentCountSql(const std::string& incident_id) {
  return absl::StrCat("SELECT count(*) FROM notice_ledger WHERE incident_id = '", incident_id, "' AND state = 'sent'");
}

void ExpectNoPersonalDataInLogs(const std::string& dir) {
  const std::regex phone(R"(\+9665[0-9]{8})"), email(R"([A-Za-z0-9._-]+@example\.com)"),
      iban(R"(\b[A-Z]{2}[0-9]{2}[A-Z0-9]{12,30}\b)");
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".log") continue;
    ++files;
    std::ifstream in(entry.path());
    std::string line;
    while (std::getline(in, line)) {
      EXPECT_FALSE(std::regex_search(line, phone)) << entry.path() << ": " << line;
      EXPECT_FALSE(std::regex_search(line, email)) << entry.path() << ": " << line;
      EXPECT_FALSE(std::regex_search(line, iban)) << entry.path() << ": " << line;
    }
  }
  EXPECT_GE(files, 4);  // intake, resolver, scheduler and at least one notifier
}

// GET http://127.0.0.1:port/path; the whole response, headers included.
std::vector<nlohmann::json> JsonFilesIn(const std::string& dir) {
  std::vector<nlohmann::json> out;
  if (!std::filesystem::exists(dir)) return out;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".json") continue;
    std::ifstream in(entry.path());
    out.push_back(nlohmann::json::parse(in));
  }
  return out;
}

std::string HttpGet(int port, const std::string& path) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return "";
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string out;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    const std::string req = absl::StrCat("GET ", path, " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    if (::write(fd, req.data(), req.size()) == static_cast<ssize_t>(req.size())) {
      char buf[4096];
      for (ssize_t n; (n = ::read(fd, buf, sizeof(buf))) > 0;) out.append(buf, static_cast<size_t>(n));
    }
  }
  ::close(fd);
  return out;
}

// Runs a shell command; its standard output.
std::string RunCommand(const std::string& cmd) {
  std::string out;
  if (FILE* p = ::popen(cmd.c_str(), "r")) {
    char buf[4096];
    for (size_t n; (n = std::fread(buf, 1, sizeof(buf), p)) > 0;) out.append(buf, n);
    ::pclose(p);
  }
  return out;
}

}  // namespace forewarn::testing
