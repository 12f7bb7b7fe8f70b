#include "base/escape.h"

#include "absl/strings/ascii.h"

namespace pgxn::base {

absl::string_view HtmlEntityFor(char c, bool in_attribute) {
  switch (c) {
    case '&':
      return "&amp;";
    case '<':
      return "&lt;";
    case '>':
      return "&gt;";
    case '"':
      return in_attribute ? "&quot;" : "";
    default:
      return "";
  }
}

std::string EscapeHtml(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    const absl::string_view entity = HtmlEntityFor(c, /*in_attribute=*/true);
    if (entity.empty()) {
      out += c;
    } else {
      out.append(entity.data(), entity.size());
    }
  }
  return out;
}

std::string EscapeXml(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\'') {
      out += "&apos;";
      continue;
    }
    const absl::string_view entity = HtmlEntityFor(c, /*in_attribute=*/true);
    if (!entity.empty()) {
      out.append(entity.data(), entity.size());
      continue;
    }
    if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r') continue;
    if (text.substr(i, 2) == "\xEF\xBF" && i + 2 < text.size() &&
        (text[i + 2] == '\xBE' || text[i + 2] == '\xBF')) {
      i += 2;  // U+FFFE or U+FFFF
      continue;
    }
    out += c;
  }
  return out;
}

std::string PercentEncodePath(absl::string_view path) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(path.size());
  for (const char c : path) {
    if (absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '-' || c == '.' ||
        c == '_' || c == '~') {
      out.push_back(c);
    } else {
      const auto byte = static_cast<unsigned char>(c);
      out.push_back('%');
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 0xF]);
    }
  }
  return out;
}

}  // namespace pgxn::base
