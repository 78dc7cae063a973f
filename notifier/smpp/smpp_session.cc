#include "notifier/smpp/smpp_session.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>

#include "absl/strings/str_cat.h"
#include "services/core/ports.h"
#include "spdlog/spdlog.h"

namespace forewarn::smpp {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr milliseconds kPollStep{200};
constexpr milliseconds kUnbindWait{1000};
constexpr uint32_t kRespBit = 0x80000000;

bool IsThrottle(uint32_t status) { return status == kThrottled || status == kMessageQueueFull; }

// What a refused submit_sm means for the notice.
absl::Status SubmitError(uint32_t status) {
  const std::string what = StatusName(status);
  switch (status) {
    case kInvalidDestAddr:
    case 0x50:  // ESME_RINVDSTTON
    case 0x51:  // ESME_RINVDSTNPI
      return absl::InvalidArgumentError(absl::StrCat("smpp: the SMSC refused the destination: ", what));
    case kInvalidSourceAddr:
    case 0x48:  // ESME_RINVSRCTON
    case 0x49:  // ESME_RINVSRCNPI
      return ProviderFaultError("config",
                                absl::StrCat("smpp: the SMSC refused the source address (--smpp-source-addr): ", what));
    case 0x04:  // ESME_RINVBNDSTS: the session is not bound (any more)
    case kSystemError:
    case 0x45:  // ESME_RSUBMITFAIL
    case 0x64:  // ESME_RX_T_APPN
    case 0xFF:  // ESME_RUNKNOWNERR
      return absl::UnavailableError(absl::StrCat("smpp: the SMSC failed the submit: ", what));
    default:
      return absl::InvalidArgumentError(absl::StrCat("smpp: the SMSC refused the message: ", what));
  }
}

absl::Status BindError(uint32_t status) {
  const std::string what = StatusName(status);
  if (status == kInvalidPassword || status == kInvalidSystemId || status == kBindFailed) {
    return ProviderFaultError(
        "auth", absl::StrCat("smpp: bind refused: ", what, " (check --smpp-system-id and --smpp-password-file)"));
  }
  return absl::UnavailableError(absl::StrCat("smpp: bind refused: ", what));
}

// A complete PDU taken off the front of `buffer`, if one is there.
std::optional<std::string> ExtractFrame(std::string& buffer, absl::Status* error) {
  if (buffer.size() < kHeaderSize) return std::nullopt;
  const auto h = ParseHeader(buffer);
  if (!h) {
    *error = absl::UnavailableError("smpp: garbage from the SMSC (bad command_length)");
    return std::nullopt;
  }
  if (buffer.size() < h->length) return std::nullopt;
  std::string frame = buffer.substr(0, h->length);
  buffer.erase(0, h->length);
  return frame;
}

// Waits up to `wait` for bytes and appends what came. UNAVAILABLE when the
// connection is closed or broken.
absl::Status Fill(int fd, std::string& buffer, milliseconds wait) {
  pollfd p{fd, POLLIN, 0};
  const int n = ::poll(&p, 1, static_cast<int>(wait.count()));
  if (n < 0 && errno != EINTR) return absl::UnavailableError(absl::StrCat("smpp: poll: ", std::strerror(errno)));
  if (n <= 0) return absl::OkStatus();
  char chunk[8192];
  const ssize_t got = ::recv(fd, chunk, sizeof chunk, 0);
  if (got == 0) return absl::UnavailableError("smpp: the SMSC closed the connection");
  if (got < 0) {
    if (errno == EINTR || errno == EAGAIN) return absl::OkStatus();
    return absl::UnavailableError(absl::StrCat("smpp: read: ", std::strerror(errno)));
  }
  buffer.append(chunk, static_cast<size_t>(got));
  return absl::OkStatus();
}

absl::StatusOr<int> Connect(const std::string& host, int port, milliseconds timeout) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string where = absl::StrCat(host, ":", port);
  if (int rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found); rc != 0) {
    return absl::UnavailableError(absl::StrCat("smpp: cannot resolve ", where, ": ", gai_strerror(rc)));
  }
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> guard(found, &::freeaddrinfo);
  std::string last = "no address";
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
    if (fd < 0) continue;
    int rc = ::connect(fd, a->ai_addr, a->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      int err = ETIMEDOUT;
      socklen_t len = sizeof err;
      if (::poll(&p, 1, static_cast<int>(timeout.count())) == 1) ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      rc = err == 0 ? 0 : -1;
      errno = err;
    }
    if (rc == 0) {
      ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
      return fd;
    }
    last = std::strerror(errno);
    ::close(fd);
  }
  return absl::UnavailableError(absl::StrCat("smpp: cannot connect to ", where, ": ", last));
}

