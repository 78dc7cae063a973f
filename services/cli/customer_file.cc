#include "services/cli/customer_file.h"

#include <algorithm>
#include <charconv>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/util/json_util.h"
#include "nlohmann/json.hpp"

namespace forewarn::cli {
namespace {

// The CSV columns, in CustomerCsvColumns() order.
enum class Column {
  kExternalId, kName, kLanguage, kTimeZone, kPhone, kEmail, kServices, kAccounts, kBeneficiaries,
  kUnplannedOutages, kPlannedMaintenance, kBankingChanges, kAssets, kLatitude, kLongitude,
};
constexpr size_t kRequiredColumns = 4;  // external_id, name, language, time_zone
constexpr absl::string_view kBom = "\xEF\xBB\xBF";

// The index of the first byte of `text` that is not part of well-formed
// UTF-8 (no overlong forms, surrogates or code points past U+10FFFF), or npos.
size_t FirstInvalidUtf8(absl::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const auto b = static_cast<unsigned char>(text[i]);
    if (b < 0x80) {
      ++i;
      continue;
    }
    size_t n = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // the second byte's range
    if (b >= 0xC2 && b <= 0xDF) n = 1;
    else if (b == 0xE0) n = 2, lo = 0xA0;
    else if ((b >= 0xE1 && b <= 0xEC) || b == 0xEE || b == 0xEF) n = 2;
    else if (b == 0xED) n = 2, hi = 0x9F;
    else if (b == 0xF0) n = 3, lo = 0x90;
    else if (b >= 0xF1 && b <= 0xF3) n = 3;
    else if (b == 0xF4) n = 3, hi = 0x8F;
    else return i;
    if (i + n >= text.size()) return i;  // truncated sequence
    for (size_t k = 1; k <= n; ++k) {
      const auto c = static_cast<unsigned char>(text[i + k]);
      if (k == 1 ? (c < lo || c > hi) : (c < 0x80 || c > 0xBF)) return i;
    }
    i += n + 1;
  }
  return absl::string_view::npos;
}

absl::Status LineError(const std::string& source, int64_t line, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(source, ":", line, ": ", message));
}

// Physical lines of the input, without their LF or CRLF, checked to be UTF-8.
class Lines {
 public:
  Lines(std::istream& in, std::string source) : in_(in), source_(std::move(source)) {}

  // The next line into *text: true, false at the end; INVALID_ARGUMENT for
  // bytes that are not UTF-8.
  absl::StatusOr<bool> Next(std::string* text) {
    if (!std::getline(in_, *text)) {
      if (text->empty()) return false;
    }
    ++line_;
    bytes_ += static_cast<int64_t>(text->size()) + (in_.eof() ? 0 : 1);
    if (!text->empty() && text->back() == '\r') text->pop_back();
    if (line_ == 1 && absl::StartsWith(*text, kBom)) text->erase(0, kBom.size());
    if (size_t bad = FirstInvalidUtf8(*text); bad != std::string::npos) {
      return LineError(source_, line_,
                       absl::StrCat("not UTF-8 (byte 0x", absl::Hex(static_cast<unsigned char>((*text)[bad]),
                                                                 absl::kZeroPad2),
                                    " at column ", bad + 1, "); save the file as UTF-8"));
    }
    return true;
  }

  int64_t line() const { return line_; }
  int64_t bytes() const { return bytes_; }
  const std::string& source() const { return source_; }

 private:
  std::istream& in_;
  std::string source_;
  int64_t line_ = 0;
  int64_t bytes_ = 0;
};

// RFC 4180 records over Lines: a quoted field may span lines.
class CsvRecords {
 public:
  explicit CsvRecords(Lines& lines) : lines_(lines) {}

  // The next record's fields and the line it starts on; false at the end.
  // Blank lines are skipped.
  absl::StatusOr<bool> Next(std::vector<std::string>* fields, int64_t* start) {
    std::string text;
    do {
      auto more = lines_.Next(&text);
      if (!more.ok() || !*more) return more;
    } while (text.empty());
    *start = lines_.line();
    fields->clear();
    return Parse(text, *start, fields);
  }

