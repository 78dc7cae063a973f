// The customer file reader and writer of `forewarn customers import|export`:
// CSV (RFC 4180) and JSON lines, every error naming its line.
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
            "email, services, accounts, beneficiaries, unplanned_outages, planned_maintenance, banking_changes)");
  EXPECT_EQ(Read("external_id,name,language,time_zone,name\n").error, "customers.csv:1: duplicate column 'name'");
  EXPECT_EQ(Read("external_id,name,language\n").error, "customers.csv:1: missing column 'time_zone'");
}

TEST(CustomerCsv, ColumnFormatErrorsNameLineAndColumn) {
  const std::string h = "external_id,name,language,time_zone,services,accounts,beneficiaries,banking_changes\n";
  struct Case {
    std::string row;
    std::string error;
  };
  const Case cases[] = {
      {"C1,a,en,UTC,electricity,,,\n",
       "customers.csv:2: column services: 'electricity' is not SERVICE/REGION (e.g. electricity/riyadh)"},
      {"C1,a,en,UTC,/riyadh,,,\n", "customers.csv:2: column services: '/riyadh' is not SERVICE/REGION (e.g. "
                                   "electricity/riyadh)"},
      {"C1,a,en,UTC,,SA03;;SA44,,\n", "customers.csv:2: column accounts: an empty IBAN between ';'"},
      {"C1,a,en,UTC,,,=Mum,\n", "customers.csv:2: column beneficiaries: '=Mum' is not IBAN or IBAN=nickname"},
      {"C1,a,en,UTC,,,,fax\n",
       "customers.csv:2: column banking_changes: 'fax' is not one of sms;email, sms, email, none (or empty: both)"},
      {"C1,a,en,UTC,,,,sms;sms\n",
       "customers.csv:2: column banking_changes: 'sms;sms' is not one of sms;email, sms, email, none (or empty: "
       "both)"},
  };
  for (const auto& c : cases) EXPECT_EQ(Read(h + c.row).error, c.error) << c.row;
}

TEST(CustomerJsonl, ReadsProtoJsonLinesAndNamesABadLine) {
  auto r = Read(
      "{\"external_id\":\"C1\",\"name\":\"A\",\"language\":\"en\",\"time_zone\":\"UTC\","
      "\"services\":[{\"service\":\"electricity\",\"region\":\"riyadh\"}],\"id\":\"7\"}\n"
      "\n"
      "{\"externalId\":\"C2\",\"preferences\":{\"plannedMaintenance\":{}}}\n",
      CustomerFormat::kJsonl);
  ASSERT_EQ(r.error, "");
  ASSERT_EQ(r.rows.size(), 2u);
  EXPECT_EQ(r.rows[0].customer.services(0).region(), "riyadh");
  EXPECT_EQ(r.rows[0].customer.id(), 0);  // output only: dropped
  EXPECT_EQ(r.rows[1].line, 3);
  EXPECT_TRUE(r.rows[1].customer.preferences().has_planned_maintenance());  // present, both off
  auto bad = Read("{\"external_id\":\"C1\"}\n{\"external_id\": 5,\n", CustomerFormat::kJsonl);
  EXPECT_EQ(bad.error.rfind("customers.csv:2: not a forewarn.v1.Customer in JSON: ", 0), 0u) << bad.error;
  auto unknown = Read("{\"fax\":\"1\"}\n", CustomerFormat::kJsonl);
  EXPECT_EQ(unknown.error.rfind("customers.csv:1: not a forewarn.v1.Customer in JSON: ", 0), 0u) << unknown.error;
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