// DELIVERED / UNDELIVERED / EXPIRED of an SMPP message_state (§5.3.2.35);
// nullopt for the states that are not final (ENROUTE, ACCEPTED).
std::optional<ReceiptStatus> StatusOfState(uint8_t state) {
  switch (state) {
    case 2: return ReceiptStatus::kDelivered;
    case 3: return ReceiptStatus::kExpired;
    case 4: case 5: case 7: case 8: return ReceiptStatus::kUndelivered;
    default: return std::nullopt;
  }
}

const char* StateName(uint8_t state) {
  static constexpr const char* kNames[] = {"SCHEDULED", "ENROUTE", "DELIVRD", "EXPIRED", "DELETED",
                                           "UNDELIV",   "ACCEPTD", "UNKNOWN", "REJECTD"};
  return state < 9 ? kNames[state] : "UNKNOWN";
}

}  // namespace

// A send's time limit that counts only the time this process ran: a gap
// between two looks at the clock counts for at most kMaxStep (a process
// stopped and resumed reads the answer that waited for it).
class Session::Deadline {
 public:
  static constexpr milliseconds kMaxStep{2000};
  explicit Deadline(milliseconds limit) : limit_(limit), last_(Clock::now()) {}
  milliseconds Remaining() {
    const auto now = Clock::now();
    counted_ += std::min<Clock::duration>(now - last_, kMaxStep);
    last_ = now;
    return std::max(milliseconds(0), std::chrono::duration_cast<milliseconds>(limit_ - counted_));
  }

 private:
  const milliseconds limit_;
  Clock::time_point last_;
  Clock::duration counted_{};
};

struct Session::Pending {
  uint32_t sequence = 0;
  uint64_t generation = 0;
  ReceiptCombiner::Handle notice;
  int index = 0;
  bool written = false;
  bool done = false;   // answered
  bool lost = false;   // the connection dropped first
  uint32_t status = 0;
  std::string message_id;
};

Session::Session(SessionConfig config) : config_(std::move(config)) {}

Session::~Session() { Stop(); }

void Session::Start() {
  std::lock_guard lock(mu_);
  if (started_) return;
  started_ = true;
  thread_ = std::thread([this] { Run(); });
  receipt_thread_ = std::thread([this] { DispatchReceipts(); });
}

void Session::Stop() {
  {
    std::lock_guard lock(mu_);
    if (!started_ || stopping_) {
      stopping_ = true;
      return;
    }
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  {
    std::lock_guard lock(mu_);
    receipts_closing_ = true;
  }
  cv_.notify_all();
  if (receipt_thread_.joinable()) receipt_thread_.join();
}

absl::Status Session::WaitBound(milliseconds wait) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, wait, [&] { return bound_ || stopping_ || !ProviderFaultReason(last_error_).empty(); });
  if (bound_) return absl::OkStatus();
  return last_error_;
}

Session::Stats Session::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

bool Session::SleepUnlessStopping(milliseconds d) {
  std::unique_lock lock(mu_);
  return !cv_.wait_for(lock, d, [&] { return stopping_; });
}

