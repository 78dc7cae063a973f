#pragma once

// The pages the unsubscribe link shows, in Arabic (right to left) and
// English on one page: the customer's language is not in the link. Complete
// HTML documents, no scripts, no external resources.

#include <string>
#include <string_view>

#include "services/core/model.h"

namespace forewarn {

// GET /u/{token}: "Stop these emails?" with a button that POSTs
// List-Unsubscribe=One-Click to the same address. `token` is a verified
// token (URL-safe base64, nothing to escape).
std::string ConfirmUnsubscribePage(NoticeCategory category, std::string_view token);
// 200 after a POST: the category's emails are off (also when they already were).
std::string UnsubscribedPage(NoticeCategory category);
// 409: the policy does not let these notices be turned off.
std::string CannotUnsubscribePage(NoticeCategory category);
// 404: the link is not one of ours (altered, cut short) or its customer is gone.
std::string InvalidLinkPage();
// 400: a POST without List-Unsubscribe=One-Click.
std::string BadUnsubscribeRequestPage();
// 503: the preference could not be saved now.
std::string TryLaterPage();

}  // namespace forewarn
