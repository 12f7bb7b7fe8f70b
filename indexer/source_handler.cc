#include "indexer/source_handler.h"

#include <functional>
#include <list>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "base/digest.h"
#include "base/escape.h"
#include "base/utf8.h"
#include "gateway/concurrency_limit.h"
#include "gateway/path.h"
#include "gateway/status_http.h"
#include "gateway/tree_handler.h"
#include "indexer/derived/api_tree.h"
#include "indexer/docs/source_index.h"
#include "indexer/zip_entry_reader.h"

namespace pgxn::indexer {
namespace {

constexpr absl::string_view kSourcePrefix = "/src/";
// An SVG runs no script and loads nothing from elsewhere, even opened by itself.
constexpr absl::string_view kSvgPolicy = "default-src 'none'; style-src 'unsafe-inline'; sandbox";
constexpr absl::string_view kFilePolicy = "default-src 'none'; sandbox";
constexpr absl::string_view kHtmlType = "text/html; charset=utf-8";
constexpr absl::string_view kJsonType = "application/json";

struct SourceFile {
  uint64_t size = 0;
  std::string sha256_hex;
  std::string media_type;
  ZipLocation location;
  std::string archive_path;  // read by unpacking the zip when not located
};

struct Child {
  bool directory = false;  // a directory, or a link to one
  uint64_t size = 0;
  // For a link: its target as stored ("doc/pair.md"), and the path it leads
  // to from the release's top ("doc/pair.md", "" for the top itself).
  std::string link_target;
  std::string resolved;
  bool is_link() const { return !link_target.empty(); }
};

// One release's archive as its index describes it: paths relative to its top
// directory ("sql/pair.sql"; "" is the top itself). Immutable once built, so
// readers share it without a lock.
struct SourceTree {
  absl::flat_hash_map<std::string, SourceFile> files;
  // Every directory, explicit in the zip or implied by a deeper path, with its
  // entries by name.
  absl::flat_hash_map<std::string, std::map<std::string, Child>> directories;
  // Links to directories: the link's path -> the directory's.
  absl::flat_hash_map<std::string, std::string> directory_links;
  uint64_t bytes = 0;  // what it holds in memory, roughly
};

// The single directory holding every entry, or "" when there is none (a zip
// with files at its root, which the origin never stores but a tree imported
// from elsewhere might).
std::string TopDirectory(const std::vector<SourceEntry>& entries) {
  if (entries.empty()) return "";
  const std::string top(
      absl::string_view(entries.front().path).substr(0, entries.front().path.find('/')));
  for (const SourceEntry& e : entries) {
    if (e.path == top) {
      if (e.type != archive::ArchiveEntry::Type::kDirectory) return "";
    } else if (!absl::StartsWith(e.path, top) || e.path[top.size()] != '/') {
      return "";
    }
  }
  return top;
}

// Makes `path` and its ancestors known directories, each listed in its parent.
void AddDirectory(SourceTree& tree, absl::string_view path) {
  while (true) {
    auto [it, added] = tree.directories.try_emplace(std::string(path));
    if (!added || path.empty()) return;
    tree.bytes += 64 + 2 * path.size();
    const size_t slash = path.rfind('/');
    const absl::string_view parent =
        slash == absl::string_view::npos ? absl::string_view() : path.substr(0, slash);
    const absl::string_view name = slash == absl::string_view::npos ? path : path.substr(slash + 1);
    tree.directories[std::string(parent)][std::string(name)].directory = true;
    path = parent;
  }
}

SourceTree BuildTree(SourceIndex index) {
  SourceTree tree;
  tree.directories.try_emplace("");
  const std::string top = TopDirectory(index.entries);
  // A path in the archive as a path under the top ("" for the top itself),
  // or nullopt outside it.
  auto inner = [&](absl::string_view path) -> absl::optional<absl::string_view> {
    if (!top.empty() && !absl::ConsumePrefix(&path, top)) return absl::nullopt;
    if (!path.empty() && !top.empty() && !absl::ConsumePrefix(&path, "/")) return absl::nullopt;
    return path;
  };
  for (SourceEntry& e : index.entries) {
    const absl::optional<absl::string_view> maybe_path = inner(e.path);
    if (!maybe_path.has_value() || maybe_path->empty()) continue;  // the top itself
    const absl::string_view path = *maybe_path;
    if (e.type == archive::ArchiveEntry::Type::kDirectory) {
      AddDirectory(tree, path);
      continue;
    }
    const size_t slash = path.rfind('/');
    const absl::string_view parent =
        slash == absl::string_view::npos ? absl::string_view() : path.substr(0, slash);
    const absl::string_view name = slash == absl::string_view::npos ? path : path.substr(slash + 1);
    AddDirectory(tree, parent);
    Child child{!e.ReadsAsFile(), e.size, "", ""};
    if (e.type == archive::ArchiveEntry::Type::kSymlink) {
      // ReadArchive keeps every link inside the top directory.
      child.link_target = e.link_target;
      child.resolved = std::string(inner(e.resolved).value_or(""));
      tree.bytes += e.link_target.size() + e.resolved.size();
      if (child.directory) {
        tree.directory_links.emplace(std::string(path), child.resolved);
        tree.directories[std::string(parent)][std::string(name)] = std::move(child);
        continue;
      }
    }
    tree.directories[std::string(parent)][std::string(name)] = std::move(child);
    SourceFile file;
    file.size = e.size;
    file.sha256_hex = base::HexEncode(e.sha256);
    file.media_type = std::move(e.media_type);
    file.location = e.location;
    tree.bytes += 192 + 3 * path.size() + e.path.size();
    std::string key(path);  // `path` views e.path, moved next
    file.archive_path = std::move(e.path);
    tree.files.emplace(std::move(key), std::move(file));
  }
  return tree;
}

// Whether If-None-Match names the strong ETag `etag` ("\"hex\"") or is "*":
// then ServeTreeFile, which compares weakly, answers 304 whatever the
// content, so the content need not be read.
bool IfNoneMatchNames(const gateway::Request& request, absl::string_view etag) {
  for (const auto& [name, value] : request.headers) {
    if (name != "if-none-match") continue;
    for (absl::string_view tag : absl::StrSplit(value, ',')) {
      tag = absl::StripAsciiWhitespace(tag);
      absl::ConsumePrefix(&tag, "W/");
      if (tag == "*" || tag == etag) return true;
    }
  }
  return false;
}

// The quality the Accept headers give `type` ("text/html"): that of the most
// specific range matching it (RFC 9110 §12.5.1), 0 when none does; with no
// Accept header at all, anything is acceptable.
struct Quality {
  double q = 0;
  int specificity = 0;  // 3 exact, 2 type/*, 1 */*, 0 unmatched
};

Quality QualityOf(const gateway::Request& request, absl::string_view type) {
  Quality best;
  bool any_accept = false;
  const absl::string_view major = type.substr(0, type.find('/'));
  for (const auto& [name, value] : request.headers) {
    if (!absl::EqualsIgnoreCase(name, "accept")) continue;
    any_accept = true;
    for (absl::string_view range : absl::StrSplit(value, ',')) {
      std::vector<absl::string_view> parts = absl::StrSplit(range, ';');
      const absl::string_view media = absl::StripAsciiWhitespace(parts[0]);
      int specificity = 0;
      if (absl::EqualsIgnoreCase(media, type)) {
        specificity = 3;
      } else if (absl::EqualsIgnoreCase(media, absl::StrCat(major, "/*"))) {
        specificity = 2;
      } else if (media == "*/*") {
        specificity = 1;
      }
      if (specificity == 0) continue;
      double q = 1;
      for (size_t i = 1; i < parts.size(); ++i) {
        absl::string_view param = absl::StripAsciiWhitespace(parts[i]);
        if (param.size() < 2 || !absl::EqualsIgnoreCase(param.substr(0, 2), "q=")) continue;
        if (!absl::SimpleAtod(param.substr(2), &q) || q < 0 || q > 1) q = 0;
      }
      if (specificity > best.specificity || (specificity == best.specificity && q > best.q)) {
        best = Quality{q, specificity};
      }
    }
  }
  if (!any_accept) return Quality{1, 1};
  return best;
}

// JSON only when asked for more than HTML, or as much but by name while HTML
// came from a wildcard: a browser's "text/html,...,*/*;q=0.8" and curl's
// "*/*" get HTML, "application/json" and "application/*" get JSON.
bool PrefersJson(const gateway::Request& request) {
  const Quality json = QualityOf(request, "application/json");
  const Quality html = QualityOf(request, "text/html");
  if (json.q != html.q) return json.q > html.q;
  return json.q > 0 && json.specificity > html.specificity;
}

// `release_url` is "/src/{dist}/{dist}-{version}/", to which a link's
// resolved path is appended.
std::string HtmlListing(absl::string_view request_path, absl::string_view release_url, bool top,
                        const std::map<std::string, Child>& entries) {
  const std::string title = base::EscapeHtml(absl::StrCat("Index of ", request_path));
  std::string html = absl::StrCat("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>",
                                  title, "</title></head>\n<body>\n<h1>", title, "</h1>\n<ul>\n");
  if (!top) absl::StrAppend(&html, "<li><a href=\"../\">../</a></li>\n");
  for (const auto& [name, child] : entries) {
    const absl::string_view slash = child.directory && !child.is_link() ? "/" : "";
    // Percent-encoding keeps a name such as "a:b" from reading as a scheme.
    absl::StrAppend(&html, "<li><a href=\"", base::EscapeHtml(gateway::PercentEncodePath(name)),
                    slash, "\">", base::EscapeHtml(name), slash, "</a>");
    if (child.is_link()) {
      const absl::string_view target_slash = child.directory && !child.resolved.empty() ? "/" : "";
      absl::StrAppend(&html, " &rarr; <a href=\"",
                      base::EscapeHtml(gateway::PercentEncodePath(
                          absl::StrCat(release_url, child.resolved, target_slash))),
                      "\">", base::EscapeHtml(child.link_target), "</a>");
    }
    absl::StrAppend(&html, "</li>\n");
  }
  absl::StrAppend(&html, "</ul>\n</body></html>\n");
  return html;
}

std::string JsonListing(const std::map<std::string, Child>& entries) {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const auto& [name, child] : entries) {
    nlohmann::ordered_json item = {{"name", name},
                                   {"type", child.is_link()   ? "link"
                                            : child.directory ? "directory"
                                                              : "file"},
                                   {"size", child.size}};
    if (child.is_link()) {
      item["target"] = child.link_target;
      item["resolved"] = child.resolved;
      item["resolved_type"] = child.directory ? "directory" : "file";
    }
    list.push_back(std::move(item));
  }
  return list.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

// One file or listing presented as a tree of one, so that ServeTreeFile applies
// the tree's rules for conditional requests and ranges to it unchanged. It
// hands its content over on the one ReadFile that ServeTreeFile makes, so a
// large file is not held twice.
// Serves `content` as a file of the tree (ETag, 304s, ranges).
gateway::Response ServeOneFile(const gateway::Request& request, std::string content,
                               std::string sha256_hex, absl::string_view media_type,
                               int64_t modified_unix_seconds) {
  return gateway::ServeGeneratedFile(request, [&]() -> absl::StatusOr<gateway::TreeFile> {
    gateway::TreeFile file;
    file.content = std::move(content);
    file.sha256_hex = std::move(sha256_hex);
    file.media_type = std::string(media_type);
    file.modified_unix_seconds = modified_unix_seconds;
    return file;
  });
}

gateway::Response NotFound(const gateway::Request& request) {
  return gateway::TextResponse(404, absl::StrCat("Not found: ", request.path, "\n"));
}

// 301 to `path` (unencoded), keeping the request's query.
gateway::Response Redirect(const gateway::Request& request, absl::string_view path) {
  gateway::Response response = gateway::TextResponse(301, absl::StrCat("Moved to ", path, "\n"));
  std::string location = gateway::PercentEncodePath(path);
  if (!request.query.empty()) absl::StrAppend(&location, "?", request.query);
  response.SetHeader("Location", std::move(location));
  return response;
}

// A request path split into its parts; `valid` is false when it cannot name
// anything under /src/.
struct SourcePath {
  bool valid = false;
  std::string zip_path;         // "dist/pair/0.1.0/pair-0.1.0.zip"
  std::string release_url;      // "/src/pair/pair-0.1.0/"
  bool release_only = false;    // "/src/pair/pair-0.1.0", no slash after it
  std::string inner;            // "sql/pair.sql", "sql" ("" for the top)
  bool trailing_slash = false;  // `inner` named with a trailing '/'
};

bool BadSegment(absl::string_view segment) {
  return segment.empty() || segment == "." || segment == "..";
}

SourcePath ParseSourcePath(absl::string_view path) {
  SourcePath parsed;
  if (!absl::ConsumePrefix(&path, kSourcePrefix)) return parsed;
  const size_t dist_end = path.find('/');
  if (dist_end == absl::string_view::npos) return parsed;
  const absl::string_view dist = path.substr(0, dist_end);
  path.remove_prefix(dist_end + 1);
  const size_t release_end = path.find('/');
  absl::string_view release = path.substr(0, release_end);
  parsed.release_only = release_end == absl::string_view::npos;
  const absl::string_view inner =
      parsed.release_only ? absl::string_view() : path.substr(release_end + 1);
  absl::string_view version = release;
  if (BadSegment(dist) || !absl::ConsumePrefix(&version, dist) ||
      !absl::ConsumePrefix(&version, "-") || BadSegment(version)) {
    return parsed;
  }
  absl::string_view rest = inner;
  parsed.trailing_slash = absl::ConsumeSuffix(&rest, "/");
  if (!rest.empty()) {
    for (absl::string_view segment : absl::StrSplit(rest, '/')) {
      if (BadSegment(segment)) return parsed;
    }
  } else if (parsed.trailing_slash) {
    return parsed;  // "/src/pair/pair-0.1.0//"
  }
  parsed.zip_path = absl::StrCat("dist/", dist, "/", version, "/", release, ".zip");
  parsed.release_url = absl::StrCat(kSourcePrefix, dist, "/", release, "/");
  parsed.inner = std::string(rest);
  parsed.valid = true;
  return parsed;
}

// A least-recently-used set of release indexes keyed by the zip's raw
// sha256, bounded in count and bytes.
class SourceCache {
 public:
  SourceCache(size_t max_archives, uint64_t max_bytes)
      : max_archives_(max_archives), max_bytes_(max_bytes) {}

