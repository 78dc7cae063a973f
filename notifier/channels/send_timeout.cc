#include "notifier/channels/send_timeout.h"

#include <algorithm>

namespace forewarn {

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