 private:
  enum class State { kFieldStart, kUnquoted, kQuoted, kAfterQuote };

  absl::StatusOr<bool> Parse(std::string text, int64_t start, std::vector<std::string>* fields) {
    std::string field;
    State state = State::kFieldStart;
    for (size_t i = 0;; ++i) {
      if (i == text.size()) {
        if (state != State::kQuoted) break;
        auto more = lines_.Next(&text);  // a line break inside quotes
        if (!more.ok()) return more.status();
        if (!*more) return LineError(lines_.source(), start, "unterminated quoted field");
        field.push_back('\n');
        i = static_cast<size_t>(-1);
        continue;
      }
      const char c = text[i];
      if (state == State::kQuoted) {
        if (c == '"') state = State::kAfterQuote; else field.push_back(c);
      } else if (c == ',') {
        fields->push_back(std::move(field));
        field.clear();
        state = State::kFieldStart;
      } else if (state == State::kAfterQuote && c == '"') {
        field.push_back('"');
        state = State::kQuoted;
      } else if (state == State::kAfterQuote) {
        return FieldError(fields->size(), "a character other than ',' after a closing quote");
      } else if (c == '"' && state == State::kFieldStart) {
        state = State::kQuoted;
      } else if (c == '"') {
        return FieldError(fields->size(), "a quote inside an unquoted field (quote the field and double the quote)");
      } else {
        field.push_back(c);
        state = State::kUnquoted;
      }
    }
    fields->push_back(std::move(field));
    return true;
  }

  absl::Status FieldError(size_t index, absl::string_view what) {
    return LineError(lines_.source(), lines_.line(), absl::StrCat("field ", index + 1, ": ", what));
  }

  Lines& lines_;
};

std::vector<std::string> SplitList(const std::string& value) {
  std::vector<std::string> out;
  if (absl::StripAsciiWhitespace(value).empty()) return out;
  for (absl::string_view item : absl::StrSplit(value, ';')) out.emplace_back(absl::StripAsciiWhitespace(item));
  return out;
}

std::optional<RowProblem> SetServices(const std::string& value, v1::Customer* c) {
  const std::vector<std::string> items = SplitList(value);
  for (size_t i = 0; i < items.size(); ++i) {
    std::pair<std::string, std::string> sr = absl::StrSplit(items[i], absl::MaxSplits('/', 1));
    if (sr.first.empty() || sr.second.empty()) {
      return RowProblem{absl::StrCat("services[", i, "]"),
                        absl::StrCat("'", items[i], "' is not SERVICE/REGION (e.g. electricity/riyadh)")};
    }
    auto* s = c->add_services();
    s->set_service(sr.first);
    s->set_region(sr.second);
  }
  return std::nullopt;
}

std::optional<RowProblem> SetAccounts(const std::string& value, v1::Customer* c) {
  const std::vector<std::string> items = SplitList(value);
  for (size_t i = 0; i < items.size(); ++i) {
    if (items[i].empty()) return RowProblem{absl::StrCat("accounts[", i, "]"), "an empty IBAN between ';'"};
    c->add_accounts(items[i]);
  }
  return std::nullopt;
}

std::optional<RowProblem> SetBeneficiaries(const std::string& value, v1::Customer* c) {
  const std::vector<std::string> items = SplitList(value);
  for (size_t i = 0; i < items.size(); ++i) {
    std::pair<std::string, std::string> b = absl::StrSplit(items[i], absl::MaxSplits('=', 1));
    if (absl::StripAsciiWhitespace(b.first).empty()) {
      return RowProblem{absl::StrCat("beneficiaries[", i, "]"),
                        absl::StrCat("'", items[i], "' is not IBAN or IBAN=nickname")};
    }
    auto* pb = c->add_beneficiaries();
    pb->set_iban(std::string(absl::StripAsciiWhitespace(b.first)));
    pb->set_nickname(std::string(absl::StripAsciiWhitespace(b.second)));
  }
  return std::nullopt;
}