void Session::Run() {
  milliseconds backoff = config_.reconnect_min;
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) break;
    }
    int fd = -1;
    if (absl::Status s = ConnectAndBind(&fd); !s.ok()) {
      {
        std::lock_guard lock(mu_);
        last_error_ = s;
      }
      cv_.notify_all();
      spdlog::warn("event=smpp_bind_failed retry_in_ms={} status=\"{}\"", backoff.count(), s.ToString());
      if (!SleepUnlessStopping(backoff)) break;
      backoff = std::min(backoff * 2, config_.reconnect_max);
      continue;
    }
    backoff = config_.reconnect_min;
    {
      std::lock_guard lock(mu_);
      fd_ = fd;
      bound_ = true;
      reading_generation_ = ++generation_;
      last_error_ = absl::OkStatus();
      ++stats_.binds;
      throttled_until_ = Clock::now();
    }
    cv_.notify_all();
    spdlog::info("event=smpp_bound host={}:{} system_id={}", config_.host, config_.port, config_.bind.system_id);
    ReadLoop(fd);
    if (!SleepUnlessStopping(config_.reconnect_min)) break;
  }
}

absl::Status Session::ConnectAndBind(int* fd_out) {
  auto fd = Connect(config_.host, config_.port, config_.connect_timeout);
  if (!fd.ok()) return fd.status();
  uint32_t sequence = 0;
  {
    std::lock_guard lock(mu_);
    sequence = next_sequence_ = next_sequence_ % 0x7FFFFFFF + 1;
  }
  auto bind = EncodeBindTransceiver(sequence, config_.bind);
  if (!bind.ok()) {
    ::close(*fd);
    return ProviderFaultError("config", std::string(bind.status().message()));
  }
  absl::Status result = absl::UnavailableError("smpp: no bind_transceiver_resp in time");
  if (::send(*fd, bind->data(), bind->size(), MSG_NOSIGNAL) != static_cast<ssize_t>(bind->size())) {
    result = absl::UnavailableError("smpp: could not send bind_transceiver");
  } else {
    std::string buffer;
    Deadline deadline(config_.connect_timeout);
    while (deadline.Remaining() > milliseconds(0)) {
      absl::Status error = absl::OkStatus();
      auto frame = ExtractFrame(buffer, &error);
      if (!error.ok()) {
        result = error;
        break;
      }
      if (!frame) {
        if (absl::Status s = Fill(*fd, buffer, kPollStep); !s.ok()) {
          result = s;
          break;
        }
        continue;
      }
      const Header h = *ParseHeader(*frame);
      if (h.command_id == kBindTransceiverResp || h.command_id == kGenericNack) {
        result = h.status == kOk && h.command_id == kBindTransceiverResp ? absl::OkStatus() : BindError(h.status);
        break;
      }
    }
  }
  if (!result.ok()) {
    ::close(*fd);
    std::lock_guard lock(mu_);
    ++stats_.bind_failures;
    return result;
  }
  *fd_out = *fd;
  return absl::OkStatus();
}

void Session::ReadLoop(int fd) {
  std::string buffer;
  last_enquire_ = Clock::now();
  enquire_sent_at_.reset();
  std::optional<Clock::time_point> unbind_sent;
  const milliseconds answer_within = std::max(config_.connect_timeout, milliseconds(1000));
  absl::Status why = absl::OkStatus();
  for (;;) {
    absl::Status error = absl::OkStatus();
    bool open = true;
    while (auto frame = ExtractFrame(buffer, &error)) {
      if (!Handle(*frame)) open = false;
    }
    if (!error.ok() || !open) {
      why = error.ok() ? absl::UnavailableError("smpp: unbound") : error;
      break;
    }
    const auto now = Clock::now();
    bool stopping = false;
    uint32_t sequence = 0;
    {
      std::lock_guard lock(mu_);
      stopping = stopping_;
      if ((stopping && !unbind_sent) || (!enquire_sent_at_ && now - last_enquire_ >= config_.enquire_link)) {
        sequence = next_sequence_ = next_sequence_ % 0x7FFFFFFF + 1;
      }
    }
    if (stopping && !unbind_sent) {
      Write(EncodeHeaderOnly(kUnbind, kOk, sequence), reading_generation_);
      unbind_sent = now;
    } else if (sequence != 0) {
      enquire_sequence_ = sequence;
      enquire_sent_at_ = now;
      last_enquire_ = now;
      Write(EncodeHeaderOnly(kEnquireLink, kOk, sequence), reading_generation_);
      std::lock_guard lock(mu_);
      ++stats_.enquire_links_sent;
    }
    if (unbind_sent && now - *unbind_sent > kUnbindWait) break;
    if (enquire_sent_at_ && now - *enquire_sent_at_ > answer_within) {
      why = absl::UnavailableError("smpp: no enquire_link_resp: the connection is dead");
      break;
    }
    // Wake up in time for the next enquire_link.
    const auto next = enquire_sent_at_ ? kPollStep
                                       : std::chrono::ceil<milliseconds>(last_enquire_ + config_.enquire_link - now);
    if (absl::Status s = Fill(fd, buffer, std::clamp(next, milliseconds(1), kPollStep)); !s.ok()) {
      why = s;
      break;
    }
  }
  Disconnected(fd, why);
}

