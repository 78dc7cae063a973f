#pragma once

// Internal to the channels: only .cc files in notifier/channels include this.

#include <curl/curl.h>

#include <chrono>
#include <string>

namespace forewarn {

// A send's time limit that counts only the time this process ran.
//
// libcurl's own CURLOPT_TIMEOUT_MS is checked against the wall clock before
// the transfer reads what arrived: a worker stopped mid-send (SIGSTOP, a VM
// pause) and resumed later finds its request "timed out" although the
// provider's answer is waiting in the socket, so an accepted message looks
// ambiguous and is sent again. This limit is checked from libcurl's progress
// callback (called as data moves and about once a second otherwise), and a
// gap between two calls counts for at most kMaxStep: the time the process
// was stopped does not use up the limit, and the waiting answer is read.
// The connection options every provider's handle shares: a connect time
// limit (the send's own limit is a SendTimeout), no signals, server
// certificate checks (`ca_file` empty: the system's CAs) and the error
// buffer.
void ApplyConnectOptions(CURL* h, std::chrono::milliseconds connect_timeout, bool verify_peer,
                         const std::string& ca_file, char* error_buffer);

class SendTimeout {
 public:
  static constexpr std::chrono::seconds kMaxStep{2};

  // Makes this the progress callback of `h` (once per handle); `h` must not
  // also have CURLOPT_TIMEOUT_MS for its sends.
  void Install(CURL* h);
  // Before each transfer on the handle.
  void Start(std::chrono::milliseconds limit);
  // After a transfer: maps libcurl's "aborted by callback" to the timeout
  // it stands for (CURLE_OPERATION_TIMEDOUT), so errors classify as before.
  CURLcode Result(CURLcode rc) const;
  bool expired() const { return expired_; }

 private:
  using Clock = std::chrono::steady_clock;
  static int OnProgress(void* self, curl_off_t, curl_off_t, curl_off_t, curl_off_t);

  Clock::time_point last_;
  Clock::duration counted_{};
  Clock::duration limit_{};
  bool expired_ = false;
};

}  // namespace forewarn