std::optional<RowProblem> SetAssets(const std::string& value, v1::Customer* c) {
  const std::vector<std::string> items = SplitList(value);
  for (size_t i = 0; i < items.size(); ++i) {
    std::pair<std::string, std::string> link = absl::StrSplit(items[i], absl::MaxSplits(':', 1));
    if (link.first.empty() || link.second.empty()) {
      return RowProblem{absl::StrCat("assets[", i, "]"),
                        absl::StrCat("'", items[i], "' is not SERVICE:ASSET (e.g. electricity:TX-1)")};
    }
    auto* l = c->add_assets();
    l->set_service(link.first);
    l->set_asset(link.second);
  }
  return std::nullopt;
}

// latitude and longitude: both empty (no location) or both numbers (the
// range is the intake's to check).
std::optional<RowProblem> SetLocation(const std::string& lat_text, const std::string& lon_text, v1::Customer* c) {
  const absl::string_view lat_in = absl::StripAsciiWhitespace(lat_text), lon_in = absl::StripAsciiWhitespace(lon_text);
  if (lat_in.empty() && lon_in.empty()) return std::nullopt;
  if (lat_in.empty() || lon_in.empty()) {
    return RowProblem{lat_in.empty() ? "location.latitude" : "location.longitude",
                      "latitude and longitude go together (both or neither)"};
  }
  double lat = 0, lon = 0;
  if (!absl::SimpleAtod(lat_in, &lat)) {
    return RowProblem{"location.latitude", absl::StrCat("'", lat_in, "' is not a number")};
  }
  if (!absl::SimpleAtod(lon_in, &lon)) {
    return RowProblem{"location.longitude", absl::StrCat("'", lon_in, "' is not a number")};
  }
  c->mutable_location()->set_latitude(lat);
  c->mutable_location()->set_longitude(lon);
  return std::nullopt;
}

std::optional<RowProblem> SetChannels(const std::string& value, const char* category,
                                      v1::ChannelSet* (v1::Preferences::*field)(), v1::Customer* c) {
  auto set = ParseChannels(value);
  if (!set.ok()) return RowProblem{absl::StrCat("preferences.", category), std::string(set.status().message())};
  if (*set) *(c->mutable_preferences()->*field)() = **set;
  return std::nullopt;
}

// One column's value into *c; the problem when the value cannot be that
// field.
std::optional<RowProblem> SetColumn(Column col, const std::string& value, v1::Customer* c) {
  switch (col) {
    case Column::kExternalId: c->set_external_id(value); break;
    case Column::kName: c->set_name(value); break;
    case Column::kLanguage: c->set_language(value); break;
    case Column::kTimeZone: c->set_time_zone(value); break;
    case Column::kPhone: c->set_phone(value); break;
    case Column::kEmail: c->set_email(value); break;
    case Column::kServices: return SetServices(value, c);
    case Column::kAccounts: return SetAccounts(value, c);
    case Column::kBeneficiaries: return SetBeneficiaries(value, c);
    case Column::kUnplannedOutages:
      return SetChannels(value, "unplanned_outages", &v1::Preferences::mutable_unplanned_outages, c);
    case Column::kPlannedMaintenance:
      return SetChannels(value, "planned_maintenance", &v1::Preferences::mutable_planned_maintenance, c);
    case Column::kBankingChanges:
      return SetChannels(value, "banking_changes", &v1::Preferences::mutable_banking_changes, c);
    case Column::kAssets: return SetAssets(value, c);
    case Column::kLatitude:
    case Column::kLongitude: break;  // together, after every column (SetLocation)
  }
  return std::nullopt;
}

// A rejected row keeps only its external id (the intake still sees it).
void KeepOnlyExternalId(v1::Customer* c) {
  std::string external_id = std::move(*c->mutable_external_id());
  c->Clear();
  c->set_external_id(std::move(external_id));
}

class CsvCustomerReader final : public CustomerReader {
 public:
  CsvCustomerReader(std::istream& in, std::string source) : lines_(in, std::move(source)), records_(lines_) {}

