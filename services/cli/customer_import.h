#pragma once

// forewarn customers import: a customer file streamed through
// CustomerDirectory.UpsertCustomers.
//
// A writer thread reads the file and sends batches of --batch-size rows,
// each row's ref its line number, with at most --window batches unanswered;
// the calling thread reads each BatchResult as it arrives, appends its
// rejected rows to the report file and redraws the progress. Nothing is kept
// per row beyond the batches in flight, so memory stays flat for any size of
// file.
//
// A row the reader rejects (a value that cannot be a Customer field) does
// not stop the import: it is sent in its batch as a stand-in holding only
// its external id, which the intake rejects (so the counts all come from the
// intake's BatchResults) and, in a full sync, counts as present (so the
// customer is not erased); the report gives the reader's field and reason.

#include <string>

#include "services/cli/session.h"

namespace forewarn::cli {

struct ImportFlags {
  std::string path;    // "-": standard input
  std::string format;  // "", "csv", "jsonl"
  int batch_size = 5000;
  int window = 4;
  bool dry_run = false;
  bool delete_missing = false;
  std::string report;  // "": <input>.rejected.csv, or rejected.csv for stdin
};

// The report file's path for `flags`.
std::string ReportPath(const ImportFlags& flags);

// Runs the import and prints its summary. Exit codes: 0 nothing rejected,
// 1 rows rejected (see the report file), a malformed file (a bad header or
// quoting, not UTF-8, a wrong number of fields, a line that is not JSON:
// nothing more is sent; with --delete-missing the stream is cancelled so
// nothing is erased)
// or a failed stream; 2 bad usage (flags, unreadable file).
int RunImport(Session& session, const ImportFlags& flags);

}  // namespace forewarn::cli
