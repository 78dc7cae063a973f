#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "notifier/smpp/receipt_combiner.h"
#include "notifier/smpp/smpp_pdu.h"
#include "services/core/receipts.h"

namespace forewarn::smpp {

struct SessionConfig {
  std::string host = "127.0.0.1";
  int port = 0;
  BindRequest bind;
  int window = 10;                           // submit_sm sent and not yet answered, at most
  std::chrono::milliseconds enquire_link{30000};  // keep-alive interval; no answer within it: reconnect
  // A notice's whole submission: waiting for a bound session and a window
  // slot, throttling back-offs and every part's response. Counts only the
  // time this process ran (a paused process reads the answers that waited).
  std::chrono::milliseconds timeout{5000};
  std::chrono::milliseconds connect_timeout{5000};  // TCP connect and bind response
  std::chrono::milliseconds reconnect_min{200};     // doubling to reconnect_max
  std::chrono::milliseconds reconnect_max{10000};
  std::chrono::milliseconds throttle_min{50};       // after ESME_RTHROTTLED / ESME_RMSGQFUL, doubling
  std::chrono::milliseconds throttle_max{2000};
  double throughput = 0;  // submit_sm per second at most, evenly spaced (0: unlimited)
};

// One SMPP 3.4 ESME session over one TCP connection, bound as transceiver.
//
// A session thread connects and binds, reads every PDU, answers the SMSC's
// enquire_link and deliver_sm, sends enquire_link every `enquire_link` and,
// when the connection drops or the bind fails, reconnects after a doubling
// back-off. Callers submit from any thread: at most `window` submit_sm are
// outstanding (callers block while the window is full). A submit answered
// ESME_RTHROTTLED (0x58) or ESME_RMSGQFUL (0x14) pauses every submit for a
// doubling back-off (capped) and is sent again, within the caller's time
// limit. Stop unbinds.
//
// Delivery receipts (deliver_sm with esm_class 0x04) are answered, parsed
// (receipted_message_id / message_state TLVs, else the receipt text) and
// combined per notice (ReceiptCombiner); each notice's receipt goes to the
// receipt callback on a thread of its own (a slow callback delays neither
// the reading nor the keep-alive). Other deliver_sm (mobile-originated) are
// answered and logged without their text.
class Session {
 public:
  using ReceiptFn = std::function<void(std::vector<Receipt>)>;
  static constexpr size_t kMaxReceiptBatch = 500;
  struct Stats {
    int64_t binds = 0;              // successful binds (reconnects: binds - 1)
    int64_t bind_failures = 0;
    int64_t enquire_links_sent = 0;
    int64_t enquire_links_answered = 0;  // the SMSC's, answered by us
    int64_t throttled = 0;          // submits answered 0x58 / 0x14
    int64_t receipts = 0;           // part receipts received
    int64_t mo_messages = 0;
  };

  explicit Session(SessionConfig config);
  ~Session();  // Stop()
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Before Start. Called with the notices' receipts from the session's
  // receipt thread: whatever arrived since the last call (at most
  // kMaxReceiptBatch), so a burst is written in few transactions. The
  // SMSC's deliver_sm are acknowledged only once the call returns.
  void set_receipt_callback(ReceiptFn fn) { on_receipt_ = std::move(fn); }
  void Start();
  // Unbinds (waiting up to a second for unbind_resp), closes, joins the
  // threads; waiting submits fail UNAVAILABLE. Receipts already queued are
  // handed to the callback first. Idempotent.
  void Stop();

  // Waits up to `wait` for a bound session: OK, the bind failure
  // (ProviderFaultError "auth" for a refused system_id or password) or
  // UNAVAILABLE (cannot connect).
  absl::Status WaitBound(std::chrono::milliseconds wait);

  // Submits one notice's parts (all pipelined in the window) and returns
  // its provider id, the first part's message id. Errors: INVALID_ARGUMENT
  // for a refused destination or message (permanent); ProviderFaultError for
  // a refused bind ("auth") or source address ("config"); UNAVAILABLE when
  // no session could be bound, throttling outlasted the time limit or the
  // SMSC failed it transiently (nothing was accepted); AmbiguousSendError
  // when a part may have been accepted (sent without an answer before the
  // connection dropped or the limit passed, or other parts accepted).
  absl::StatusOr<std::string> SubmitNotice(const std::vector<SubmitSm>& parts);

  Stats stats() const;
  const ReceiptCombiner& combiner() const { return combiner_; }

 private:
  struct Pending;
  class Deadline;

  absl::StatusOr<std::shared_ptr<Pending>> Enqueue(const SubmitSm& part, const ReceiptCombiner::Handle& notice,
                                                   int index, Deadline& deadline);
  absl::Status Await(const std::shared_ptr<Pending>& p, Deadline& deadline);
  absl::StatusOr<std::string> SubmitParts(const std::vector<SubmitSm>& parts, const ReceiptCombiner::Handle& notice,
                                          Deadline& deadline, bool* maybe_accepted);
  // `s`, noting whether a part of `inflight` may be at the SMSC.
  absl::Status Failed(const std::vector<std::shared_ptr<Pending>>& inflight, absl::Status s, bool* maybe_accepted);

  void Run();
  absl::Status ConnectAndBind(int* fd);
  absl::StatusOr<std::string> ReadFrame(int fd, std::string& buffer, std::chrono::milliseconds wait);
  void ReadLoop(int fd);
  bool Handle(const std::string& pdu);  // false: the SMSC unbound
  void OnSubmitResp(const Header& h, const std::string& pdu);
  void OnDeliverSm(const Header& h, const std::string& pdu);
  void Disconnected(int fd, const absl::Status& why);
  // Writes a whole PDU on connection `generation` (false: that connection
  // is gone, nothing written); marks `p` written once it all went out.
  bool Write(const std::string& bytes, uint64_t generation, Pending* p = nullptr);
  bool SleepUnlessStopping(std::chrono::milliseconds d);
  void DispatchReceipts();
  // A deliver_sm to answer (on `generation`) once `receipt`, if any, was
  // handed to the callback: the SMSC keeps an unanswered receipt and sends
  // it again on the next session.
  struct Inbound {
    std::optional<Receipt> receipt;
    uint32_t sequence = 0;
    uint64_t generation = 0;
  };
  void QueueInbound(Inbound in);

  const SessionConfig config_;
  ReceiptFn on_receipt_;
  ReceiptCombiner combiner_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool started_ = false;
  bool stopping_ = false;
  bool bound_ = false;
  bool receipts_closing_ = false;
  int fd_ = -1;
  uint64_t generation_ = 0;  // of the bound connection
  absl::Status last_error_ = absl::UnavailableError("smpp: not connected yet");
  uint32_t next_sequence_ = 0;
  std::map<uint32_t, std::shared_ptr<Pending>> pending_;
  std::chrono::steady_clock::time_point throttled_until_{};
  std::chrono::milliseconds throttle_backoff_{0};
  std::chrono::steady_clock::time_point next_submit_at_{};  // --smpp-throughput pacing
  Stats stats_;
  std::deque<Inbound> inbound_;
  // The session thread's own: the enquire_link waiting for its answer.
  uint32_t enquire_sequence_ = 0;
  std::optional<std::chrono::steady_clock::time_point> enquire_sent_at_;
  std::chrono::steady_clock::time_point last_enquire_{};
  uint64_t reading_generation_ = 0;

  std::mutex write_mu_;
  std::thread thread_;
  std::thread receipt_thread_;
};

}  // namespace forewarn::smpp
