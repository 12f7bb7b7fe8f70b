#include "gateway/media_type.h"

#include "absl/strings/match.h"

namespace pgxn::gateway {
namespace {

struct Mapping {
  absl::string_view extension;
  absl::string_view media_type;
};

constexpr Mapping kMappings[] = {
    {"json", "application/json"},         {"zip", "application/zip"},
    {"txt", "text/plain; charset=utf-8"}, {"pub", "text/plain; charset=utf-8"},
    {"html", "text/html; charset=utf-8"}, {"atom", "application/atom+xml"},
};

}  // namespace

absl::string_view MediaTypeForPath(absl::string_view path) {
  const size_t slash = path.rfind('/');
  const absl::string_view name = slash == absl::string_view::npos ? path : path.substr(slash + 1);
  const size_t dot = name.rfind('.');
  if (dot != absl::string_view::npos) {
    const absl::string_view extension = name.substr(dot + 1);
    for (const Mapping& mapping : kMappings) {
      if (absl::EqualsIgnoreCase(extension, mapping.extension)) return mapping.media_type;
    }
  }
  return "application/octet-stream";
}

}  // namespace pgxn::gateway
