// Argument errors of the built forewarn binary: each names the flag at fault
// on stderr, prints nothing on stdout and exits non-zero (2 for the CLI's own
// checks, CLI11's codes for parse errors) without calling the intake.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"

namespace {

struct Result {
  int exit_code = -1;
  std::string out, err;
};

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Runs forewarn with `args` (each single-quoted; none contains a quote).
// The target is a closed port, so a command that got as far as calling the
// intake would fail with exit code 1 instead.
Result Forewarn(const std::vector<std::string>& args) {
  // ctest runs the tests in parallel: each run has its own files.
  static int runs = 0;
  const std::string base = absl::StrCat(::testing::TempDir(), "/forewarn_cli_",
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name(), "_",
                                        ++runs, "_", getpid());
  const std::string out = base + ".out", err = base + ".err";
  const std::string cmd = absl::StrCat("env -u FOREWARN_TARGET -u FOREWARN_TOKEN -u FOREWARN_TLS_CA ",
                                       "-u FOREWARN_TLS_CLIENT_CERT -u FOREWARN_TLS_CLIENT_KEY '", FOREWARN_CLI,
                                       "' --target 127.0.0.1:1 --timeout 2 '", absl::StrJoin(args, "' '"), "' >",
                                       out, " 2>", err);
  const int status = std::system(cmd.c_str());
  Result r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = ReadAll(out);
  r.err = ReadAll(err);
  std::remove(out.c_str());
  std::remove(err.c_str());
  return r;
}

const std::vector<std::string> kCreate = {"incident",   "create",     "--idempotency-key", "k1",
                                          "--service",  "water",      "--region",          "jeddah",
                                          "--reason-en", "Pipe burst", "--reason-ar",       "انفجار أنبوب"};

std::vector<std::string> With(std::vector<std::string> base, const std::vector<std::string>& more) {
  base.insert(base.end(), more.begin(), more.end());
  return base;
}

void ExpectUsageError(const Result& r, const std::string& message) {
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "error: " + message + "\n");
  EXPECT_EQ(r.out, "");
}

TEST(CliArguments, TargetFlagsNameWhatIsWrongWithThem) {
  ExpectUsageError(Forewarn(With(kCreate, {"--restore-in", "3h", "--circle", "24.7,46.7"})),
                   "--circle: expected LAT,LON,METRES, e.g. 24.7136,46.6753,1500");
  ExpectUsageError(Forewarn(With(kCreate, {"--restore-in", "3h", "--area-file", "/nonexistent/area.geojson"})),
                   "--area-file: cannot open /nonexistent/area.geojson");
  ExpectUsageError(Forewarn(With(kCreate, {"--restore-in", "3h", "--area-name-en", "Olaya"})),
                   "--area-name-en/--area-name-ar: name an area given with --area-file or --circle");
}

TEST(CliArguments, CreateWithoutARestorationTimeIsAUsageError) {
  ExpectUsageError(Forewarn(kCreate), "one of --restore-at or --restore-in is required");
}

TEST(CliArguments, ATimeThatIsNotRfc3339NamesItsFlag) {
  const Result r = Forewarn(With(kCreate, {"--start", "yesterday", "--restore-in", "3h"}));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err.rfind("error: --start: ", 0), 0u) << r.err;
  EXPECT_EQ(r.out, "");

  const Result end = Forewarn({"maintenance", "schedule", "--idempotency-key", "m1", "--service", "water", "--region",
                               "jeddah", "--reason-en", "Valve", "--reason-ar", "صمام", "--start",
                               "2030-01-01T06:00:00Z", "--end", "2030-13-01T10:00:00Z"});
  EXPECT_EQ(end.exit_code, 2);
  EXPECT_EQ(end.err.rfind("error: --end: ", 0), 0u) << end.err;

  const Result effective = Forewarn({"iban", "announce", "--idempotency-key", "i1", "--old", "SA03", "--new", "SA44",
                                     "--effective", "2027-01-01", "--reason-en", "Merger", "--reason-ar", "دمج"});
  EXPECT_EQ(effective.exit_code, 2);
  EXPECT_EQ(effective.err.rfind("error: --effective: ", 0), 0u) << effective.err;
}

TEST(CliArguments, RestoreInMustBeAPositiveDuration) {
  ExpectUsageError(Forewarn(With(kCreate, {"--restore-in", "-5m"})),
                   "--restore-in: expected a positive duration like 90m or 3h");
  ExpectUsageError(Forewarn(With(kCreate, {"--restore-in", "soon"})),
                   "--restore-in: expected a positive duration like 90m or 3h");
}

TEST(CliArguments, UpdateAndRescheduleWantSomethingToChange) {
  ExpectUsageError(Forewarn({"incident", "update", "inc-1"}),
                   "nothing to update: give --reason-en/--reason-ar, --restore-at/--restore-in and/or new targets");
  ExpectUsageError(Forewarn({"incident", "update", "inc-1", "--reason-en", "Only English"}),
                   "give both --reason-en and --reason-ar");
  ExpectUsageError(Forewarn({"maintenance", "reschedule", "inc-1"}), "give --start and/or --end");
}

