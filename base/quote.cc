#include "base/quote.h"

#include <nlohmann/json.hpp>

#include "base/utf8.h"

namespace pgxn::base {

std::string QuoteUntrusted(absl::string_view text, size_t max_bytes) {
  bool cut = false;
  const absl::string_view shown = ShortenUtf8(text, max_bytes, &cut);
  std::string quoted = nlohmann::json(std::string(shown))
                           .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (cut) quoted.insert(quoted.size() - 1, "...");
  return quoted;
}

}  // namespace pgxn::base
