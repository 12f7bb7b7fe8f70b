// Process log lines on stderr: "2026-11-25T10:05:01.123Z INFO message".
// Never pass secrets (passwords, tokens, keys) to these functions.
// Thread-safe: each line is written with one call.
#ifndef PGXN_BASE_LOG_H_
#define PGXN_BASE_LOG_H_

#include "absl/strings/string_view.h"

namespace pgxn::base {

void LogInfo(absl::string_view message);
void LogWarning(absl::string_view message);
void LogError(absl::string_view message);

}  // namespace pgxn::base

#endif  // PGXN_BASE_LOG_H_