  // The tree and counts a hit, or nullptr and counts a miss.
  std::shared_ptr<const SourceTree> Find(const std::string& sha256) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    auto it = index_.find(sha256);
    if (it == index_.end()) {
      ++misses_;
      return nullptr;
    }
    ++hits_;
    lru_.splice(lru_.begin(), lru_, it->second);
    return it->second->tree;
  }

  // Keeps `tree` as the most recently used unless it is too large to keep at
  // all; another thread may have built the same one meanwhile, and then
  // both copies are equal and the one already held stays.
  void Insert(const std::string& sha256, std::shared_ptr<const SourceTree> tree)
      ABSL_LOCKS_EXCLUDED(mu_) {
    if (max_archives_ == 0 || tree->bytes > max_bytes_) return;
    absl::MutexLock lock(&mu_);
    if (index_.contains(sha256)) return;
    lru_.push_front(Slot{sha256, std::move(tree)});
    index_.emplace(sha256, lru_.begin());
    bytes_ += lru_.front().tree->bytes;
    while (lru_.size() > max_archives_ || bytes_ > max_bytes_) {
      bytes_ -= lru_.back().tree->bytes;
      index_.erase(lru_.back().sha256);
      lru_.pop_back();
    }
  }

  void CountUnpacked() ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    ++unpacked_;
  }

