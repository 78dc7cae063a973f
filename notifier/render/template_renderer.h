#pragma once

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "services/core/clock.h"
#include "services/core/model.h"
#include "services/core/notice_links.h"
#include "services/core/ports.h"

namespace forewarn {

// The one-click unsubscribe link of an email notice ("" for none); see
// UnsubscribeLinks (services/directory). Called under the renderer's lock.
using UnsubscribeLinkFn = std::function<std::string(const NoticeJob&)>;

// The status link and the verification code of a notice in `language`
// ("ar" | "en"); see NoticeLinks (services/core/notice_links.h). Called
// outside the renderer's lock, once per Render; its error fails the render
// as it is (UNAVAILABLE when the link's store cannot be reached: retryable).
using NoticeMarkFn =
    std::function<absl::StatusOr<NoticeMarks>(const NoticeJob&, const Incident&, const std::string& language)>;

// The marks `links` gives each notice; `links` must outlive the renderer.
// Inline: the renderer itself does not depend on NoticeLinks (the fuzzer
// builds it without it).
inline NoticeMarkFn NoticeMarksFrom(NoticeLinks& links) {
  return [&links](const NoticeJob& job, const Incident& incident, const std::string& language) {
    return links.For(job, incident, language);
  };
}

// Renders notices from the mustache templates in a templates directory:
//
//   <dir>/<notice_kind>/sms.<locale>.mustache
//   <dir>/<notice_kind>/email.<locale>.subject.mustache
//   <dir>/<notice_kind>/email.<locale>.txt.mustache
//   <dir>/<notice_kind>/email.<locale>.html.mustache
//
// for every NoticeKind ("outage_started", ..., see NoticeKinds()) and locale
// ("ar", "en"). templates/README.md documents the variables, the IBAN masking
// rule and the date and duration formats.
//
// Escaping: only the .html templates HTML-escape values ({{x}}); SMS, subject
// and plain-text templates are rendered verbatim whichever form they use.
// HTML templates may not use the unescaped forms {{{x}}} / {{&x}}.
//
// Thread-safe. Render() serialises on an internal mutex because the cached ICU
// date and duration formatters must not be used concurrently (nor the cache of
// rendered templates: each is rendered once per incident version, notice,
// language, channel and time zone, with the name filled in per customer); for
// parallel rendering give each worker thread its own instance (Load() is
// cheap: 96 small files).
class TemplateRenderer final : public Renderer {
 public:
  // Loads and checks every template. FAILED_PRECONDITION naming the file when
  // one is missing, does not parse, uses a partial or delimiter change, or
  // refers to a variable outside KnownVariables(). `clock` says what "now"
  // is (SMS dates show the year only when it is not the current one in the
  // customer's zone); it must outlive the renderer. With `unsubscribe_links`
  // an email's RenderedNotice::unsubscribe_url and the templates'
  // {{unsubscribe_url}} are the link it returns for the job. With
  // `notice_marks` the templates' {{status_url}} and {{check_code}} are
  // what it returns (empty without: the templates' sections drop them).
  static absl::StatusOr<std::unique_ptr<TemplateRenderer>> Load(const std::string& templates_dir,
                                                                const Clock& clock,
                                                                UnsubscribeLinkFn unsubscribe_links = nullptr,
                                                                NoticeMarkFn notice_marks = nullptr);

  ~TemplateRenderer() override;
  TemplateRenderer(const TemplateRenderer&) = delete;
  TemplateRenderer& operator=(const TemplateRenderer&) = delete;

  // Replaces the notice marks given to Load (e.g. once the store of status
  // links is connected; the start-up SMS length check renders with the
  // longest marks before). Call before the renderer is shared between
  // threads.
  void set_notice_marks(NoticeMarkFn notice_marks);

  // INVALID_ARGUMENT for an unknown locale (anything but "ar"/"en", region
  // subtags such as "ar-SA" are accepted), time zone (not an IANA id) or a
  // malformed lead occasion ("lead-<duration>", e.g. "lead-48h");
  // FAILED_PRECONDITION for an outage_restored notice of an incident without
  // resolved_at (maintenance_completed renders without one). The message id
  // is MessageIdFor(KeyOf(job)); subject and html are empty for SMS.
  absl::StatusOr<RenderedNotice> Render(const NoticeJob& job, const Incident& incident) override;

  // The names a template may refer to, as variables or sections.
  static std::span<const std::string_view> KnownVariables();

  // Every notice kind Load() requires templates for: all kinds core names
  // (ToString(NoticeKind)), so a new kind without templates fails Load().
  static std::span<const NoticeKind> NoticeKinds();

 private:
  struct Impl;
  explicit TemplateRenderer(std::unique_ptr<Impl> impl);
  static absl::Status LoadFormats(Impl& impl, size_t locale);
  std::unique_ptr<Impl> impl_;
};

}  // namespace forewarn