TEST(CliArguments, TlsFilesMustBeReadableAndComeInPairs) {
  ExpectUsageError(Forewarn({"--tls-cert", "/nonexistent/client.crt", "incident", "show", "inc-1"}),
                   "give both --tls-cert and --tls-key");
  ExpectUsageError(Forewarn({"--tls-ca", "/nonexistent/ca.pem", "incident", "show", "inc-1"}),
                   "--tls-ca: cannot read /nonexistent/ca.pem");
}

TEST(CliArguments, ParseErrorsNameTheFlagAndExitNonZero) {
  const Result missing = Forewarn({"incident", "create"});
  EXPECT_EQ(missing.exit_code, 106);  // CLI11 RequiredError
  EXPECT_EQ(missing.err, "--idempotency-key is required\nRun with --help for more information.\n");

  const Result both = Forewarn(With(kCreate, {"--restore-at", "2030-01-01T00:00:00Z", "--restore-in", "3h"}));
  EXPECT_EQ(both.exit_code, 108);  // CLI11 ExcludesError
  EXPECT_EQ(both.err, "--restore-at excludes --restore-in\nRun with --help for more information.\n");

  const Result state = Forewarn({"incident", "list", "--state", "closed"});
  EXPECT_EQ(state.exit_code, 105);  // CLI11 ValidationError
  EXPECT_EQ(state.err, "--state: closed not in {open,resolved,cancelled}\nRun with --help for more information.\n");

  const Result limit = Forewarn({"dlq", "list", "--limit", "0"});
  EXPECT_EQ(limit.exit_code, 105);
  EXPECT_EQ(limit.err, "--limit: Value 0 not in range 1 to 10000\nRun with --help for more information.\n");

  const Result no_command = Forewarn({"incident"});
  EXPECT_EQ(no_command.exit_code, 106);
  EXPECT_EQ(no_command.err, "A subcommand is required\nRun with --help for more information.\n");
  EXPECT_EQ(no_command.out, "");
}

TEST(CliArguments, GlobalOptionsMayFollowTheCommand) {
  // --json after the command still parses (the app falls through to the
  // global options); the call then fails to reach the closed port: exit 1.
  const Result r = Forewarn({"incident", "show", "inc-1", "--json"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find(" (14)\n"), std::string::npos) << r.err;  // UNAVAILABLE
  EXPECT_EQ(r.out, "");
}

TEST(CliArguments, ProofTakesCsvOrJsonNotBothAndPrintsNothingWhenTheCallFails) {
  ExpectUsageError(Forewarn({"incident", "proof", "inc-1", "--csv", "--json"}), "--csv and --json: give one of them");
  for (const char* format : {"--csv", "--json", "--missed-only"}) {
    const Result r = Forewarn({"incident", "proof", "inc-1", format});
    EXPECT_EQ(r.exit_code, 1) << format;
    EXPECT_NE(r.err.find(" (14)\n"), std::string::npos) << r.err;  // UNAVAILABLE: the closed port
    EXPECT_EQ(r.out, "") << format;
  }
  EXPECT_EQ(Forewarn({"incident", "proof"}).exit_code, 106);  // the id is required
}

TEST(CliArguments, HelpListsEveryCommandGroupAndExitsZero) {
  const Result r = Forewarn({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  for (const char* group : {"incident", "dlq", "notice", "maintenance", "iban"}) {
    EXPECT_NE(r.out.find(absl::StrCat("  ", group, " ")), std::string::npos) << group << " in\n" << r.out;
  }
}

TEST(CliArguments, CustomerImportChecksItsFileBeforeCallingTheIntake) {
  ExpectUsageError(Forewarn({"customers", "import", "/nonexistent/customers.csv"}),
                   "cannot read /nonexistent/customers.csv");
  ExpectUsageError(Forewarn({"customers", "import", "customers.txt"}),
                   "--format: cannot tell the format of 'customers.txt' (not .csv, .jsonl or .ndjson): give --format");
  // A malformed header stops before any call (exit 1, naming the line).
  const std::string path = ::testing::TempDir() + "/forewarn_cli_bad_header.csv";
  std::ofstream(path) << "external_id,name,language,time_zone,fax\nC1,a,en,UTC,1\n";
  const Result r = Forewarn({"customers", "import", path});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err.rfind("error: " + path + ":1: unknown column 'fax' (known: ", 0), 0u) << r.err;
  EXPECT_EQ(r.out, "");
  std::remove(path.c_str());
}

TEST(CliArguments, CustomerPreferencesNeedAValidCategory) {
  ExpectUsageError(Forewarn({"customers", "preferences", "C1"}),
                   "give at least one of --unplanned-outages, --planned-maintenance, --banking-changes");
  ExpectUsageError(Forewarn({"customers", "preferences", "C1", "--planned-maintenance", "fax"}),
                   "--planned-maintenance: 'fax' is not one of sms;email, sms, email, none (or empty: both)");
}

}  // namespace
