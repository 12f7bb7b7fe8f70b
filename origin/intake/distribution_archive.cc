#include "origin/intake/distribution_archive.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "base/quote.h"

namespace pgxn::origin {

using archive::ArchiveEntry;
using archive::ArchiveFormat;
using archive::ArchiveLimits;
using archive::ReadArchive;
using archive::ReadArchiveResult;
using archive::WriteZip;

namespace {

std::string Quote(absl::string_view text) { return base::QuoteUntrusted(text, 200); }

const char* TypeName(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::null:
      return "null";
    case nlohmann::json::value_t::boolean:
      return "a boolean";
    case nlohmann::json::value_t::string:
      return "a string";
    case nlohmann::json::value_t::array:
      return "an array";
    default:
      return "a number";
  }
}

// The parser itself is not recursive, but whatever walks the document next may
// be; bound the nesting before parsing. Counts brackets outside strings.
bool NestedDeeperThan(absl::string_view text, int max_depth) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return true;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return false;
}

const ArchiveEntry* FindFile(const std::vector<ArchiveEntry>& entries, absl::string_view path) {
  for (const ArchiveEntry& e : entries) {
    if (e.ReadsAsFile() && e.path == path) return &e;
  }
  return nullptr;
}

// The directory every entry lives in, if there is exactly one: "d" for
// {"d", "d/a", "d/b/c"}. nullopt for {"a", "b/c"} or when "d" is a file.
absl::optional<std::string> SingleTopDirectory(const std::vector<ArchiveEntry>& entries) {
  if (entries.empty()) return absl::nullopt;
  const absl::string_view first = entries.front().path;
  const absl::string_view top = first.substr(0, first.find('/'));
  for (const ArchiveEntry& e : entries) {
    const absl::string_view path = e.path;
    if (path == top) {
      if (e.type != ArchiveEntry::Type::kDirectory) return absl::nullopt;
    } else if (!(absl::StartsWith(path, top) && path.size() > top.size() &&
                 path[top.size()] == '/')) {
      return absl::nullopt;
    }
  }
  return std::string(top);
}

// What an archive without a META.json where PGXN reads it has instead, for
// the message: a META.json deeper down, or a template of one ("" if neither).
std::string WhyNoMeta(const std::vector<ArchiveEntry>& entries) {
  const ArchiveEntry* deeper = nullptr;
  const ArchiveEntry* template_file = nullptr;
  for (const ArchiveEntry& e : entries) {
    if (!e.ReadsAsFile()) continue;
    const size_t slash = e.path.rfind('/');
    const absl::string_view name = slash == std::string::npos
                                       ? absl::string_view(e.path)
                                       : absl::string_view(e.path).substr(slash + 1);
    if (name == "META.json" && deeper == nullptr) deeper = &e;
    if (absl::StartsWith(name, "META.json.") && template_file == nullptr) template_file = &e;
  }
  if (deeper != nullptr) {
    return absl::StrCat(": the only one, ", Quote(deeper->path),
                        ", is deeper than the distribution's top directory, where it must be");
  }
  if (template_file != nullptr) {
    return absl::StrCat(": ", Quote(template_file->path),
                        " is a template; release the archive your build makes, with the "
                        "META.json it generates");
  }
  return "";
}

// PGXN copies "README" or "README.<ext>" from the distribution's top level.
bool IsReadmeName(absl::string_view name) {
  if (!absl::ConsumePrefix(&name, "README")) return false;
  if (name.empty()) return true;
  return absl::ConsumePrefix(&name, ".") && !name.empty() &&
         name.find_first_of("./") == absl::string_view::npos;
}

absl::Status CheckDirectoryName(absl::string_view what, absl::string_view value) {
  bool ok = !value.empty();
  for (char c : value) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (c == '/' || c == '\\' || u < 0x20 || u == 0x7F) ok = false;
  }
  if (ok) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat("Distribution ", what, " ", Quote(value),
                                                    " cannot be used as a directory name"));
}

}  // namespace

