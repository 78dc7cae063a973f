#pragma once

// Binding and serving a cpp-httplib server the way Forewarn's public
// endpoints do (the intake's public endpoint, forewarn-status). Includes
// httplib.h: for HTTP adapters only.

#include <httplib.h>

#include <atomic>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace forewarn {

// Binds `server` to `listen` ("host:port", "[v6]:port" or ":port" for all
// interfaces; port 0 picks a free one) with a listen backlog of 1024 and
// serves it on `thread`, returning once it serves; `returned` is set when
// serving ends. The bound port. INVALID_ARGUMENT (a malformed address) and
// UNAVAILABLE (cannot bind) name `flag`.
absl::StatusOr<int> BindAndServe(httplib::Server& server, const std::string& listen, absl::string_view flag,
                                 std::thread& thread, std::atomic<bool>& returned);

}  // namespace forewarn