bool Session::Handle(const std::string& pdu) {
  const Header h = *ParseHeader(pdu);
  switch (h.command_id) {
    case kSubmitSmResp:
    case kGenericNack:
      OnSubmitResp(h, pdu);
      return true;
    case kDeliverSm:
      OnDeliverSm(h, pdu);
      return true;
    case kEnquireLink: {
      Write(EncodeHeaderOnly(kEnquireLinkResp, kOk, h.sequence), reading_generation_);
      std::lock_guard lock(mu_);
      ++stats_.enquire_links_answered;
      return true;
    }
    case kEnquireLinkResp:
      if (h.sequence == enquire_sequence_) enquire_sent_at_.reset();
      return true;
    case kUnbind:
      Write(EncodeHeaderOnly(kUnbindResp, kOk, h.sequence), reading_generation_);
      spdlog::warn("event=smpp_unbound_by_smsc");
      return false;
    case kUnbindResp:
      return false;
    default:
      if ((h.command_id & kRespBit) == 0) {
        Write(EncodeHeaderOnly(kGenericNack, kInvalidCommandId, h.sequence), reading_generation_);
      }
      return true;
  }
}

void Session::OnSubmitResp(const Header& h, const std::string& pdu) {
  std::string message_id;
  uint32_t status = h.status;
  if (h.command_id == kSubmitSmResp && status == kOk) {
    auto id = DecodeSubmitSmResp(pdu);
    if (id.ok() && !id->empty()) {
      message_id = *id;
    } else {
      status = kSystemError;  // accepted without an id we could read: cannot be tracked
    }
  } else if (h.command_id == kGenericNack && status == kOk) {
    status = kSystemError;
  }
  std::optional<Receipt> waiting;
  {
    std::lock_guard lock(mu_);
    auto it = pending_.find(h.sequence);
    if (it == pending_.end()) return;  // an enquire_link's nack, or a resp after the caller gave up and it was lost
    Pending& p = *it->second;
    pending_.erase(it);
    p.done = true;
    p.status = status;
    p.message_id = message_id;
    if (status == kOk) {
      waiting = combiner_.Attach(p.notice, p.index, message_id);
      throttle_backoff_ = milliseconds(0);
    } else if (IsThrottle(status)) {
      ++stats_.throttled;
      throttle_backoff_ = std::clamp(throttle_backoff_ * 2, config_.throttle_min, config_.throttle_max);
      throttled_until_ = std::max(throttled_until_, Clock::now() + throttle_backoff_);
    }
  }
  cv_.notify_all();
  if (waiting) QueueInbound({std::move(waiting), 0, 0});
}

void Session::OnDeliverSm(const Header& h, const std::string& pdu) {
  auto d = DecodeDeliverSm(pdu);
  Inbound in{std::nullopt, h.sequence, reading_generation_};
  if (!d.ok()) {
    spdlog::warn("event=smpp_deliver_sm_malformed status=\"{}\"", d.status().ToString());
  } else if (d->is_receipt()) {
    {
      std::lock_guard lock(mu_);
      ++stats_.receipts;
    }
    const std::string& text = d->short_message.empty() ? d->message_payload : d->short_message;
    const auto dlr = ParseDlrText(text);
    const std::string id = d->receipted_message_id.value_or(dlr ? dlr->id : "");
    std::optional<ReceiptStatus> status;
    if (d->message_state) status = StatusOfState(*d->message_state);
    if (!d->message_state && dlr) status = StatusOfStat(dlr->stat);
    if (!id.empty() && status) {
      Receipt part;
      part.status = *status;
      part.source = "smpp";
      part.detail = dlr ? dlr->stat : StateName(*d->message_state);
      if (dlr && dlr->done) part.reported_at = *dlr->done;
      in.receipt = combiner_.OnPart(id, std::move(part));
    } else {
      spdlog::info("event=smpp_receipt_ignored reason={}", id.empty() ? "no message id" : "state not final");
    }
  } else {
    std::lock_guard lock(mu_);
    ++stats_.mo_messages;
    spdlog::info("event=smpp_mo_message bytes={}", d->short_message.size() + d->message_payload.size());
  }
  QueueInbound(std::move(in));
}

