#include "gateway/path.h"

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/utf8.h"

namespace pgxn::gateway {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes %XX escapes (and '+' as a space when `plus_is_space`). Error
// messages name the input as `what` ("request path", "query") and quote
// `whole`, the input `in` is part of.
absl::StatusOr<std::string> PercentDecode(absl::string_view in, bool plus_is_space,
                                          absl::string_view what, absl::string_view whole) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else if (c != '%') {
      out.push_back(c);
    } else {
      const int hi = i + 1 < in.size() ? HexValue(in[i + 1]) : -1;
      const int lo = i + 2 < in.size() ? HexValue(in[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        return absl::InvalidArgumentError(absl::StrCat("Invalid percent-escape \"",
                                                       absl::CEscape(in.substr(i, 3)), "\" in ",
                                                       what, " \"", absl::CEscape(whole), "\""));
      }
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    }
  }
  return out;
}

}  // namespace

absl::StatusOr<std::string> DecodeRequestPath(absl::string_view raw_path) {
  if (raw_path.empty() || raw_path[0] != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("Request path must start with '/': \"", absl::CEscape(raw_path), "\""));
  }
  absl::StatusOr<std::string> decoded = PercentDecode(raw_path, false, "request path", raw_path);
  if (!decoded.ok()) return decoded.status();
  const absl::string_view path = *decoded;
  const std::string shown = absl::CEscape(raw_path);
  if (path.find('\0') != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("Request path must not contain a NUL byte: \"", shown, "\""));
  }
  if (path.find('\\') != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("Request path must not contain a backslash: \"", shown, "\""));
  }
  // Every name in the tree is UTF-8; anything else could only reach a
  // database or a file name as an encoding error.
  if (!base::IsValidUtf8(path)) {
    return absl::InvalidArgumentError(
        absl::StrCat("Request path is not valid UTF-8: \"", shown, "\""));
  }
  for (absl::string_view segment : absl::StrSplit(path.substr(1), '/')) {
    if (segment == "." || segment == "..") {
      return absl::InvalidArgumentError(absl::StrCat("Request path must not contain a \"", segment,
                                                     "\" segment: \"", shown, "\""));
    }
  }
  return std::string(path);
}

absl::StatusOr<QueryParams> ParseQuery(absl::string_view query) {
  QueryParams params;
  for (absl::string_view piece : absl::StrSplit(query, '&', absl::SkipEmpty())) {
    const size_t eq = piece.find('=');
    const absl::string_view raw_key = piece.substr(0, eq);
    const absl::string_view raw_value =
        eq == absl::string_view::npos ? absl::string_view() : piece.substr(eq + 1);
    absl::StatusOr<std::string> key = PercentDecode(raw_key, true, "query", query);
    if (!key.ok()) return key.status();
    absl::StatusOr<std::string> value = PercentDecode(raw_value, true, "query", query);
    if (!value.ok()) return value.status();
    params.emplace_back(*std::move(key), *std::move(value));
  }
  return params;
}

const std::string* FindParam(const QueryParams& params, absl::string_view key) {
  for (const auto& [name, value] : params) {
    if (name == key) return &value;
  }
  return nullptr;
}

}  // namespace pgxn::gateway
