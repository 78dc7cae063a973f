#include "services/cli/customer_import.h"

#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "services/cli/customer_file.h"

namespace forewarn::cli {
namespace {

using UpsertStream = grpc::ClientReaderWriterInterface<v1::UpsertCustomersRequest, v1::UpsertCustomersResponse>;

// A row the file reader rejected (its record was well-formed, a value was
// not). It travels in its batch as a stand-in holding only its external id,
// so that the intake counts it as rejected and, in a full sync, as present;
// the report gives this reason instead of the intake's ("name: is required").
struct LocalRejection {
  int64_t line = 0;
  std::string external_id;
  RowProblem problem;
};

// Rejected rows, "line,external_id,field,reason", written as they arrive;
// the file is created with the first one.
class RejectReport {
 public:
  explicit RejectReport(std::string path) : path_(std::move(path)) {}

  bool Add(int64_t line, const std::string& external_id, const std::string& field, const std::string& reason) {
    if (!out_) {
      out_ = std::make_unique<std::ofstream>(path_, std::ios::trunc);
      if (!*out_) return false;
      *out_ << "line,external_id,field,reason\n";
    }
    *out_ << line << "," << CsvField(external_id) << "," << CsvField(field) << "," << CsvField(reason) << "\n";
    out_->flush();
    return static_cast<bool>(*out_);
  }

  bool created() const { return out_ != nullptr; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::unique_ptr<std::ofstream> out_;
};

// On a terminal, one line redrawn in place (rows, rows/s, a bar and the ETA
// when the size is known); otherwise a plain line every 5 s.
class Progress {
 public:
  Progress(std::ostream& err, bool tty, int64_t total_bytes)
      : err_(err), tty_(tty), total_(total_bytes), start_(absl::Now()) {}

  void Update(int64_t rows, int64_t bytes) {
    const absl::Time now = absl::Now();
    if (now - last_ < (tty_ ? absl::Milliseconds(200) : absl::Seconds(5))) return;
    last_ = now;
    const double secs = std::max(absl::ToDoubleSeconds(now - start_), 1e-3);
    std::string line = absl::StrFormat("%d rows  %.0f rows/s", rows, rows / secs);
    if (total_ > 0 && bytes > 0) {
      const double done = std::min(1.0, static_cast<double>(bytes) / static_cast<double>(total_));
      const int filled = static_cast<int>(done * 20);
      const int64_t eta = static_cast<int64_t>(secs * (1 - done) / std::max(done, 1e-6));
      line = absl::StrFormat("[%s%s] %3.0f%%  %s  ETA %d:%02d", std::string(filled, '#'),
                             std::string(20 - filled, '.'), done * 100, line, eta / 60, eta % 60);
    }
    if (tty_) {
      err_ << "\r" << line << "\033[K" << std::flush;
      drawn_ = true;
    } else {
      err_ << "progress: " << line << "\n";
    }
  }

  void Clear() {
    if (drawn_) err_ << "\r\033[K" << std::flush;
  }

  double elapsed_seconds() const { return absl::ToDoubleSeconds(absl::Now() - start_); }

 private:
  std::ostream& err_;
  bool tty_;
  int64_t total_;
  absl::Time start_;
  absl::Time last_ = absl::InfinitePast();
  bool drawn_ = false;
};

class Importer {
 public:
  Importer(Session& session, const ImportFlags& flags, CustomerReader& reader, int64_t total_bytes)
      : session_(session),
        flags_(flags),
        reader_(reader),
        report_(ReportPath(flags)),
        progress_(session.err(), isatty(STDERR_FILENO) && &session.err() == &std::cerr, total_bytes) {}

  int Run() {
    auto context = session_.NewContext(/*deadline=*/false);
    std::unique_ptr<UpsertStream> stream = session_.directory().UpsertCustomers(context.get());
    std::thread writer([&] { WriteBatches(*stream, *context); });
    ReadResults(*stream);
    writer.join();
    grpc::Status status = stream->Finish();
    progress_.Clear();
    return Conclude(status);
  }

 private:
  // The writer thread: the file in batches, at most --window unanswered.
  void WriteBatches(UpsertStream& stream, grpc::ClientContext& context) {
    v1::UpsertCustomersRequest req;
    req.set_dry_run(flags_.dry_run);
    req.set_delete_missing(flags_.delete_missing);
    std::vector<LocalRejection> local;  // the batch's rows rejected here
    int64_t batch = 0;
    bool sending = true;
    for (bool more = true; more && sending;) {
      CustomerRow row;
      auto next = reader_.Next(&row);
      if (!next.ok()) {
        input_error_ = next.status();
        break;
      }
      more = *next;
      if (more) {
        if (row.problem) local.push_back({row.line, row.customer.external_id(), *std::move(row.problem)});
        *req.add_customers() = std::move(row.customer);
        req.add_refs(row.line);
        bytes_read_.store(reader_.bytes_read());
      }
      const bool full = req.customers_size() >= flags_.batch_size;
      if (full || !more) {
        req.set_last(!more);  // the intake ends a full sync only on it (possibly an empty request)
        sending = AwaitSlot(batch++, std::move(local)) && stream.Write(req);
        local.clear();
        req.Clear();
      }
    }
    if (!input_error_.ok() && flags_.delete_missing) {
      context.TryCancel();  // not a clean end: nothing is erased
    } else if (sending) {
      stream.WritesDone();
    }
  }

