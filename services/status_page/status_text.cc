#include "services/status_page/status_text.h"

#include <map>
#include <utility>

namespace forewarn {
namespace {

constexpr UiText kEnglish = {
    .title = "Service status",
    .outages = "Outages now",
    .maintenance = "Planned maintenance",
    .restored = "Restored in the last $0 hours",
    .none = "None at the moment.",
    .reference = "Reference",
    .type = "Type",
    .state = "State",
    .service = "Service",
    .where = "Where",
    .reason = "Reason",
    .started = "Started",
    .starts = "Starts",
    .expected = "Expected restoration",
    .restored_at = "Restored",
    .updated = "Last updated",
    .timeline = "Timeline",
    .times_in = "Times in $0",
    .overview = "All services",
    .check = "Check a message",
    .check_intro = "Enter the reference and the verification code from an SMS or email to check that we sent it.",
    .code = "Verification code",
    .check_button = "Check",
    .genuine = "Genuine: this is the $0 notice of $1, update $2.",
    .rejected = "Not confirmed: we sent no message with this reference and code. Do not act on it and do not share "
                "your details.",
    .not_found = "We could not find this page. Check the link or the reference in your message.",
    .too_many = "Too many attempts. Please try again in $0 seconds.",
    .unavailable = "The status is unavailable right now. Please try again shortly.",
    .other_language = "العربية",
    .feed = "Atom feed",
    .outage_reported = "Outage reported; service expected back $0",
    .maintenance_announced = "Maintenance announced from $0 to $1",
    .estimate_moved = "Expected restoration moved from $0 to $1",
    .start_moved = "Start moved from $0 to $1",
    .reason_updated = "Reason updated: $0",
    .targets_changed = "The affected area changed",
    .details_updated = "Details updated",
    .service_restored = "Service restored at $0",
    .maintenance_completed = "Maintenance completed at $0",
    .cancelled = "Cancelled",
};

constexpr UiText kArabic = {
    .title = "حالة الخدمة",
    .outages = "انقطاعات حالية",
    .maintenance = "صيانة مخططة",
    .restored = "عادت خلال آخر $0 ساعة",
    .none = "لا يوجد حاليًا.",
    .reference = "المرجع",
    .type = "النوع",
    .state = "الحالة",
    .service = "الخدمة",
    .where = "المنطقة",
    .reason = "السبب",
    .started = "بدأ",
    .starts = "يبدأ",
    .expected = "العودة المتوقعة",
    .restored_at = "عادت الخدمة",
    .updated = "آخر تحديث",
    .timeline = "سجل التغييرات",
    .times_in = "الأوقات بتوقيت $0",
    .overview = "جميع الخدمات",
    .check = "التحقق من رسالة",
    .check_intro = "أدخل المرجع ورمز التحقق من الرسالة النصية أو البريد الإلكتروني للتأكد من أننا أرسلناها.",
    .code = "رمز التحقق",
    .check_button = "تحقق",
    .genuine = "رسالة صحيحة: هذا إشعار $0 للمرجع $1، التحديث $2.",
    .rejected = "لم يتم التأكيد: لم نرسل رسالة بهذا المرجع وهذا الرمز. لا تتصرف بناءً عليها ولا تشارك بياناتك.",
    .not_found = "لم نجد هذه الصفحة. تحقق من الرابط أو المرجع في رسالتك.",
    .too_many = "محاولات كثيرة. حاول مرة أخرى بعد $0 ثانية.",
    .unavailable = "الحالة غير متاحة الآن. حاول مرة أخرى بعد قليل.",
    .other_language = "English",
    .feed = "خلاصة Atom",
    .outage_reported = "الإبلاغ عن الانقطاع؛ العودة المتوقعة $0",
    .maintenance_announced = "الإعلان عن الصيانة من $0 إلى $1",
    .estimate_moved = "تغيّر موعد العودة المتوقع من $0 إلى $1",
    .start_moved = "تغيّر موعد البدء من $0 إلى $1",
    .reason_updated = "تحديث السبب: $0",
    .targets_changed = "تغيّر نطاق المتأثرين",
    .details_updated = "تحديث التفاصيل",
    .service_restored = "عادت الخدمة في $0",
    .maintenance_completed = "اكتملت الصيانة في $0",
    .cancelled = "أُلغيت",
};

using Pair = std::pair<const char*, const char*>;  // English, Arabic

std::string Pick(const Pair& p, const Viewer& viewer) { return viewer.arabic() ? p.second : p.first; }

}  // namespace

const UiText& Ui(const Viewer& viewer) { return viewer.arabic() ? kArabic : kEnglish; }

const std::string& Localized(const LocalizedText& text, const Viewer& viewer) {
  return viewer.arabic() && !text.ar.empty() ? text.ar : text.en;
}

std::string KindLabel(IncidentKind kind, const Viewer& viewer) {
  switch (kind) {
    case IncidentKind::kUnplannedOutage: return Pick({"Unplanned outage", "انقطاع غير مخطط"}, viewer);
    case IncidentKind::kPlannedMaintenance: return Pick({"Planned maintenance", "صيانة مخططة"}, viewer);
    case IncidentKind::kIbanChange: return Pick({"IBAN change", "تغيير رقم الآيبان"}, viewer);
  }
  return "";
}

std::string StateLabel(const StatusIncident& incident, absl::Time now, const Viewer& viewer) {
  const bool maintenance = incident.kind == IncidentKind::kPlannedMaintenance;
  switch (incident.state) {
    case IncidentState::kCancelled: return Pick({"Cancelled", "أُلغيت"}, viewer);
    case IncidentState::kResolved:
      return maintenance ? Pick({"Completed", "اكتملت"}, viewer) : Pick({"Restored", "عادت الخدمة"}, viewer);
    case IncidentState::kOpen: break;
  }
  if (!maintenance) return Pick({"Ongoing", "مستمر"}, viewer);
  return now < incident.starts_at ? Pick({"Scheduled", "مجدولة"}, viewer) : Pick({"In progress", "جارية"}, viewer);
}

std::string NoticeKindLabel(NoticeKind kind, const Viewer& viewer) {
  static const std::map<NoticeKind, Pair> kLabels = {
      {NoticeKind::kOutageStarted, {"outage started", "بدء الانقطاع"}},
      {NoticeKind::kOutageUpdated, {"outage update", "تحديث الانقطاع"}},
      {NoticeKind::kOutageRestored, {"service restored", "عودة الخدمة"}},
      {NoticeKind::kOutageOverdue, {"restoration delayed", "تأخر عودة الخدمة"}},
      {NoticeKind::kMaintenanceScheduled, {"maintenance announced", "الإعلان عن الصيانة"}},
      {NoticeKind::kMaintenanceReminder, {"maintenance reminder", "التذكير بالصيانة"}},
      {NoticeKind::kMaintenanceStarted, {"maintenance started", "بدء الصيانة"}},
      {NoticeKind::kMaintenanceCompleted, {"maintenance completed", "اكتمال الصيانة"}},
      {NoticeKind::kMaintenanceRescheduled, {"maintenance rescheduled", "تغيير موعد الصيانة"}},
      {NoticeKind::kMaintenanceCancelled, {"maintenance cancelled", "إلغاء الصيانة"}},
      {NoticeKind::kIbanChangeHolder, {"IBAN change", "تغيير الآيبان"}},
      {NoticeKind::kIbanChangeBeneficiary, {"beneficiary IBAN change", "تغيير آيبان المستفيد"}},
  };
  auto it = kLabels.find(kind);
  return it == kLabels.end() ? ToString(kind) : Pick(it->second, viewer);
}

}  // namespace forewarn