  // Maps the header's names to columns.
  absl::Status ReadHeader() {
    std::vector<std::string> names;
    int64_t line = 0;
    auto any = records_.Next(&names, &line);
    if (!any.ok()) return any.status();
    if (!*any) return LineError(lines_.source(), 1, "empty file: expected a header line");
    const auto& known = CustomerCsvColumns();
    std::vector<std::string> unknown, duplicate;
    std::vector<bool> seen(known.size(), false);
    for (const std::string& name : names) {
      auto it = std::find(known.begin(), known.end(), name);
      if (it == known.end()) {
        unknown.push_back(absl::StrCat("'", name, "'"));
        continue;
      }
      const size_t index = static_cast<size_t>(it - known.begin());
      if (seen[index]) duplicate.push_back(absl::StrCat("'", name, "'"));
      seen[index] = true;
      columns_.push_back(static_cast<Column>(index));
    }
    return CheckHeader(line, unknown, duplicate, seen);
  }

  absl::StatusOr<bool> Next(CustomerRow* row) override {
    std::vector<std::string> fields;
    auto any = records_.Next(&fields, &row->line);
    if (!any.ok() || !*any) return any;
    if (fields.size() != columns_.size()) {
      return LineError(lines_.source(), row->line,
                       absl::StrCat(fields.size(), " fields, expected ", columns_.size(), " (as the header)"));
    }
    row->customer.Clear();
    row->problem.reset();
    std::string lat, lon;
    for (size_t i = 0; i < fields.size(); ++i) {  // every column: the external id may come after a bad one
      if (columns_[i] == Column::kLatitude) lat = fields[i];
      if (columns_[i] == Column::kLongitude) lon = fields[i];
      std::optional<RowProblem> problem = SetColumn(columns_[i], fields[i], &row->customer);
      if (problem && !row->problem) row->problem = std::move(problem);
    }
    if (std::optional<RowProblem> problem = SetLocation(lat, lon, &row->customer); problem && !row->problem) {
      row->problem = std::move(problem);
    }
    if (row->problem) KeepOnlyExternalId(&row->customer);
    return true;
  }

  int64_t bytes_read() const override { return lines_.bytes(); }

 private:
  absl::Status CheckHeader(int64_t line, const std::vector<std::string>& unknown,
                           const std::vector<std::string>& duplicate, const std::vector<bool>& seen) {
    const auto& known = CustomerCsvColumns();
    if (!unknown.empty()) {
      return LineError(lines_.source(), line,
                       absl::StrCat("unknown column", unknown.size() > 1 ? "s " : " ", absl::StrJoin(unknown, ", "),
                                    " (known: ", absl::StrJoin(known, ", "), ")"));
    }
    if (!duplicate.empty()) {
      return LineError(lines_.source(), line, absl::StrCat("duplicate column ", absl::StrJoin(duplicate, ", ")));
    }
    for (size_t i = 0; i < kRequiredColumns; ++i) {
      if (!seen[i]) return LineError(lines_.source(), line, absl::StrCat("missing column '", known[i], "'"));
    }
    const auto lat = static_cast<size_t>(Column::kLatitude), lon = static_cast<size_t>(Column::kLongitude);
    if (seen[lat] != seen[lon]) {
      return LineError(lines_.source(), line,
                       absl::StrCat("column '", known[seen[lat] ? lat : lon], "' needs '", known[seen[lat] ? lon : lat],
                                    "' (both or neither)"));
    }
    return absl::OkStatus();
  }

  Lines lines_;
  CsvRecords records_;
  std::vector<Column> columns_;
};

// A JSON line's problem from the protobuf parser's message: "fax: Cannot
// find field.", "(services[0]) regio: Cannot find field.", "(external_id):
// invalid value 5 for type TYPE_STRING"; "line" when no field is named.
RowProblem JsonProblem(absl::string_view message) {
  std::string field;
  absl::string_view rest = message;
  if (absl::ConsumePrefix(&rest, "(")) {
    const size_t close = rest.find(')');
    if (close == absl::string_view::npos) return {"line", std::string(message)};
    field = std::string(rest.substr(0, close));
    rest.remove_prefix(close + 1);
  }
  absl::ConsumePrefix(&rest, " ");
  if (const size_t colon = rest.find(": "); colon != absl::string_view::npos) {
    const absl::string_view name = rest.substr(0, colon);
    if (!name.empty()) field = field.empty() ? std::string(name) : absl::StrCat(field, ".", name);
    rest.remove_prefix(colon + 2);
  }
  if (field.empty()) field = "line";
  if (rest == "Cannot find field.") return {field, "unknown field"};
  if (rest == "Root element must be a message.") return {field, "not a JSON object"};
  return {field, std::string(rest)};
}