  SourceCacheStats Stats() const ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    return SourceCacheStats{hits_, misses_, unpacked_, 0, lru_.size(), bytes_};
  }

 private:
  struct Slot {
    std::string sha256;
    std::shared_ptr<const SourceTree> tree;  // shared with requests still using it
  };

  const size_t max_archives_;
  const uint64_t max_bytes_;
  mutable absl::Mutex mu_;
  std::list<Slot> lru_ ABSL_GUARDED_BY(mu_);  // most recently used first
  absl::flat_hash_map<std::string, std::list<Slot>::iterator> index_ ABSL_GUARDED_BY(mu_);
  uint64_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t hits_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t misses_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t unpacked_ ABSL_GUARDED_BY(mu_) = 0;
};

gateway::Response Busy(const gateway::Request& request) {
  gateway::Response response = gateway::ErrorResponse(
      absl::UnavailableError("Too many large source files are being read; retry shortly"), request);
  response.SetHeader("Retry-After", "1");
  return response;
}

// The release directory of a zip path: "dist/pair/0.1.0/" of
// "dist/pair/0.1.0/pair-0.1.0.zip".
absl::string_view ReleaseDirOfZip(absl::string_view zip_path) {
  return zip_path.substr(0, zip_path.rfind('/') + 1);
}

