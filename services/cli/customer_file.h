#pragma once

// Customer files, as `forewarn customers import` reads them and `customers
// export` writes them: CSV with a header (RFC 4180) or JSON lines (each line
// the proto3 JSON of forewarn.v1.Customer).
//
// CSV columns (header names, any order): external_id, name, language,
// time_zone (these four required), phone, email, services
// ("electricity/riyadh;water/riyadh"), accounts (IBANs, ';'-separated),
// beneficiaries ("IBAN" or "IBAN=nickname", ';'-separated), and one per
// notice category, unplanned_outages, planned_maintenance, banking_changes:
// "sms;email", "sms", "email", "none", or empty (both channels); assets
// ("electricity:TX-1;water:W-2", SERVICE:ASSET), latitude and longitude
// (decimal degrees; both columns or neither, both values or neither).
//
// UTF-8 only (a byte-order mark is skipped); fields may be quoted, with ""
// for a quote and line breaks inside quotes; lines end in LF or CRLF.
//
// Two kinds of errors. A malformed file (a bad header, broken quoting, bytes
// that are not UTF-8, a CSV record with the wrong number of fields, a JSON
// line that is not JSON) stops the reader with an error naming the input
// and the line where the record starts ("customers.csv:1234: unterminated
// quoted field"). A well-formed record whose value cannot be a Customer
// field (services "electricity" without a region, channels "fax", a JSON
// line with an unknown field) is one rejected row: the reader returns it
// with its problem and goes on.

#include <cstdint>
#include <istream>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "forewarn/v1/directory.pb.h"

namespace forewarn::cli {

enum class CustomerFormat { kCsv, kJsonl };

// --format ("csv", "jsonl"; "" to choose by the extension: .csv, .jsonl or
// .ndjson; "-" is CSV). INVALID_ARGUMENT naming --format otherwise.
absl::StatusOr<CustomerFormat> ChooseCustomerFormat(const std::string& flag, const std::string& path);

// The CSV columns, in the order export writes them.
const std::vector<std::string>& CustomerCsvColumns();

// Why a well-formed record is not a Customer: the field as the intake names
// fields in its rejections ("services[1]", "preferences.planned_maintenance",
// "beneficiaries[0]"; "line" when no field can be told) and the reason.
struct RowProblem {
  std::string field;
  std::string reason;
};

// One customer of a file and the line its record starts on (from 1). With a
// problem, the row is rejected and `customer` holds only its external_id
// (when the record has one).
struct CustomerRow {
  int64_t line = 0;
  v1::Customer customer;
  std::optional<RowProblem> problem;
};

// Reads customers one at a time, keeping nothing of the rows before.
class CustomerReader {
 public:
  virtual ~CustomerReader() = default;
  // CSV: reads and checks the header (unknown, duplicate or missing
  // columns name themselves). `source` names the input in messages.
  static absl::StatusOr<std::unique_ptr<CustomerReader>> Open(std::istream& in, CustomerFormat format,
                                                               std::string source);
  // The next row into *row: true (a customer, or a rejected row with its
  // problem), or false at the end of the input. INVALID_ARGUMENT
  // "SOURCE:LINE: ..." for a malformed record: the file cannot be read on.
  virtual absl::StatusOr<bool> Next(CustomerRow* row) = 0;
  // Bytes consumed so far (progress against the file's size).
  virtual int64_t bytes_read() const = 0;
};

// Writes customers in the format CustomerReader reads, so that a file
// exported and imported again is unchanged.
class CustomerWriter {
 public:
  virtual ~CustomerWriter() = default;
  // CSV: writes the header.
  static std::unique_ptr<CustomerWriter> Open(std::ostream& out, CustomerFormat format);
  // INVALID_ARGUMENT when CSV cannot hold the customer (a separator inside
  // a beneficiary's nickname or a code): export it as JSON lines instead.
  virtual absl::Status Write(const v1::Customer& customer) = 0;
};

// The records of another CSV file with a header, read as CustomerReader
// reads CSV (RFC 4180, UTF-8, errors "SOURCE:LINE: ..."): `forewarn assets
// import`.
class CsvTable {
 public:
  CsvTable(std::istream& in, std::string source);
  ~CsvTable();
  // Reads the header: its names must be among `known`, none twice, the
  // first `required` of `known` present.
  absl::Status ReadHeader(const std::vector<std::string>& known, size_t required);
  // The next record's fields in `known` order ("" for a column the header
  // lacks) and the line it starts on; false at the end.
  absl::StatusOr<bool> Next(std::vector<std::string>* fields, int64_t* line);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A category's channels as the files and the CLI write them: "sms;email"
// (either order), "sms", "email" or "none"; "" is std::nullopt (unset: both).
// INVALID_ARGUMENT for anything else.
absl::StatusOr<std::optional<v1::ChannelSet>> ParseChannels(std::string_view text);

// One CSV field, quoted when it holds a comma, a quote, a line break or
// leading or trailing spaces.
std::string CsvField(const std::string& value);

}  // namespace forewarn::cli