class JsonlCustomerReader final : public CustomerReader {
 public:
  JsonlCustomerReader(std::istream& in, std::string source) : lines_(in, std::move(source)) {}

  absl::StatusOr<bool> Next(CustomerRow* row) override {
    std::string text;
    do {
      auto more = lines_.Next(&text);
      if (!more.ok() || !*more) return more;
    } while (absl::StripAsciiWhitespace(text).empty());
    row->line = lines_.line();
    row->customer.Clear();
    row->problem.reset();
    google::protobuf::util::JsonParseOptions options;
    options.ignore_unknown_fields = false;
    auto status = google::protobuf::util::JsonStringToMessage(text, &row->customer, options);
    if (!status.ok()) return Reject(text, std::string(status.message()), row);
    row->customer.clear_id();  // output only
    return true;
  }

  int64_t bytes_read() const override { return lines_.bytes(); }

 private:
  // A line the parser refused: a malformed file when it is not JSON at all,
  // else a rejected row carrying the external id when the object has one.
  absl::StatusOr<bool> Reject(const std::string& text, absl::string_view message, CustomerRow* row) {
    nlohmann::json doc;
    try {
      doc = nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
      const std::string what = e.what();  // "[json.exception.parse_error.101] parse error at ...: DETAIL"
      const size_t detail = what.find(": ");
      return LineError(lines_.source(), row->line,
                       absl::StrCat("not JSON (at byte ", e.byte, "): ",
                                    detail == std::string::npos ? what : what.substr(detail + 2)));
    }
    row->customer.Clear();
    for (const char* key : {"external_id", "externalId"}) {
      if (doc.is_object() && doc.contains(key) && doc[key].is_string()) {
        row->customer.set_external_id(doc[key].get<std::string>());
        break;
      }
    }
    row->problem = JsonProblem(message);
    return true;
  }

  Lines lines_;
};

bool HasAny(const std::string& s, const char* chars) { return s.find_first_of(chars) != std::string::npos; }

std::string Channels(const v1::ChannelSet& set, bool present) {
  if (!present) return "";
  if (set.sms() && set.email()) return "sms;email";
  if (set.sms()) return "sms";
  if (set.email()) return "email";
  return "none";
}

// The shortest text that reads back as `x`.
std::string Degrees(double x) {
  char text[32];
  const auto end = std::to_chars(text, text + sizeof text, x).ptr;
  return std::string(text, end);
}

// "electricity:TX-1;water:W-2"; false when a code holds a separator.
bool CsvAssets(const v1::Customer& c, std::string* out) {
  std::vector<std::string> items;
  for (const auto& l : c.assets()) {
    if (HasAny(l.service(), ":;") || HasAny(l.asset(), ";") || l.service().empty() || l.asset().empty()) return false;
    items.push_back(absl::StrCat(l.service(), ":", l.asset()));
  }
  *out = absl::StrJoin(items, ";");
  return true;
}

// The ';'-separated lists of one customer; INVALID_ARGUMENT when a value
// holds a separator the list cannot carry.
absl::Status CsvLists(const v1::Customer& c, std::string* services, std::string* accounts,
                      std::string* beneficiaries) {
  auto unfit = [&c](const char* what) {
    return absl::InvalidArgumentError(absl::StrCat("customer ", c.external_id(), ": a ", what,
                                                   " holds a separator CSV cannot carry; export as jsonl"));
  };
  std::vector<std::string> items;
  for (const auto& s : c.services()) {
    if (HasAny(s.service(), "/;") || HasAny(s.region(), ";") || s.service().empty() || s.region().empty()) {
      return unfit("service or region code");
    }
    items.push_back(absl::StrCat(s.service(), "/", s.region()));
  }
  *services = absl::StrJoin(items, ";");
  for (const auto& a : c.accounts()) {
    if (HasAny(a, ";") || a.empty()) return unfit("account IBAN");
  }
  *accounts = absl::StrJoin(c.accounts(), ";");
  items.clear();
  for (const auto& b : c.beneficiaries()) {
    if (HasAny(b.iban(), ";=") || HasAny(b.nickname(), ";") || b.iban().empty()) return unfit("beneficiary");
    items.push_back(b.nickname().empty() ? b.iban() : absl::StrCat(b.iban(), "=", b.nickname()));
  }
  *beneficiaries = absl::StrJoin(items, ";");
  return absl::OkStatus();
}