// A release's zip as the store holds it now and its tree. `tree` is null
// when the answer is already known (`response`: 404 for no zip, 503 when
// unpacking is heavy and the limit is reached, 500 for a zip that cannot be
// read) or, without `response`, when the zip was replaced meanwhile.
struct Loaded {
  replica::StoredFile zip;
  std::shared_ptr<const SourceTree> tree;
  absl::optional<gateway::Response> response;
};

}  // namespace

class SourceHandler::Impl {
 public:
  Impl(const replica::Store* store, SourceOptions options)
      : store_(store),
        options_(std::move(options)),
        cache_(options_.cache_archives, options_.cache_bytes),
        heavy_(options_.max_heavy) {}

  gateway::Response Handle(const gateway::Request& request) const;
  std::optional<SourceFileInfo> FileInfo(absl::string_view request_path) const;
  SourceCacheStats Stats() const {
    SourceCacheStats stats = cache_.Stats();
    stats.refused = heavy_.refused();
    return stats;
  }

 private:
  // The zip at `zip_path` and its tree: cached, from its stored index, or,
  // with `may_unpack`, built by unpacking the zip.
  Loaded Load(const std::string& zip_path, bool may_unpack, const gateway::Request& request) const;
  // The answer from the tree; nullopt when the zip was replaced since it
  // was loaded (and `last` is false): the caller loads it again.
  absl::optional<gateway::Response> Answer(const gateway::Request& request, const SourcePath& path,
                                           const Loaded& loaded, bool last) const;
  // The bytes of `file`; NotFound if the zip is gone, Unavailable when the
  // read is heavy and the limit is reached.
  absl::StatusOr<std::string> ReadContent(const replica::StoredFile& zip,
                                          absl::string_view zip_path, const SourceFile& file) const;

