#include "indexer/indexer.h"

#include <algorithm>
#include <filesystem>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gateway/status_http.h"
#include "indexer/search_handler.h"
#include "node/log.h"

namespace pgxn::indexer {
namespace {

using Json = nlohmann::json;

// The file at `path` in the store, parsed; a discarded value if absent or not JSON.
Json ReadJson(const node::Store& store, absl::string_view path) {
  absl::StatusOr<node::StoredFile> file = store.GetFile(path);
  if (!file.ok()) return Json(Json::value_t::discarded);
  absl::StatusOr<std::string> content = store.GetBlob(file->sha256);
  if (!content.ok()) return Json(Json::value_t::discarded);
  return Json::parse(*content, nullptr, /*allow_exceptions=*/false);
}

std::string ReadText(const node::Store& store, absl::string_view path) {
  absl::StatusOr<node::StoredFile> file = store.GetFile(path);
  if (!file.ok()) return "";
  absl::StatusOr<std::string> content = store.GetBlob(file->sha256);
  return content.ok() ? *std::move(content) : "";
}

std::string Str(const Json& doc, const char* key) {
  auto it = doc.find(key);
  return it != doc.end() && it->is_string() ? it->get<std::string>() : "";
}

// "user/theory.json" → "theory"; "" if `path` is not DIR/NAME.json.
std::string NameIn(absl::string_view path, absl::string_view dir) {
  std::vector<absl::string_view> parts = absl::StrSplit(path, '/');
  if (parts.size() != 2 || parts[0] != dir || !absl::EndsWith(parts[1], ".json")) return "";
  return std::string(parts[1].substr(0, parts[1].size() - 5));
}

// "dist/pair/0.1.0/META.json" → true.
bool IsReleaseMeta(absl::string_view path) {
  std::vector<absl::string_view> parts = absl::StrSplit(path, '/');
  return parts.size() == 4 && parts[0] == "dist" && parts[3] == "META.json";
}

// A loose version order for picking the newest of releases published in the
// same second: numeric major.minor.patch, then a release above its
// prereleases, then the text.
bool VersionBefore(absl::string_view a, absl::string_view b) {
  auto split = [](absl::string_view v) {
    std::vector<uint64_t> numbers;
    size_t i = 0;
    while (numbers.size() < 3) {
      uint64_t n = 0;
      while (i < v.size() && absl::ascii_isdigit(v[i])) n = n * 10 + (v[i++] - '0');
      numbers.push_back(n);
      if (i >= v.size() || v[i] != '.') break;
      ++i;
    }
    numbers.resize(3, 0);
    return std::make_pair(numbers, v.substr(std::min(i, v.size())));
  };
  auto [numbers_a, rest_a] = split(a);
  auto [numbers_b, rest_b] = split(b);
  if (numbers_a != numbers_b) return numbers_a < numbers_b;
  if (rest_a.empty() != rest_b.empty()) return !rest_a.empty();
  return rest_a < rest_b;
}

// The version of the newest release a dist/D.json lists: the latest date,
// then the highest version. "" if it lists none.
std::string NewestVersion(const Json& dist) {
  std::string version, date;
  auto releases = dist.find("releases");
  if (releases == dist.end() || !releases->is_object()) return "";
  for (const auto& [status, list] : releases->items()) {
    if (!list.is_array()) continue;
    for (const Json& release : list) {
      if (!release.is_object()) continue;
      const std::string v = Str(release, "version"), d = Str(release, "date");
      if (v.empty()) continue;
      if (version.empty() || d > date || (d == date && VersionBefore(version, v))) {
        version = v;
        date = d;
      }
    }
  }
  return version;
}

std::string ReleaseDir(absl::string_view dist, absl::string_view version) {
  return absl::StrCat("dist/", absl::AsciiStrToLower(dist), "/", absl::AsciiStrToLower(version),
                      "/");
}

}  // namespace

template <typename Doc>
void Indexer::PutOrLog(const Doc& doc) {
  // A document the index refuses (an empty key) is skipped, not allowed to
  // stop the indexing of everything after it.
  if (absl::Status s = index_->Put(doc); !s.ok()) {
    node::LogWarning(absl::StrCat("Not indexed: ", s.message()));
  }
}

absl::StatusOr<std::unique_ptr<Indexer>> Indexer::Open(const node::Store* store,
                                                       const std::string& index_dir) {
  absl::StatusOr<std::unique_ptr<SearchIndex>> index = SearchIndex::Open(index_dir);
  if (!index.ok()) return index.status();
  if ((*index)->AppliedSeq() > store->Tip().seq) {
    // Only possible if the store lost events it had applied (a machine crash
    // before its log was synced): the index describes a tree the store no
    // longer has, so rebuild it from the store.
    node::LogWarning(absl::StrCat("The search index in ", index_dir, " is at seq ",
                                  (*index)->AppliedSeq(), ", ahead of the store at ",
                                  store->Tip().seq, "; rebuilding it"));
    index->reset();
    std::error_code ec;
    std::filesystem::remove_all(index_dir, ec);
    if (ec) {
      return absl::InternalError(absl::StrCat("Cannot remove ", index_dir, ": ", ec.message()));
    }
    index = SearchIndex::Open(index_dir);
    if (!index.ok()) return index.status();
  }
  return std::unique_ptr<Indexer>(new Indexer(store, *std::move(index)));
}

absl::Status Indexer::CatchUp() {
  const uint64_t target = store_->Tip().seq;
  uint64_t seq = index_->AppliedSeq();
  indexed_seq_ = seq;
  if (seq < target) {
    node::LogInfo(absl::StrCat("Indexing events ", seq + 1, " to ", target, " from the store"));
  }
  while (seq < target) {
    absl::StatusOr<std::vector<v1::Event>> events =
        store_->ReadAfter(seq, 256, 64 << 20, /*include_content=*/false);
    if (!events.ok()) return events.status();
    if (events->empty()) break;
    for (const v1::Event& event : *events) {
      if (absl::Status s = Index(event); !s.ok()) return s;
      seq = event.seq();
    }
    if (absl::Status s = Commit(seq); !s.ok()) {
      indexed_seq_ = index_->AppliedSeq();
      return s;
    }
  }
  indexed_seq_ = seq;
  return absl::OkStatus();
}

void Indexer::OnApplied(const v1::Event& event, bool caught_up) {
  absl::Status status;
  if (indexed_seq_ + 1 == event.seq()) {
    status = Index(event);
    if (status.ok()) indexed_seq_ = event.seq();
  }
  if (status.ok() && indexed_seq_ == event.seq() &&
      (caught_up || indexed_seq_ - index_->AppliedSeq() >= kMaxUncommitted)) {
    status = Commit(indexed_seq_);
  }
  if (status.ok() && indexed_seq_ == event.seq()) return;
  // Out of step (a failed index or commit dropped buffered changes): rebuild
  // from the store, which has every event up to this one.
  if (!status.ok()) {
    node::LogError(absl::StrCat("Indexing event ", event.seq(), " failed: ", status.ToString(),
                                "; re-indexing from the store"));
  }
  status = CatchUp();
  if (!status.ok()) {
    node::LogError(absl::StrCat("Re-indexing failed: ", status.ToString(),
                                "; will retry with the next event"));
  }
}

absl::Status Indexer::Index(const v1::Event& event) {
  // Dists and extensions whose file an event rewrote without publishing a
  // release of them (an admin removed one): their documents are re-indexed
  // from the newest release the tree still lists, after the loop, once the
  // event's ops are all seen.
  absl::flat_hash_set<std::string> rewritten_dists, rewritten_extensions;
  absl::flat_hash_set<std::string> released_dists, released_extensions;
  for (const v1::Op& op : event.ops()) {
    const std::string& path = op.path();
    const bool put = op.type() == v1::Op::PUT;
    if (std::string user = NameIn(path, "user"); !user.empty()) {
      if (!put) {
        index_->DeleteUser(user);
        continue;
      }
      Json doc = ReadJson(*store_, path);
      if (!doc.is_object()) continue;
      UserDoc user_doc{Str(doc, "nickname"), Str(doc, "name"), Str(doc, "email"), Str(doc, "uri"),
                       ""};
      user_doc.details = absl::StrCat(user_doc.name, " ", user_doc.uri);
      PutOrLog(user_doc);
    } else if (std::string dist = NameIn(path, "dist"); !dist.empty()) {
      if (put) {
        rewritten_dists.insert(dist);
      } else {
        index_->DeleteDist(dist);
      }
    } else if (std::string extension = NameIn(path, "extension"); !extension.empty()) {
      if (put) {
        rewritten_extensions.insert(extension);
      } else {
        index_->DeleteExtension(extension);
      }
    } else if (std::string tag = NameIn(path, "tag"); !tag.empty() && !put) {
      index_->DeleteTag(tag);
    } else if (put && IsReleaseMeta(path)) {
      Json meta = IndexRelease(path.substr(0, path.size() - std::string("META.json").size()),
                               /*with_extensions=*/true);
      if (!meta.is_object()) continue;
      released_dists.insert(absl::AsciiStrToLower(Str(meta, "name")));
      if (auto provides = meta.find("provides"); provides != meta.end() && provides->is_object()) {
        for (const auto& [name, spec] : provides->items()) {
          released_extensions.insert(absl::AsciiStrToLower(name));
        }
      }
    }
  }
  for (const std::string& dist : rewritten_dists) {
    if (released_dists.contains(dist)) continue;
    const Json doc = ReadJson(*store_, absl::StrCat("dist/", dist, ".json"));
    if (!doc.is_object()) continue;
    const std::string version = NewestVersion(doc);
    if (!version.empty()) IndexRelease(ReleaseDir(dist, version), /*with_extensions=*/false);
  }
  for (const std::string& extension : rewritten_extensions) {
    if (!released_extensions.contains(extension)) ReindexExtension(extension);
  }
  return absl::OkStatus();
}

Json Indexer::IndexRelease(const std::string& dir, bool with_extensions) {
  Json meta = ReadJson(*store_, dir + "META.json");
  if (!meta.is_object()) return meta;
  const std::string user = Str(meta, "user");
  const Json user_json = ReadJson(*store_, absl::StrCat("user/", user, ".json"));
  const std::string user_name = user_json.is_object() ? Str(user_json, "name") : "";
  DistDoc dist_doc;
  dist_doc.dist = Str(meta, "name");
  dist_doc.version = Str(meta, "version");
  dist_doc.abstract = Str(meta, "abstract");
  dist_doc.description = Str(meta, "description");
  dist_doc.readme = ReadText(*store_, dir + "README.txt");
  dist_doc.user = user;
  dist_doc.user_name = user_name;
  dist_doc.date = Str(meta, "date");
  dist_doc.release_status = Str(meta, "release_status");
  if (auto tags = meta.find("tags"); tags != meta.end() && tags->is_array()) {
    for (const Json& tag : *tags) {
      if (!tag.is_string()) continue;
      dist_doc.tags.push_back(tag.get<std::string>());
      PutOrLog(TagDoc{tag.get<std::string>()});
    }
  }
  PutOrLog(dist_doc);
  if (auto provides = meta.find("provides");
      with_extensions && provides != meta.end() && provides->is_object()) {
    for (const auto& [name, spec] : provides->items()) {
      if (!spec.is_object()) continue;
      ExtensionDoc ext{name, Str(spec, "abstract"), dist_doc.dist, dist_doc.version,
                       "",   dist_doc.date,         user,          user_name};
      PutOrLog(ext);
    }
  }
  // The README is the one document every release has in the tree itself;
  // the docs inside the archive are indexed by the docs renderer.
  index_->DeleteDocs(dist_doc.dist);
  if (!dist_doc.readme.empty()) {
    DocDoc readme{dist_doc.dist,   dist_doc.version, "README", dist_doc.dist, dist_doc.abstract,
                  dist_doc.readme, dist_doc.date,    user,     user_name};
    PutOrLog(readme);
  }
  return meta;
}

void Indexer::ReindexExtension(const std::string& extension) {
  // extension/E.json names the newest release providing E under its
  // "latest" status.
  const Json doc = ReadJson(*store_, absl::StrCat("extension/", extension, ".json"));
  if (!doc.is_object()) return;
  auto newest = doc.find(Str(doc, "latest"));
  if (newest == doc.end() || !newest->is_object()) return;
  const std::string dist = Str(*newest, "dist"), version = Str(*newest, "version");
  const Json meta = ReadJson(*store_, ReleaseDir(dist, version) + "META.json");
  if (!meta.is_object()) return;
  auto provides = meta.find("provides");
  if (provides == meta.end() || !provides->is_object()) return;
  for (const auto& [name, spec] : provides->items()) {
    if (absl::AsciiStrToLower(name) != extension || !spec.is_object()) continue;
    const std::string user = Str(meta, "user");
    const Json user_json = ReadJson(*store_, absl::StrCat("user/", user, ".json"));
    PutOrLog(ExtensionDoc{name, Str(spec, "abstract"), Str(meta, "name"), Str(meta, "version"), "",
                          Str(meta, "date"), user,
                          user_json.is_object() ? Str(user_json, "name") : ""});
    return;
  }
}

void Indexer::OnReset() {
  index_->DeleteAll();
  // The top files as PUTs: Index re-indexes users, and dists and extensions
  // from the newest release their files list, as after any rewrite.
  v1::Event everything;
  absl::Status listed = store_->ForEachFile([&](absl::string_view path, const node::StoredFile&) {
    // Only the top files (dist/D.json, ...): a release's own META.json would
    // index that release, newest or not.
    if (std::count(path.begin(), path.end(), '/') != 1) return true;
    v1::Op* op = everything.add_ops();
    op->set_type(v1::Op::PUT);
    op->set_path(std::string(path));
    return true;
  });
  absl::Status status = listed.ok() ? Index(everything) : listed;
  const uint64_t seq = store_->Tip().seq;
  if (status.ok()) status = Commit(seq);
  if (status.ok()) {
    indexed_seq_ = seq;
    node::LogInfo(absl::StrCat("Search index rebuilt from the tree at seq ", seq));
  } else {
    node::LogError(absl::StrCat("Rebuilding the search index failed: ", status.ToString()));
  }
}

absl::Status Indexer::Commit(uint64_t seq) {
  // The index must never record a seq the store could lose.
  if (absl::Status s = store_->SyncWal(); !s.ok()) return s;
  return index_->Commit(seq);
}

void Indexer::AddRoutes(gateway::Router* router) {
  router->HandlePrefix("GET", "/search/", [this](const gateway::Request& request) {
    return HandleSearch(request, *index_);
  });
  router->Handle("GET", "/index.json",
                 [this](const gateway::Request& request) { return HandleIndexJson(request); });
}

gateway::Response Indexer::HandleIndexJson(const gateway::Request& request) const {
  nlohmann::ordered_json templates = nlohmann::ordered_json::parse(
      ReadText(*store_, "index.json"), nullptr, /*allow_exceptions=*/false);
  if (!templates.is_object()) templates = nlohmann::ordered_json::object();
  templates["search"] = "/search/{in}/";
  return gateway::JsonResponse(200, templates.dump(3) + "\n");
}

}  // namespace pgxn::indexer
