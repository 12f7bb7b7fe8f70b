#include "base/quote.h"

#include <nlohmann/json.hpp>

namespace pgxn::base {

absl::string_view ShortenUtf8(absl::string_view text, size_t max_bytes, bool* cut) {
  *cut = text.size() > max_bytes;
  if (!*cut) return text;
  size_t end = max_bytes;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end);
}

std::string QuoteUntrusted(absl::string_view text, size_t max_bytes) {
  bool cut = false;
  const absl::string_view shown = ShortenUtf8(text, max_bytes, &cut);
  std::string quoted = nlohmann::json(std::string(shown))
                           .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (cut) quoted.insert(quoted.size() - 1, "...");
  return quoted;
}

}  // namespace pgxn::base