  const replica::Store* const store_;
  const SourceOptions options_;
  // Mutable: a cache and a counter, neither part of what the handler answers.
  mutable SourceCache cache_;
  mutable gateway::ConcurrencyLimit heavy_;
};

SourceHandler::SourceHandler(const replica::Store* store, SourceOptions options)
    : impl_(std::make_unique<Impl>(store, std::move(options))) {}

SourceHandler::~SourceHandler() = default;

SourceCacheStats SourceHandler::cache_stats() const { return impl_->Stats(); }

gateway::Response SourceHandler::Handle(const gateway::Request& request) const {
  return impl_->Handle(request);
}

std::optional<SourceFileInfo> SourceHandler::FileInfo(absl::string_view path) const {
  return impl_->FileInfo(path);
}

gateway::Response SourceHandler::Impl::Handle(const gateway::Request& request) const {
  if (request.method != "GET" && request.method != "HEAD") {
    gateway::Response response = gateway::TextResponse(
        405, absl::StrCat("Method not allowed: ", request.method, " ", request.path, "\n"));
    response.SetHeader("Allow", "GET, HEAD");
    return response;
  }
  const SourcePath path = ParseSourcePath(request.path);
  if (!path.valid) return NotFound(request);

  // The zip the store holds now, whatever the cache has seen before; read
  // again once if it was replaced between reading its entry and its bytes.
  for (int attempt = 0;; ++attempt) {
    const bool last = attempt == 1;
    Loaded loaded = Load(path.zip_path, /*may_unpack=*/true, request);
    if (loaded.response.has_value()) return *std::move(loaded.response);
    if (loaded.tree == nullptr) {
      if (last) return NotFound(request);
      continue;
    }
    absl::optional<gateway::Response> answer = Answer(request, path, loaded, last);
    if (answer.has_value()) return *std::move(answer);
  }
}