void Session::QueueInbound(Inbound in) {
  {
    std::lock_guard lock(mu_);
    inbound_.push_back(std::move(in));
  }
  cv_.notify_all();
}

void Session::DispatchReceipts() {
  for (;;) {
    std::vector<Inbound> batch;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return !inbound_.empty() || receipts_closing_; });
      if (inbound_.empty()) return;
      while (!inbound_.empty() && batch.size() < kMaxReceiptBatch) {
        batch.push_back(std::move(inbound_.front()));
        inbound_.pop_front();
      }
    }
    std::vector<Receipt> receipts;
    for (Inbound& in : batch) {
      if (in.receipt) receipts.push_back(*std::move(in.receipt));
    }
    if (!receipts.empty() && on_receipt_) on_receipt_(std::move(receipts));
    for (const Inbound& in : batch) {
      if (in.sequence != 0) Write(EncodeDeliverSmResp(in.sequence), in.generation);
    }
  }
}

void Session::Disconnected(int fd, const absl::Status& why) {
  bool stopping = false;
  {
    std::lock_guard write_lock(write_mu_);
    std::lock_guard lock(mu_);
    stopping = stopping_;
    bound_ = false;
    fd_ = -1;
    for (auto& [sequence, p] : pending_) p->lost = true;
    pending_.clear();
    if (!stopping_) last_error_ = why;
    ::close(fd);
  }
  cv_.notify_all();
  if (stopping) {
    spdlog::info("event=smpp_unbound");
  } else {
    spdlog::warn("event=smpp_disconnected status=\"{}\"", why.ToString());
  }
}

bool Session::Write(const std::string& bytes, uint64_t generation, Pending* p) {
  std::lock_guard write_lock(write_mu_);
  int fd = -1;
  {
    std::lock_guard lock(mu_);
    if (generation != generation_ || fd_ < 0) return false;
    fd = fd_;
  }
  size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::shutdown(fd, SHUT_RDWR);  // the session thread sees it and reconnects
      return false;
    }
    sent += static_cast<size_t>(n);
  }
  if (p != nullptr) {
    std::lock_guard lock(mu_);
    p->written = true;
  }
  return true;
}

absl::StatusOr<std::shared_ptr<Session::Pending>> Session::Enqueue(const SubmitSm& part,
                                                                   const ReceiptCombiner::Handle& notice, int index,
                                                                   Deadline& deadline) {
  auto bytes = EncodeSubmitSm(1, part);  // the sequence number is set below
  if (!bytes.ok()) return bytes.status();
  auto p = std::make_shared<Pending>();
  p->notice = notice;
  p->index = index;
  {
    std::unique_lock lock(mu_);
    for (;;) {
      if (stopping_) return absl::UnavailableError("smpp: the session is stopping");
      if (!bound_ && !ProviderFaultReason(last_error_).empty()) return last_error_;  // the bind was refused: at once
      const auto now = Clock::now();
      const auto not_before = std::max(throttled_until_, next_submit_at_);
      if (bound_ && pending_.size() < static_cast<size_t>(config_.window) && now >= not_before) break;
      const milliseconds left = deadline.Remaining();
      if (left <= milliseconds(0)) {
        if (!bound_) return last_error_.ok() ? absl::UnavailableError("smpp: not bound") : last_error_;
        return absl::UnavailableError(now < throttled_until_ ? "smpp: throttled by the SMSC past the send time limit"
                                                            : "smpp: the submit window stayed full past the send time limit");
      }
      auto wait = std::min(left, kPollStep);
      if (bound_ && now < not_before) wait = std::min(wait, std::chrono::ceil<milliseconds>(not_before - now));
      cv_.wait_for(lock, wait);
    }
    if (config_.throughput > 0) {
      const auto spacing = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1.0 / config_.throughput));
      next_submit_at_ = std::max(next_submit_at_, Clock::now()) + spacing;
    }
    p->sequence = next_sequence_ = next_sequence_ % 0x7FFFFFFF + 1;
    p->generation = generation_;
    pending_[p->sequence] = p;
  }
  for (int i = 0; i < 4; ++i) (*bytes)[12 + i] = static_cast<char>((p->sequence >> (24 - 8 * i)) & 0xFF);
  Write(*bytes, p->generation, p.get());  // a failed write shows as a lost connection
  return p;
}

