#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/core/ports.h"
#include "services/core/validation.h"

namespace forewarn {

// SMS segment budget per notice kind and encoding, from
// templates/sms_budgets.json ({"default": {"gsm7": 2, "ucs2": 4}, "<kind>": ...}).
class SmsBudgets {
 public:
  static absl::StatusOr<SmsBudgets> Load(const std::string& path);
  int Budget(NoticeKind kind, bool ucs2) const;

 private:
  std::map<std::string, std::pair<int, int>> budgets_;  // kind -> (gsm7, ucs2)
};

struct PreviewItem {
  Recipient recipient;
  RenderedNotice notice;
  std::string sms_encoding;
  int sms_segments = 0;
  int sms_budget = 0;
};

struct Preview {
  NoticeKind kind = NoticeKind::kOutageStarted;
  int64_t version = 0;
  std::vector<PreviewItem> items;
  int64_t sms_recipients = 0;
  int64_t email_recipients = 0;
  std::optional<absl::Duration> estimated_completion;
  // Per selector (outages and maintenance).
  std::optional<AudienceSize> audience;
};

// Renders what customers would receive for an incident, without sending.
class NoticePreviewer {
 public:
  struct Rates {
    double sms_per_second = 0;  // 0: unlimited
    double email_per_second = 0;
  };
  NoticePreviewer(IncidentStore& store, IncidentReader& reader, AudienceSource& audience, Renderer& renderer,
                  SmsBudgets budgets, Rates rates, ValidationLimits limits = {})
      : store_(store), reader_(reader), audience_(audience), renderer_(renderer), budgets_(std::move(budgets)),
        rates_(rates), limits_(limits) {}

  // customer_id 0: one sample per locale and channel. `kind` unset: the
  // kind the incident's current state would send.
  absl::StatusOr<Preview> Run(const std::string& incident_id, int64_t customer_id, std::optional<NoticeKind> kind);
  // The audience an outage or maintenance on `services` with `targets`
  // would have, per selector, before it is created.
  absl::StatusOr<AudienceSize> Audience(IncidentKind kind, const std::vector<std::string>& services,
                                        const Targets& targets);
  const Rates& rates() const { return rates_; }

 private:
  // At the configured rates; unset when both are unlimited.
  std::optional<absl::Duration> EstimatedCompletion(const Preview& preview) const;

  IncidentStore& store_;
  IncidentReader& reader_;
  AudienceSource& audience_;
  Renderer& renderer_;
  SmsBudgets budgets_;
  Rates rates_;
  ValidationLimits limits_;
};

}  // namespace forewarn