Loaded SourceHandler::Impl::Load(const std::string& zip_path, bool may_unpack,
                                 const gateway::Request& request) const {
  Loaded loaded;
  absl::StatusOr<replica::StoredFile> zip = store_->GetFile(zip_path);
  if (absl::IsNotFound(zip.status())) {
    loaded.response = NotFound(request);
    return loaded;
  }
  if (!zip.ok()) {
    loaded.response = gateway::ErrorResponse(zip.status(), request);
    return loaded;
  }
  loaded.zip = *std::move(zip);
  loaded.tree = cache_.Find(loaded.zip.sha256);
  if (loaded.tree != nullptr) return loaded;

  // The index stored when the release was indexed, if it describes this zip.
  absl::StatusOr<std::string> stored =
      store_->GetDerived(SourceIndexKey(ReleaseDirOfZip(zip_path)));
  if (!stored.ok() && !absl::IsNotFound(stored.status())) {
    loaded.response = gateway::ErrorResponse(stored.status(), request);
    return loaded;
  }
  if (stored.ok()) {
    absl::StatusOr<SourceIndex> index = DecodeSourceIndex(DerivedContent(*stored));
    if (index.ok() && index->zip_sha256 == loaded.zip.sha256) {
      loaded.tree = std::make_shared<const SourceTree>(BuildTree(*std::move(index)));
      cache_.Insert(loaded.zip.sha256, loaded.tree);
      return loaded;
    }
  }
  if (!may_unpack) return loaded;

  // None: unpack the whole zip once to build one (a release indexed before
  // source indexes existed, or whose index is not written yet). Always
  // heavy: a small zip may inflate to the archive limits.
  std::optional<gateway::ConcurrencyLimit::Permit> permit = heavy_.TryAcquire();
  if (!permit.has_value()) {
    loaded.response = Busy(request);
    return loaded;
  }
  absl::StatusOr<std::string> bytes = store_->GetBlob(loaded.zip.sha256, loaded.zip.size);
  if (absl::IsNotFound(bytes.status())) return loaded;  // replaced meanwhile
  if (!bytes.ok()) {
    loaded.response = gateway::ErrorResponse(bytes.status(), request);
    return loaded;
  }
  absl::StatusOr<archive::ReadArchiveResult> read =
      archive::ReadArchive(*bytes, zip_path, options_.limits);
  if (!read.ok()) {
    // The origin accepted this zip, so this is no fault of the client's.
    loaded.response =
        gateway::ErrorResponse(absl::InternalError(absl::StrCat("Cannot unpack ", zip_path, ": ",
                                                                read.status().message())),
                               request);
    return loaded;
  }
  cache_.CountUnpacked();
  SourceIndex index = BuildSourceIndex(*bytes, read->entries);
  read->entries.clear();
  loaded.tree = std::make_shared<const SourceTree>(BuildTree(std::move(index)));
  cache_.Insert(loaded.zip.sha256, loaded.tree);
  return loaded;
}

absl::optional<gateway::Response> SourceHandler::Impl::Answer(const gateway::Request& request,
                                                              const SourcePath& path,
                                                              const Loaded& loaded,
                                                              bool last) const {
  const SourceTree& tree = *loaded.tree;
  const int64_t modified = loaded.zip.time_us / 1'000'000;
  if (!path.release_only && !path.trailing_slash) {
    if (auto found = tree.files.find(path.inner); found != tree.files.end()) {
      const SourceFile& file = found->second;
      std::string content;
      if (!IfNoneMatchNames(request, absl::StrCat("\"", file.sha256_hex, "\""))) {
        absl::StatusOr<std::string> read = ReadContent(loaded.zip, path.zip_path, file);
        if (absl::IsNotFound(read.status())) {
          if (last) return NotFound(request);
          return absl::nullopt;  // the zip was replaced meanwhile: again
        }
        if (absl::IsUnavailable(read.status())) return Busy(request);
        if (!read.ok()) return gateway::ErrorResponse(read.status(), request);
        content = *std::move(read);
      }
      gateway::Response response =
          ServeOneFile(request, std::move(content), file.sha256_hex, file.media_type, modified);
      response.SetHeader("X-Content-Type-Options", "nosniff");
      // Whatever a browser makes of an author's file (a PDF, an SVG), it
      // runs nothing and loads nothing on this node's origin.
      response.SetHeader("Content-Security-Policy",
                         std::string(file.media_type == kSourceSvgType ? kSvgPolicy : kFilePolicy));
      return response;
    }
  }
  auto directory = tree.directories.find(path.inner);
  if (directory == tree.directories.end()) {
    // A path through a linked directory is that directory's path: sent there,
    // so that relative links from what is served resolve as on disk.
    for (size_t end = path.inner.size(); end != std::string::npos && end > 0;
         end = path.inner.rfind('/', end - 1)) {
      auto link = tree.directory_links.find(path.inner.substr(0, end));
      if (link == tree.directory_links.end()) continue;
      // ReadArchive refuses a link to a directory holding it, the top among
      // them, so link->second is never empty.
      std::string location = absl::StrCat(path.release_url, link->second, path.inner.substr(end));
      if (end == path.inner.size() || path.trailing_slash) absl::StrAppend(&location, "/");
      return Redirect(request, location);
    }
    return NotFound(request);
  }
  if (path.release_only || (!path.inner.empty() && !path.trailing_slash)) {
    return Redirect(request, absl::StrCat(request.path, "/"));
  }
  const bool json = PrefersJson(request);
  std::string listing =
      json ? JsonListing(directory->second)
           : HtmlListing(request.path, path.release_url, path.inner.empty(), directory->second);
  std::string sha256_hex = base::Sha256Hex(listing);
  gateway::Response response = ServeOneFile(request, std::move(listing), std::move(sha256_hex),
                                            json ? kJsonType : kHtmlType, modified);
  response.SetHeader("Vary", "Accept");
  response.SetHeader("X-Content-Type-Options", "nosniff");
  return response;
}