  // Waits for room in the window, then notes the batch's local rejections
  // until its result comes back (before it is sent: the answer may be quick).
  bool AwaitSlot(int64_t batch, std::vector<LocalRejection> local) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return outstanding_ < flags_.window || stream_over_; });
    if (stream_over_) return false;
    ++outstanding_;
    if (!local.empty()) in_flight_.emplace(batch, std::move(local));
    return true;
  }

  // The calling thread: results as they arrive.
  void ReadResults(UpsertStream& stream) {
    v1::UpsertCustomersResponse resp;
    while (stream.Read(&resp)) {
      if (resp.has_summary()) {
        summary_ = resp.summary();
        have_summary_ = true;
        continue;
      }
      std::vector<LocalRejection> local;
      {
        std::lock_guard<std::mutex> lock(mu_);
        --outstanding_;
        if (auto it = in_flight_.find(resp.batch().batch()); it != in_flight_.end()) {
          local = std::move(it->second);
          in_flight_.erase(it);
        }
      }
      cv_.notify_all();
      Absorb(resp.batch(), local);
      progress_.Update(rows_, bytes_read_.load());
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      stream_over_ = true;
    }
    cv_.notify_all();
  }

  void Absorb(const v1::BatchResult& batch, const std::vector<LocalRejection>& local) {
    committed_.set_inserted(committed_.inserted() + batch.inserted());
    committed_.set_updated(committed_.updated() + batch.updated());
    committed_.set_unchanged(committed_.unchanged() + batch.unchanged());
    committed_.set_rejected(committed_.rejected() + batch.rejected());
    rows_ += batch.inserted() + batch.updated() + batch.unchanged() + batch.rejected();
    ++batches_;
    // Both in line order; a stand-in's rejection by the intake gives way to
    // the reason found here, so the report has one line per rejected row.
    size_t k = 0;
    for (const v1::RowError& e : batch.errors()) {
      while (k < local.size() && local[k].line < e.ref()) Report(local[k++]);
      if (k < local.size() && local[k].line == e.ref()) {
        Report(local[k++]);
        continue;
      }
      Report(e.ref(), e.external_id(), e.field(), e.reason());
    }
    while (k < local.size()) Report(local[k++]);
  }

  void Report(const LocalRejection& r) { Report(r.line, r.external_id, r.problem.field, r.problem.reason); }

  void Report(int64_t line, const std::string& external_id, const std::string& field, const std::string& reason) {
    if (!report_.Add(line, external_id, field, reason) && !report_failed_) {
      report_failed_ = true;
      session_.err() << "error: cannot write the report " << report_.path() << "\n";
    }
  }

  int Conclude(const grpc::Status& status) {
    ImportReport result;
    result.summary = have_summary_ ? summary_ : committed_;
    result.summary.set_dry_run(flags_.dry_run);
    result.elapsed_seconds = progress_.elapsed_seconds();
    if (report_.created()) result.report_path = report_.path();
    result.complete = have_summary_ && status.ok() && input_error_.ok();
    // A stream refused before any batch was answered (no access, no intake)
    // has nothing to sum up: only its error is printed.
    if (have_summary_ || batches_ > 0) session_.printer().Print(result);
    if (!input_error_.ok()) {
      session_.err() << "error: " << input_error_.message() << "\n";
      if (flags_.delete_missing) session_.err() << "note: the sync was cancelled: nothing was erased\n";
      session_.err() << "note: batches answered before stay committed; a re-run is idempotent\n";
      return kExitFailed;
    }
    if (!status.ok()) return session_.Fail(status);
    if (report_failed_) return kExitFailed;
    return result.summary.rejected() > 0 ? kExitFailed : 0;
  }

  Session& session_;
  const ImportFlags& flags_;
  CustomerReader& reader_;
  RejectReport report_;
  Progress progress_;
  std::mutex mu_;
  std::condition_variable cv_;
  int outstanding_ = 0;
  std::map<int64_t, std::vector<LocalRejection>> in_flight_;  // by batch: at most --window entries
  bool stream_over_ = false;
  std::atomic<int64_t> bytes_read_{0};
  absl::Status input_error_;  // the writer's; read once it is joined
  v1::ImportSummary summary_, committed_;
  bool have_summary_ = false, report_failed_ = false;
  int64_t rows_ = 0;
  int64_t batches_ = 0;
};

int64_t FileSize(const std::string& path) {
  std::error_code ec;
  if (path == "-" || !std::filesystem::is_regular_file(path, ec)) return -1;
  const auto size = std::filesystem::file_size(path, ec);
  return ec ? -1 : static_cast<int64_t>(size);
}

}  // namespace

std::string ReportPath(const ImportFlags& flags) {
  if (!flags.report.empty()) return flags.report;
  return flags.path == "-" ? "rejected.csv" : flags.path + ".rejected.csv";
}

int RunImport(Session& session, const ImportFlags& flags) {
  auto format = ChooseCustomerFormat(flags.format, flags.path);
  if (!format.ok()) return session.UsageError(std::string(format.status().message()));
  std::ifstream file;
  if (flags.path != "-") {
    file.open(flags.path, std::ios::binary);
    if (!file) return session.UsageError(absl::StrCat("cannot read ", flags.path));
  }
  std::istream& in = flags.path == "-" ? std::cin : file;
  auto reader = CustomerReader::Open(in, *format, flags.path == "-" ? "stdin" : flags.path);
  if (!reader.ok()) {
    session.err() << "error: " << reader.status().message() << "\n";
    return kExitFailed;
  }
  Importer importer(session, flags, **reader, FileSize(flags.path));
  return importer.Run();
}

}  // namespace forewarn::cli