absl::Status Session::Await(const std::shared_ptr<Pending>& p, Deadline& deadline) {
  std::unique_lock lock(mu_);
  while (!p->done && !p->lost) {
    const milliseconds left = deadline.Remaining();
    if (left <= milliseconds(0)) {
      return AmbiguousSendError("smpp: no submit_sm_resp within the send time limit");
    }
    cv_.wait_for(lock, std::min(left, kPollStep));
  }
  if (p->done) return absl::OkStatus();
  if (p->written) return AmbiguousSendError("smpp: the connection dropped before the submit_sm_resp");
  return last_error_.ok() ? absl::UnavailableError("smpp: the connection dropped") : last_error_;
}

absl::StatusOr<std::string> Session::SubmitParts(const std::vector<SubmitSm>& parts,
                                                 const ReceiptCombiner::Handle& notice, Deadline& deadline,
                                                 bool* maybe_accepted) {
  std::vector<std::shared_ptr<Pending>> inflight;
  for (size_t i = 0; i < parts.size(); ++i) {
    auto p = Enqueue(parts[i], notice, static_cast<int>(i), deadline);
    if (!p.ok()) return Failed(inflight, p.status(), maybe_accepted);
    inflight.push_back(*std::move(p));
  }
  for (size_t i = 0; i < parts.size(); ++i) {
    for (;;) {
      if (absl::Status s = Await(inflight[i], deadline); !s.ok()) return Failed(inflight, s, maybe_accepted);
      const uint32_t status = inflight[i]->status;
      if (status == kOk) break;
      if (!IsThrottle(status)) return Failed(inflight, SubmitError(status), maybe_accepted);
      auto again = Enqueue(parts[i], notice, static_cast<int>(i), deadline);
      if (!again.ok()) return Failed(inflight, again.status(), maybe_accepted);
      inflight[i] = *std::move(again);
    }
  }
  return inflight[0]->message_id;
}

absl::Status Session::Failed(const std::vector<std::shared_ptr<Pending>>& inflight, absl::Status s,
                             bool* maybe_accepted) {
  std::lock_guard lock(mu_);
  for (const auto& p : inflight) {
    if ((p->done && p->status == kOk) || (p->written && !p->done)) *maybe_accepted = true;
  }
  return s;
}

absl::StatusOr<std::string> Session::SubmitNotice(const std::vector<SubmitSm>& parts) {
  if (parts.empty()) return absl::InvalidArgumentError("smpp: nothing to submit");
  Deadline deadline(config_.timeout);
  const ReceiptCombiner::Handle notice = combiner_.Begin(static_cast<int>(parts.size()), absl::Now());
  bool maybe_accepted = false;
  auto id = SubmitParts(parts, notice, deadline, &maybe_accepted);
  if (id.ok()) return id;
  combiner_.Abandon(notice);
  const absl::Status& s = id.status();
  // A transient failure after a part may have been accepted: the retry
  // sends every part again, so the outcome is unknown.
  if (maybe_accepted && IsRetryable(s) && !IsAmbiguousSend(s) &&
      ProviderFaultReason(s).empty()) {
    return AmbiguousSendError(absl::StrCat(s.message(), " (after other parts of the message were submitted)"));
  }
  return s;
}

}  // namespace forewarn::smpp