class CsvCustomerWriter final : public CustomerWriter {
 public:
  explicit CsvCustomerWriter(std::ostream& out) : out_(out) {
    out_ << absl::StrJoin(CustomerCsvColumns(), ",") << "\n";
  }

  absl::Status Write(const v1::Customer& c) override {
    std::string services, accounts, beneficiaries, assets;
    if (absl::Status s = CsvLists(c, &services, &accounts, &beneficiaries); !s.ok()) return s;
    if (!CsvAssets(c, &assets)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "customer ", c.external_id(), ": an asset link holds a separator CSV cannot carry; export as jsonl"));
    }
    const v1::Preferences& p = c.preferences();
    const std::string fields[] = {c.external_id(),
                                  c.name(),
                                  c.language(),
                                  c.time_zone(),
                                  c.phone(),
                                  c.email(),
                                  services,
                                  accounts,
                                  beneficiaries,
                                  Channels(p.unplanned_outages(), p.has_unplanned_outages()),
                                  Channels(p.planned_maintenance(), p.has_planned_maintenance()),
                                  Channels(p.banking_changes(), p.has_banking_changes()),
                                  assets,
                                  c.has_location() ? Degrees(c.location().latitude()) : "",
                                  c.has_location() ? Degrees(c.location().longitude()) : ""};
    for (size_t i = 0; i < std::size(fields); ++i) out_ << (i == 0 ? "" : ",") << CsvField(fields[i]);
    out_ << "\n";
    return absl::OkStatus();
  }

 private:
  std::ostream& out_;
};

class JsonlCustomerWriter final : public CustomerWriter {
 public:
  explicit JsonlCustomerWriter(std::ostream& out) : out_(out) {}

  absl::Status Write(const v1::Customer& c) override {
    v1::Customer copy = c;
    copy.clear_id();  // output only: not part of the import format
    google::protobuf::util::JsonPrintOptions options;
    options.preserve_proto_field_names = true;
    std::string line;
    auto status = google::protobuf::util::MessageToJsonString(copy, &line, options);
    if (!status.ok()) {
      return absl::InternalError(absl::StrCat("customer ", c.external_id(), ": ", std::string(status.message())));
    }
    out_ << line << "\n";
    return absl::OkStatus();
  }

 private:
  std::ostream& out_;
};

}  // namespace

struct CsvTable::Impl {
  Impl(std::istream& in, std::string source) : lines(in, std::move(source)), records(lines) {}
  Lines lines;
  CsvRecords records;
  std::vector<int> column_of;  // per header position: the index in `known`
  size_t known = 0;
};

CsvTable::CsvTable(std::istream& in, std::string source) : impl_(std::make_unique<Impl>(in, std::move(source))) {}
CsvTable::~CsvTable() = default;

absl::Status CsvTable::ReadHeader(const std::vector<std::string>& known, size_t required) {
  std::vector<std::string> names;
  int64_t line = 0;
  auto any = impl_->records.Next(&names, &line);
  if (!any.ok()) return any.status();
  const std::string& source = impl_->lines.source();
  if (!*any) return LineError(source, 1, "empty file: expected a header line");
  std::vector<bool> seen(known.size(), false);
  for (const std::string& name : names) {
    auto it = std::find(known.begin(), known.end(), name);
    if (it == known.end()) {
      return LineError(source, line, absl::StrCat("unknown column '", name, "' (known: ", absl::StrJoin(known, ", "), ")"));
    }
    const auto index = static_cast<size_t>(it - known.begin());
    if (seen[index]) return LineError(source, line, absl::StrCat("duplicate column '", name, "'"));
    seen[index] = true;
    impl_->column_of.push_back(static_cast<int>(index));
  }
  for (size_t i = 0; i < required && i < known.size(); ++i) {
    if (!seen[i]) return LineError(source, line, absl::StrCat("missing column '", known[i], "'"));
  }
  impl_->known = known.size();
  return absl::OkStatus();
}

