#include "services/public_http/pages.h"

#include "absl/strings/str_cat.h"

namespace forewarn {
namespace {

struct Words {
  std::string ar;
  std::string en;
};

Words CategoryWords(NoticeCategory c) {
  switch (c) {
    case NoticeCategory::kUnplannedOutages: return {"الانقطاعات الطارئة", "unplanned outages"};
    case NoticeCategory::kPlannedMaintenance: return {"الصيانة المخططة", "planned maintenance"};
    case NoticeCategory::kBankingChanges: return {"التغييرات المصرفية", "banking changes"};
  }
  return {"", ""};
}

// One page: the Arabic part first (right to left), then the English one.
// The texts are ours (no customer data), so they are written as HTML.
std::string Page(const Words& title, const Words& body) {
  return absl::StrCat(
      "<!DOCTYPE html>\n<html lang=\"ar\" dir=\"rtl\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<meta name=\"robots\" content=\"noindex\">\n<title>",
      title.ar, " | ", title.en,
      "</title>\n<style>body{font-family:sans-serif;max-width:40em;margin:2em auto;padding:0 1em;line-height:1.5}"
      "section{margin-bottom:2em}button{font-size:1.1em;padding:.5em 1.5em}</style>\n</head>\n<body>\n"
      "<section lang=\"ar\" dir=\"rtl\">\n<h1>",
      title.ar, "</h1>\n", body.ar, "\n</section>\n<section lang=\"en\" dir=\"ltr\">\n<h1>", title.en, "</h1>\n",
      body.en, "\n</section>\n</body>\n</html>\n");
}

}  // namespace

std::string ConfirmUnsubscribePage(NoticeCategory category, std::string_view token) {
  const Words what = CategoryWords(category);
  const std::string form = absl::StrCat(
      "<form method=\"post\" action=\"/u/", std::string(token),
      "\" enctype=\"application/x-www-form-urlencoded\">"
      "<input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\">");
  return Page({"إيقاف هذه الرسائل؟", "Stop these emails?"},
              {absl::StrCat("<p>لن تصلك بعد الآن رسائل البريد الإلكتروني عن ", what.ar,
                            ". تبقى الرسائل النصية كما هي.</p>\n", form,
                            "<button type=\"submit\">إيقاف الرسائل</button></form>"),
               absl::StrCat("<p>You will no longer receive emails about ", what.en,
                            ". Text messages stay as they are.</p>\n", form,
                            "<button type=\"submit\">Stop these emails</button></form>")});
}

std::string UnsubscribedPage(NoticeCategory category) {
  const Words what = CategoryWords(category);
  return Page({"تم الإيقاف", "Unsubscribed"},
              {absl::StrCat("<p>لن تصلك بعد الآن رسائل البريد الإلكتروني عن ", what.ar, ".</p>"),
               absl::StrCat("<p>You will no longer receive emails about ", what.en, ".</p>")});
}

std::string CannotUnsubscribePage(NoticeCategory category) {
  const Words what = CategoryWords(category);
  return Page({"لا يمكن إيقاف هذه الرسائل", "These notices cannot be turned off"},
              {absl::StrCat("<p>رسائل ", what.ar,
                            " مهمة ولا يمكن إيقافها ما دامت هي الوسيلة الوحيدة لإبلاغك.</p>"),
               absl::StrCat("<p>Notices about ", what.en,
                            " matter too much to be turned off while email is the only way we can reach you.</p>")});
}

std::string InvalidLinkPage() {
  return Page({"الرابط غير صالح", "This link is not valid"},
              {"<p>تأكد من فتح الرابط كاملًا كما ورد في الرسالة.</p>",
               "<p>Make sure you opened the whole link as it appears in the email.</p>"});
}

std::string BadUnsubscribeRequestPage() {
  return Page({"طلب غير صالح", "Bad request"},
              {"<p>استخدم زر الإيقاف في الصفحة.</p>", "<p>Use the button on the page.</p>"});
}

std::string TryLaterPage() {
  return Page({"تعذّر الحفظ الآن", "Could not save right now"},
              {"<p>حاول مرة أخرى بعد قليل.</p>", "<p>Please try again in a few minutes.</p>"});
}

}  // namespace forewarn