absl::StatusOr<DistributionArchive> OpenDistribution(absl::string_view bytes,
                                                     absl::string_view filename,
                                                     const ArchiveLimits& limits) {
  absl::StatusOr<ReadArchiveResult> read = ReadArchive(bytes, filename, limits);
  if (!read.ok()) return read.status();

  DistributionArchive dist;
  dist.format = read->format;
  dist.entries = std::move(read->entries);
  dist.publishable_as_is = read->publishable_as_is;

  const ArchiveEntry* meta_entry = FindFile(dist.entries, "META.json");
  if (meta_entry == nullptr) {
    if (absl::optional<std::string> top = SingleTopDirectory(dist.entries); top.has_value()) {
      meta_entry = FindFile(dist.entries, absl::StrCat(*top, "/META.json"));
      if (meta_entry != nullptr) dist.top_dir = *std::move(top);
    }
  }
  if (meta_entry == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("Cannot find a \"META.json\" in ", Quote(filename), WhyNoMeta(dist.entries)));
  }
  dist.meta_path = meta_entry->path;

  const std::string& text = meta_entry->data;
  if (text.size() > kMaxMetaBytes) {
    return absl::FailedPreconditionError(absl::StrCat("The META.json in ", Quote(filename),
                                                      " is larger than the limit of ",
                                                      kMaxMetaBytes, " bytes"));
  }
  if (NestedDeeperThan(text, kMaxMetaDepth)) {
    return absl::FailedPreconditionError(
        absl::StrCat("Cannot parse JSON from ", Quote(dist.meta_path), ": nested deeper than ",
                     kMaxMetaDepth, " levels"));
  }
  try {
    dist.meta = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    // "[json.exception.parse_error.101] parse error at line 1, column 2: ...".
    // The text after "last read:" is the upload's own bytes (any length, any
    // encoding), hence the quoting; the quotes themselves are dropped.
    absl::string_view why = e.what();
    if (absl::StartsWith(why, "[json.exception.")) {
      why.remove_prefix(std::min(why.size(), why.find("] ") + 2));
    }
    const std::string quoted_why = Quote(why);
    return absl::FailedPreconditionError(
        absl::StrCat("Cannot parse JSON from ", Quote(dist.meta_path), ": ",
                     absl::string_view(quoted_why).substr(1, quoted_why.size() - 2)));
  }
  if (!dist.meta.is_object()) {
    return absl::FailedPreconditionError(
        absl::StrCat(Quote(dist.meta_path), " in ", Quote(filename),
                     " must hold a JSON object, not ", TypeName(dist.meta)));
  }

  const std::string readme_dir = dist.top_dir.empty() ? "" : dist.top_dir + "/";
  for (const ArchiveEntry& e : dist.entries) {
    absl::string_view path = e.path;
    if (e.ReadsAsFile() && absl::ConsumePrefix(&path, readme_dir) && IsReadmeName(path)) {
      dist.readme = e.data;
      break;
    }
  }
  return dist;
}

absl::StatusOr<std::string> NormalizedZip(const DistributionArchive& dist,
                                          absl::string_view original_bytes, absl::string_view name,
                                          absl::string_view version) {
  if (absl::Status s = CheckDirectoryName("name", name); !s.ok()) return s;
  if (absl::Status s = CheckDirectoryName("version", version); !s.ok()) return s;
  const std::string prefix =
      absl::StrCat(absl::AsciiStrToLower(name), "-", absl::AsciiStrToLower(version));
  if (dist.format == ArchiveFormat::kZip && dist.publishable_as_is && dist.top_dir == prefix) {
    return std::string(original_bytes);
  }

  std::vector<ArchiveEntry> entries;
  entries.reserve(dist.entries.size());
  for (const ArchiveEntry& e : dist.entries) {
    absl::string_view rest = e.path;
    if (!dist.top_dir.empty()) {
      // SingleTopDirectory guarantees every path is top_dir or under it.
      if (rest == dist.top_dir) {
        rest = "";
      } else {
        rest.remove_prefix(dist.top_dir.size() + 1);
      }
    }
    ArchiveEntry moved = e;
    moved.path = rest.empty() ? prefix : absl::StrCat(prefix, "/", rest);
    entries.push_back(std::move(moved));
  }
  absl::StatusOr<std::string> zip = WriteZip(entries);
  if (!zip.ok() && zip.status().code() == absl::StatusCode::kInvalidArgument) {
    // The entries passed ReadArchive's checks, so the new prefix is at fault
    // (a name that is not valid UTF-8, say): the upload's problem.
    return absl::FailedPreconditionError(zip.status().message());
  }
  return zip;
}

}  // namespace pgxn::origin
