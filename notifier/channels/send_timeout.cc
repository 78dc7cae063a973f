#include "notifier/channels/send_timeout.h"

#include <algorithm>

namespace forewarn {

void ApplyConnectOptions(CURL* h, std::chrono::milliseconds connect_timeout, bool verify_peer,
                         const std::string& ca_file, char* error_buffer) {
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(std::max<int64_t>(1, connect_timeout.count())));
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, verify_peer ? 1L : 0L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, verify_peer ? 2L : 0L);
  if (!ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, ca_file.c_str());
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_buffer);
}

void SendTimeout::Install(CURL* h) {
  curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, &SendTimeout::OnProgress);
  curl_easy_setopt(h, CURLOPT_XFERINFODATA, this);
}

void SendTimeout::Start(std::chrono::milliseconds limit) {
  last_ = Clock::now();
  counted_ = Clock::duration::zero();
  limit_ = limit;
  expired_ = false;
}

CURLcode SendTimeout::Result(CURLcode rc) const {
  return rc == CURLE_ABORTED_BY_CALLBACK && expired_ ? CURLE_OPERATION_TIMEDOUT : rc;
}

int SendTimeout::OnProgress(void* self, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* t = static_cast<SendTimeout*>(self);
  const Clock::time_point now = Clock::now();
  t->counted_ += std::min<Clock::duration>(now - t->last_, kMaxStep);
  t->last_ = now;
  t->expired_ = t->counted_ > t->limit_;
  return t->expired_ ? 1 : 0;
}

}  // namespace forewarn
