#pragma once

// What an SMS a customer sends to Forewarn's number means: STOP / إيقاف
// (SMS off) or START / بدء (SMS on); anything else is not a command.
// Pure functions, no I/O.

#include <string>
#include <string_view>

namespace forewarn {

enum class SmsKeyword { kNone, kStop, kStart };

// "stop" | "start" | "other" (the metrics label).
const char* KeywordLabel(SmsKeyword k);

// The command in a message: surrounding whitespace, a trailing '.' or '!' and
// letter case do not matter, nor runs of spaces inside ("stop  all").
//   STOP, STOP ALL, UNSUBSCRIBE, إيقاف, ايقاف  -> kStop
//   START, UNSTOP, بدء                         -> kStart
// Anything else (including a longer sentence that mentions stop) -> kNone.
SmsKeyword ParseSmsKeyword(std::string_view text);

// The sender as the gateway wrote it, ready for phone normalisation:
// whitespace trimmed (a '+' sent unescaped in a form reads as a space), and
// a '+' put back in front of an international number written without it
// (digits only, 11 or more, not starting with 0: "966501234567").
std::string GatewaySender(std::string_view from);

// The reply the gateway relays to the sender, in `locale` ("ar" or "en";
// anything else: English). Empty for kNone (nothing to relay). The same
// text whether or not the number belongs to a customer.
std::string SmsReply(SmsKeyword k, std::string_view locale);

// The language a command was written in: "ar" for Arabic keywords, else "en".
std::string KeywordLocale(std::string_view text);

}  // namespace forewarn
