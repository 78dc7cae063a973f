// The customer file reader and writer of `forewarn customers import|export`:
// CSV (RFC 4180) and JSON lines. A malformed file stops the reader with an
// error naming its line; a bad value is a rejected row (line, field, reason)
// and the rows after it are still read.
#include "services/cli/customer_file.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

namespace forewarn::cli {
namespace {

constexpr char kHeader[] = "external_id,name,language,time_zone,phone,email\n";

struct ReadResult {
  std::vector<CustomerRow> rows;
  std::string error;  // "" when the whole input was read
};

ReadResult Read(const std::string& text, CustomerFormat format = CustomerFormat::kCsv) {
  std::istringstream in(text);
  ReadResult out;
  auto reader = CustomerReader::Open(in, format, "customers.csv");
  if (!reader.ok()) {
    out.error = std::string(reader.status().message());
    return out;
  }
  for (;;) {
    CustomerRow row;
    auto more = (*reader)->Next(&row);
    if (!more.ok()) {
      out.error = std::string(more.status().message());
      return out;
    }
    if (!*more) return out;
    out.rows.push_back(row);
  }
}

TEST(CustomerCsv, ReadsColumnsByHeaderNameInAnyOrder) {
  auto r = Read(
      "time_zone,external_id,language,name,services,accounts,beneficiaries,planned_maintenance,unplanned_outages\n"
      "Asia/Riyadh,C1,ar,Ali,electricity/riyadh;water/jeddah,SA0380000000608010167519,"
      "SA4420000001234567891234=Rent;SA0380000000608010167519,none,sms\n");
  ASSERT_EQ(r.error, "");
  ASSERT_EQ(r.rows.size(), 1u);
  const v1::Customer& c = r.rows[0].customer;
  EXPECT_EQ(r.rows[0].line, 2);
  EXPECT_EQ(c.external_id(), "C1");
  EXPECT_EQ(c.name(), "Ali");
  EXPECT_EQ(c.language(), "ar");
  EXPECT_EQ(c.time_zone(), "Asia/Riyadh");
  ASSERT_EQ(c.services_size(), 2);
  EXPECT_EQ(c.services(1).service(), "water");
  EXPECT_EQ(c.services(1).region(), "jeddah");
  ASSERT_EQ(c.accounts_size(), 1);
  ASSERT_EQ(c.beneficiaries_size(), 2);
  EXPECT_EQ(c.beneficiaries(0).nickname(), "Rent");
  EXPECT_EQ(c.beneficiaries(1).nickname(), "");
  EXPECT_TRUE(c.preferences().has_planned_maintenance());
  EXPECT_FALSE(c.preferences().planned_maintenance().sms());
  EXPECT_FALSE(c.preferences().planned_maintenance().email());
  EXPECT_TRUE(c.preferences().unplanned_outages().sms());
  EXPECT_FALSE(c.preferences().unplanned_outages().email());
  EXPECT_FALSE(c.preferences().has_banking_changes());  // no column: both channels
}

TEST(CustomerCsv, QuotedFieldsEscapesAndEmbeddedNewlinesKeepLineNumbers) {
  auto r = Read(std::string(kHeader) +
                "C1,\"Smith, \"\"Jo\"\"\",en,Asia/Riyadh,,\n"
                "C2,\"two\nlines\",en,Asia/Riyadh,,\n"
                "C3,plain,en,Asia/Riyadh,,\n");
  ASSERT_EQ(r.error, "");
  ASSERT_EQ(r.rows.size(), 3u);
  EXPECT_EQ(r.rows[0].customer.name(), "Smith, \"Jo\"");
  EXPECT_EQ(r.rows[1].customer.name(), "two\nlines");
  EXPECT_EQ(r.rows[1].line, 3);
  EXPECT_EQ(r.rows[2].line, 5);  // the quoted line break took line 4
}

TEST(CustomerCsv, CrlfAndByteOrderMarkAreTolerated) {
  auto r = Read("\xEF\xBB\xBF" "external_id,name,language,time_zone\r\nC1,\"a\r\nb\",en,Asia/Riyadh\r\nC2,x,ar,UTC\r\n");
  ASSERT_EQ(r.error, "");
  ASSERT_EQ(r.rows.size(), 2u);
  EXPECT_EQ(r.rows[0].customer.external_id(), "C1");
  EXPECT_EQ(r.rows[0].customer.name(), "a\nb");
  EXPECT_EQ(r.rows[1].customer.time_zone(), "UTC");
  EXPECT_EQ(r.rows[1].line, 4);
}

TEST(CustomerCsv, Utf8NamesPass) {
  auto r = Read(std::string(kHeader) + "C1,محمد العتيبي,ar,Asia/Riyadh,,\n");
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.rows[0].customer.name(), "محمد العتيبي");
}

TEST(CustomerCsv, MalformedInputNamesTheLine) {
  struct Case {
    std::string text;
    std::string error;
  };
  const std::string h = kHeader;
  const Case cases[] = {
      {h + "C1,ok,en,UTC,,\nC2,\"never closed,en,UTC,,\nC3,x,en,UTC,,\n",
       "customers.csv:3: unterminated quoted field"},
      {h + "C1,ok,en,UTC,,\nC2,bad\xff name,en,UTC,,\n",
       "customers.csv:3: not UTF-8 (byte 0xff at column 7); save the file as UTF-8"},
      {h + "C1,\xC0\xAF,en,UTC,,\n", "customers.csv:2: not UTF-8 (byte 0xc0 at column 4); save the file as UTF-8"},
      {h + "C1,ok,en,UTC\n", "customers.csv:2: 4 fields, expected 6 (as the header)"},
      {h + "C1,ok,en,UTC,,,extra\n", "customers.csv:2: 7 fields, expected 6 (as the header)"},
      {h + "C1,a\"b,en,UTC,,\n",
       "customers.csv:2: field 2: a quote inside an unquoted field (quote the field and double the quote)"},
      {h + "C1,\"a\"b,en,UTC,,\n", "customers.csv:2: field 2: a character other than ',' after a closing quote"},
      {"", "customers.csv:1: empty file: expected a header line"},
  };
  for (const auto& c : cases) EXPECT_EQ(Read(c.text).error, c.error) << c.text;
}

TEST(CustomerCsv, HeaderErrorsNameTheColumns) {
  EXPECT_EQ(Read("external_id,name,language,time_zone,fax,pager\n").error,
            "customers.csv:1: unknown columns 'fax', 'pager' (known: external_id, name, language, time_zone, phone, "
            "email, services, accounts, beneficiaries, unplanned_outages, planned_maintenance, banking_changes, "
            "assets, latitude, longitude)");
  EXPECT_EQ(Read("external_id,name,language,time_zone,name\n").error, "customers.csv:1: duplicate column 'name'");
  EXPECT_EQ(Read("external_id,name,language\n").error, "customers.csv:1: missing column 'time_zone'");
}

TEST(CustomerCsv, ABadValueIsARejectedRowAndTheNextRowIsStillRead) {
  const std::string h = "external_id,name,language,time_zone,services,accounts,beneficiaries,planned_maintenance\n";
  struct Case {
    std::string row;
    std::string field;
    std::string reason;
  };
  const Case cases[] = {
      {"C1,a,en,UTC,electricity,,,\n", "services[0]", "'electricity' is not SERVICE/REGION (e.g. electricity/riyadh)"},
      {"C1,a,en,UTC,water/jeddah;electricity,,,\n", "services[1]",
       "'electricity' is not SERVICE/REGION (e.g. electricity/riyadh)"},
      {"C1,a,en,UTC,/riyadh,,,\n", "services[0]", "'/riyadh' is not SERVICE/REGION (e.g. electricity/riyadh)"},
      {"C1,a,en,UTC,,SA03;;SA44,,\n", "accounts[1]", "an empty IBAN between ';'"},
      {"C1,a,en,UTC,,,=Mum,\n", "beneficiaries[0]", "'=Mum' is not IBAN or IBAN=nickname"},
      {"C1,a,en,UTC,,,,fax\n", "preferences.planned_maintenance",
       "'fax' is not one of sms;email, sms, email, none (or empty: both)"},
      {"C1,a,en,UTC,,,,sms;sms\n", "preferences.planned_maintenance",
       "'sms;sms' is not one of sms;email, sms, email, none (or empty: both)"},
  };
  for (const auto& c : cases) {
    auto r = Read(h + c.row + "C2,b,ar,Asia/Riyadh,electricity/riyadh,,,sms\n");
    ASSERT_EQ(r.error, "") << c.row;
    ASSERT_EQ(r.rows.size(), 2u) << c.row;
    const CustomerRow& bad = r.rows[0];
    EXPECT_EQ(bad.line, 2) << c.row;
    ASSERT_TRUE(bad.problem.has_value()) << c.row;
    EXPECT_EQ(bad.problem->field, c.field) << c.row;
    EXPECT_EQ(bad.problem->reason, c.reason) << c.row;
    v1::Customer only_id;  // sent as a stand-in: the external id alone
    only_id.set_external_id("C1");
    EXPECT_EQ(bad.customer.SerializeAsString(), only_id.SerializeAsString()) << c.row;
    const CustomerRow& good = r.rows[1];
    EXPECT_EQ(good.line, 3) << c.row;
    EXPECT_FALSE(good.problem.has_value()) << c.row;
    EXPECT_EQ(good.customer.name(), "b") << c.row;
    EXPECT_EQ(good.customer.services(0).region(), "riyadh") << c.row;
  }
}

TEST(CustomerCsv, ARejectedRowKeepsAnExternalIdAfterTheBadColumnAndNamesTheFirstBadOne) {
  auto r = Read(
      "banking_changes,services,name,external_id,language,time_zone\n"
      "fax,electricity,Ali,C7,ar,Asia/Riyadh\n"
      ",,No Id,,en,UTC\n"
      ",,,,en,UTC\n");
  ASSERT_EQ(r.error, "");
  ASSERT_EQ(r.rows.size(), 3u);
  ASSERT_TRUE(r.rows[0].problem.has_value());
  EXPECT_EQ(r.rows[0].problem->field, "preferences.banking_changes");  // the first bad column of the record
  EXPECT_EQ(r.rows[0].customer.external_id(), "C7");
  EXPECT_EQ(r.rows[0].customer.name(), "");
  EXPECT_FALSE(r.rows[0].customer.has_preferences());
  EXPECT_FALSE(r.rows[1].problem.has_value());  // a missing id or name is the intake's to reject
  EXPECT_EQ(r.rows[2].line, 4);
}

TEST(CustomerCsv, AMalformedRecordAfterARejectedRowStillStops) {
  const std::string h = "external_id,name,language,time_zone,services\n";
  auto quote = Read(h + "C1,a,en,UTC,electricity\nC2,b,en,UTC,water/jeddah\nC3,\"open,en,UTC,x/y\n");
  ASSERT_EQ(quote.rows.size(), 2u);
  EXPECT_TRUE(quote.rows[0].problem.has_value());
  EXPECT_EQ(quote.error, "customers.csv:4: unterminated quoted field");
  auto count = Read(h + "C1,a,en,UTC,electricity\nC2,b,en,UTC\n");
  ASSERT_EQ(count.rows.size(), 1u);
  EXPECT_TRUE(count.rows[0].problem.has_value());
  EXPECT_EQ(count.error, "customers.csv:3: 4 fields, expected 5 (as the header)");
}

TEST(CustomerJsonl, ReadsProtoJsonLines) {
  auto r = Read(
      "{\"external_id\":\"C1\",\"name\":\"A\",\"language\":\"en\",\"time_zone\":\"UTC\","
      "\"services\":[{\"service\":\"electricity\",\"region\":\"riyadh\"}],\"id\":\"7\"}\n"
      "\n"
      "{\"externalId\":\"C2\",\"preferences\":{\"plannedMaintenance\":{}}}\n",
      CustomerFormat::kJsonl);
  ASSERT_EQ(r.error, "");
  ASSERT_EQ(r.rows.size(), 2u);
  EXPECT_FALSE(r.rows[0].problem.has_value());
  EXPECT_EQ(r.rows[0].customer.services(0).region(), "riyadh");
  EXPECT_EQ(r.rows[0].customer.id(), 0);  // output only: dropped
  EXPECT_EQ(r.rows[1].line, 3);
  EXPECT_TRUE(r.rows[1].customer.preferences().has_planned_maintenance());  // present, both off
}

TEST(CustomerJsonl, JsonThatIsNotACustomerIsARejectedRowWithTheParsersField) {
  struct Case {
    std::string line;
    std::string external_id;
    std::string field;
    std::string reason;
  };
  const Case cases[] = {
      {R"({"external_id":"C1","fax":"1"})", "C1", "fax", "unknown field"},
      {R"({"externalId":"C1","services":[{"service":"e","regio":"r"}]})", "C1", "services[0].regio", "unknown field"},
      {R"({"external_id":"C1","services":[{"service":"e"},{"service":7}]})", "C1", "services[1].service",
       "invalid value 7 for type TYPE_STRING"},
      {R"({"external_id":5})", "", "external_id", "invalid value 5 for type TYPE_STRING"},
      {R"([{"external_id":"C1"}])", "", "line", "not a JSON object"},
  };
  for (const auto& c : cases) {
    auto r = Read(c.line + "\n{\"external_id\":\"C2\"}\n", CustomerFormat::kJsonl);
    ASSERT_EQ(r.error, "") << c.line;
    ASSERT_EQ(r.rows.size(), 2u) << c.line;
    ASSERT_TRUE(r.rows[0].problem.has_value()) << c.line;
    EXPECT_EQ(r.rows[0].line, 1);
    EXPECT_EQ(r.rows[0].problem->field, c.field) << c.line;
    EXPECT_EQ(r.rows[0].problem->reason, c.reason) << c.line;
    v1::Customer only_id;
    only_id.set_external_id(c.external_id);
    EXPECT_EQ(r.rows[0].customer.SerializeAsString(), only_id.SerializeAsString()) << c.line;
    EXPECT_FALSE(r.rows[1].problem.has_value()) << c.line;
    EXPECT_EQ(r.rows[1].customer.external_id(), "C2") << c.line;
  }
}

TEST(CustomerJsonl, ALineThatIsNotJsonStopsNamingTheLine) {
  for (const std::string bad : {"{\"external_id\": 5,", "{\"external_id\":\"C1\"} x", "{'a':1}"}) {
    auto r = Read("{\"external_id\":\"C1\"}\n" + bad + "\n{\"external_id\":\"C3\"}\n", CustomerFormat::kJsonl);
    EXPECT_EQ(r.rows.size(), 1u) << bad;
    EXPECT_EQ(r.error.rfind("customers.csv:2: not JSON (at byte ", 0), 0u) << r.error;
  }
}

TEST(CustomerFiles, ExportThenReadGivesTheSameCustomers) {
  v1::Customer c;
  c.set_id(42);
  c.set_external_id("C,1");
  c.set_name("Line \"one\"\nline two");
  c.set_language("ar");
  c.set_time_zone("Asia/Riyadh");
  c.set_phone("+966500000001");
  auto* s = c.add_services();
  s->set_service("electricity");
  s->set_region("riyadh");
  c.add_accounts("SA0380000000608010167519");
  auto* b = c.add_beneficiaries();
  b->set_iban("SA4420000001234567891234");
  b->set_nickname("Rent = flat");
  c.mutable_preferences()->mutable_unplanned_outages()->set_sms(true);
  c.mutable_preferences()->mutable_unplanned_outages()->set_email(true);
  c.mutable_preferences()->mutable_planned_maintenance();  // none
  c.mutable_preferences()->mutable_banking_changes()->set_email(true);
  for (CustomerFormat format : {CustomerFormat::kCsv, CustomerFormat::kJsonl}) {
    std::ostringstream out;
    auto writer = CustomerWriter::Open(out, format);
    ASSERT_TRUE(writer->Write(c).ok());
    ASSERT_TRUE(writer->Write(c).ok());
    auto r = Read(out.str(), format);
    ASSERT_EQ(r.error, "") << out.str();
    ASSERT_EQ(r.rows.size(), 2u);
    v1::Customer want = c;
    want.clear_id();
    EXPECT_EQ(r.rows[1].customer.SerializeAsString(), want.SerializeAsString()) << out.str();
  }
}

TEST(CustomerFiles, CsvRefusesWhatItCannotCarry) {
  v1::Customer c;
  c.set_external_id("C1");
  c.add_beneficiaries()->set_iban("SA44;x");
  std::ostringstream out;
  EXPECT_EQ(CustomerWriter::Open(out, CustomerFormat::kCsv)->Write(c).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(CustomerWriter::Open(out, CustomerFormat::kJsonl)->Write(c).ok());
}

TEST(CustomerFiles, FormatComesFromTheFlagOrTheExtension) {
  EXPECT_EQ(*ChooseCustomerFormat("", "a.csv"), CustomerFormat::kCsv);
  EXPECT_EQ(*ChooseCustomerFormat("", "-"), CustomerFormat::kCsv);
  EXPECT_EQ(*ChooseCustomerFormat("", "a.JSONL"), CustomerFormat::kJsonl);
  EXPECT_EQ(*ChooseCustomerFormat("", "a.ndjson"), CustomerFormat::kJsonl);
  EXPECT_EQ(*ChooseCustomerFormat("jsonl", "a.csv"), CustomerFormat::kJsonl);
  EXPECT_FALSE(ChooseCustomerFormat("", "a.txt").ok());
  EXPECT_FALSE(ChooseCustomerFormat("xml", "a.csv").ok());
}

TEST(CustomerFiles, ParsesChannels) {
  EXPECT_FALSE(ParseChannels("")->has_value());
  EXPECT_TRUE((*ParseChannels("email;sms"))->sms());
  EXPECT_TRUE((*ParseChannels("email; sms"))->email());
  EXPECT_FALSE((*ParseChannels("none"))->sms());
  EXPECT_FALSE((*ParseChannels("none"))->email());
  EXPECT_FALSE(ParseChannels("sms;none").ok());
}

}  // namespace
}  // namespace forewarn::cli