absl::StatusOr<std::string> SourceHandler::Impl::ReadContent(const replica::StoredFile& zip,
                                                             absl::string_view zip_path,
                                                             const SourceFile& file) const {
  std::optional<gateway::ConcurrencyLimit::Permit> permit;
  // A located entry costs its own bytes, read from the zip's chunks; an
  // unlocated one is read by unpacking the whole zip.
  const uint64_t cost = file.location.located ? file.location.compressed_size + file.size
                                              : 4 * zip.size + file.size;
  if (cost >= options_.heavy_bytes) {
    permit = heavy_.TryAcquire();
    if (!permit.has_value()) return absl::UnavailableError("busy");
  }
  if (file.location.located) {
    const replica::Store* store = store_;
    const std::string sha256 = zip.sha256;
    absl::StatusOr<std::string> content = ReadZipEntry(
        [store, &sha256](uint64_t offset, size_t length) {
          return store->ReadBlobRange(sha256, offset, length);
        },
        zip.size, file.location, file.size);
    if (content.ok() || absl::IsNotFound(content.status())) return content;
    return absl::InternalError(absl::StrCat("Cannot read ", file.archive_path, " of ", zip_path,
                                            ": ", content.status().message()));
  }
  absl::StatusOr<std::string> bytes = store_->GetBlob(zip.sha256, zip.size);
  if (!bytes.ok()) return bytes.status();
  absl::StatusOr<archive::ReadArchiveResult> read =
      archive::ReadArchive(*bytes, zip_path, options_.limits);
  if (!read.ok()) {
    return absl::InternalError(
        absl::StrCat("Cannot unpack ", zip_path, ": ", read.status().message()));
  }
  for (archive::ArchiveEntry& entry : read->entries) {
    if (entry.path == file.archive_path) return std::move(entry.data);
  }
  return absl::InternalError(absl::StrCat(zip_path, " has no ", file.archive_path));
}

std::optional<SourceFileInfo> SourceHandler::Impl::FileInfo(absl::string_view request_path) const {
  const SourcePath path = ParseSourcePath(request_path);
  if (!path.valid || path.release_only || path.trailing_slash) return std::nullopt;
  gateway::Request request;
  const Loaded loaded = Load(path.zip_path, /*may_unpack=*/false, request);
  if (loaded.tree == nullptr) return std::nullopt;
  auto found = loaded.tree->files.find(path.inner);
  if (found == loaded.tree->files.end()) return std::nullopt;
  return SourceFileInfo{found->second.size, found->second.media_type};
}

void AddSourceRoutes(gateway::Router* router, const replica::Store* store, SourceOptions options) {
  auto handler = std::make_shared<const SourceHandler>(store, std::move(options));
  router->HandlePrefix(
      "GET", std::string(kSourcePrefix),
      [handler](const gateway::Request& request) { return handler->Handle(request); });
}

}  // namespace pgxn::indexer