absl::StatusOr<bool> CsvTable::Next(std::vector<std::string>* fields, int64_t* line) {
  std::vector<std::string> record;
  auto any = impl_->records.Next(&record, line);
  if (!any.ok() || !*any) return any;
  if (record.size() != impl_->column_of.size()) {
    return LineError(impl_->lines.source(), *line,
                     absl::StrCat(record.size(), " fields, expected ", impl_->column_of.size(), " (as the header)"));
  }
  fields->assign(impl_->known, "");
  for (size_t i = 0; i < record.size(); ++i) (*fields)[impl_->column_of[i]] = std::move(record[i]);
  return true;
}

absl::StatusOr<std::optional<v1::ChannelSet>> ParseChannels(std::string_view value_in) {
  const std::string text(absl::StripAsciiWhitespace(absl::string_view(value_in.data(), value_in.size())));
  if (text.empty()) return std::nullopt;
  v1::ChannelSet set;
  if (text == "none") return set;
  for (const std::string& item : SplitList(text)) {
    const bool sms = item == "sms", email = item == "email";
    if ((!sms && !email) || (sms && set.sms()) || (email && set.email())) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", text, "' is not one of sms;email, sms, email, none (or empty: both)"));
    }
    if (sms) set.set_sms(true); else set.set_email(true);
  }
  return set;
}

std::string CsvField(const std::string& value) {
  const bool quote = HasAny(value, ",\"\r\n") ||
                     (!value.empty() && (absl::ascii_isspace(static_cast<unsigned char>(value.front())) ||
                                         absl::ascii_isspace(static_cast<unsigned char>(value.back()))));
  if (!quote) return value;
  std::string out = "\"";
  for (char ch : value) {
    if (ch == '"') out.push_back('"');
    out.push_back(ch);
  }
  out.push_back('"');
  return out;
}

std::unique_ptr<CustomerWriter> CustomerWriter::Open(std::ostream& out, CustomerFormat format) {
  if (format == CustomerFormat::kJsonl) return std::make_unique<JsonlCustomerWriter>(out);
  return std::make_unique<CsvCustomerWriter>(out);
}

absl::StatusOr<CustomerFormat> ChooseCustomerFormat(const std::string& flag, const std::string& path) {
  if (flag == "csv") return CustomerFormat::kCsv;
  if (flag == "jsonl") return CustomerFormat::kJsonl;
  if (!flag.empty()) return absl::InvalidArgumentError(absl::StrCat("--format: '", flag, "' is not csv or jsonl"));
  if (path == "-" || absl::EndsWithIgnoreCase(path, ".csv")) return CustomerFormat::kCsv;
  if (absl::EndsWithIgnoreCase(path, ".jsonl") || absl::EndsWithIgnoreCase(path, ".ndjson")) {
    return CustomerFormat::kJsonl;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("--format: cannot tell the format of '", path, "' (not .csv, .jsonl or .ndjson): give --format"));
}

const std::vector<std::string>& CustomerCsvColumns() {
  static const std::vector<std::string> kColumns = {
      "external_id", "name",     "language",      "time_zone",         "phone",
      "email",       "services", "accounts",      "beneficiaries",     "unplanned_outages",
      "planned_maintenance",     "banking_changes", "assets",        "latitude",          "longitude"};
  return kColumns;
}

absl::StatusOr<std::unique_ptr<CustomerReader>> CustomerReader::Open(std::istream& in, CustomerFormat format,
                                                                     std::string source) {
  if (format == CustomerFormat::kJsonl) return std::make_unique<JsonlCustomerReader>(in, std::move(source));
  auto reader = std::make_unique<CsvCustomerReader>(in, std::move(source));
  if (absl::Status s = reader->ReadHeader(); !s.ok()) return s;
  return reader;
}

}  // namespace forewarn::cli
