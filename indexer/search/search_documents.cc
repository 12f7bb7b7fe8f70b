#include "indexer/search/search_documents.h"

#include <optional>
#include <utility>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "base/log.h"
#include "indexer/derived/tree_reads.h"
#include "indexer/docs/tree_layout.h"

namespace pgxn::indexer {

using Json = nlohmann::json;

template <typename Doc>
void SearchDocuments::PutOrLog(const Doc& doc) {
  if (absl::Status s = index_->Put(doc); !s.ok()) {
    base::LogWarning(absl::StrCat("Not indexed: ", s.message()));
  }
}

std::string SearchDocuments::UserName(const std::string& user) {
  // A user file lists every release of its user: parse it once per batch,
  // not once per dist of the batch.
  if (auto it = user_names_.find(user); it != user_names_.end()) return it->second;
  const Json user_json = ReadTreeJson(*store_, absl::StrCat("user/", user, ".json"));
  std::string name = JsonString(user_json, "name");
  user_names_[user] = name;
  return name;
}

void SearchDocuments::IndexNewestRelease(const std::string& dir, const Json& meta,
                                         const ReleaseFiles& files) {
  const std::string user = JsonString(meta, "user");
  const std::string user_name = UserName(user);
  DistDoc dist_doc;
  dist_doc.dist = JsonString(meta, "name");
  dist_doc.version = JsonString(meta, "version");
  dist_doc.abstract = JsonString(meta, "abstract");
  dist_doc.description = JsonString(meta, "description");
  dist_doc.readme = ReadTreeText(*store_, dir + "README.txt");
  dist_doc.user = user;
  dist_doc.user_name = user_name;
  dist_doc.date = JsonString(meta, "date");
  dist_doc.release_status = JsonString(meta, "release_status");
  if (auto tags = meta.find("tags"); tags != meta.end() && tags->is_array()) {
    for (const Json& tag : *tags) {
      if (!tag.is_string()) continue;
      dist_doc.tags.push_back(tag.get<std::string>());
      PutOrLog(TagDoc{tag.get<std::string>()});
    }
  }
  PutOrLog(dist_doc);
  // The docs of the release replace the dist's previous ones. A release whose
  // archive has no README doc still has the tree's README.txt.
  index_->DeleteDocs(dist_doc.dist);
  bool has_readme = false;
  for (const ReleaseDoc& doc : files.docs) {
    has_readme = has_readme || doc.docpath == "README";
    PutOrLog(DocDoc{dist_doc.dist, dist_doc.version, doc.docpath, doc.title,
                    doc.abstract.empty() ? dist_doc.abstract : doc.abstract, doc.text,
                    dist_doc.date, user, user_name});
  }
  if (!has_readme && !dist_doc.readme.empty()) {
    PutOrLog(DocDoc{dist_doc.dist, dist_doc.version, "README", dist_doc.dist, dist_doc.abstract,
                    dist_doc.readme, dist_doc.date, user, user_name});
  }
  indexed_dists_.insert(absl::AsciiStrToLower(dist_doc.dist));
}

void SearchDocuments::ReindexExtension(const std::string& extension) {
  // extension/E.json names the newest release providing E under its
  // "latest" status.
  const Json doc = ReadTreeJson(*store_, absl::StrCat("extension/", extension, ".json"));
  if (!doc.is_object()) {
    index_->DeleteExtension(extension);
    return;
  }
  auto newest = doc.find(JsonString(doc, "latest"));
  if (newest == doc.end() || !newest->is_object()) return;
  const std::string dist = JsonString(*newest, "dist"), version = JsonString(*newest, "version");
  Json meta = derived_->Read(ReleaseDir(dist, version) + "META.json");
  if (!meta.is_object()) meta = ReadTreeJson(*store_, ReleaseDir(dist, version) + "META.json");
  if (!meta.is_object()) return;
  auto provides = meta.find("provides");
  if (provides == meta.end() || !provides->is_object()) return;
  for (const auto& [name, spec] : provides->items()) {
    if (absl::AsciiStrToLower(name) != extension || !spec.is_object()) continue;
    const std::string user = JsonString(meta, "user");
    PutOrLog(ExtensionDoc{name, JsonString(spec, "abstract"), JsonString(meta, "name"),
                          JsonString(meta, "version"), JsonString(spec, "docpath"),
                          JsonString(meta, "date"), user, UserName(user)});
    return;
  }
}

void SearchDocuments::IndexNoted(const absl::flat_hash_map<std::string, ReleaseFiles>& rendered) {
  auto forget = absl::MakeCleanup([this] { Forget(); });
  for (const std::string& user : users_) {
    const Json doc = ReadTreeJson(*store_, absl::StrCat("user/", user, ".json"));
    if (!doc.is_object()) {
      index_->DeleteUser(user);
      continue;
    }
    UserDoc user_doc{JsonString(doc, "nickname"), JsonString(doc, "name"), JsonString(doc, "email"),
                     JsonString(doc, "uri"), ""};
    user_doc.details = absl::StrCat(user_doc.name, " ", user_doc.uri);
    PutOrLog(user_doc);
  }
  for (const std::string& tag : removed_tags_) {
    if (absl::IsNotFound(store_->GetFile(absl::StrCat("tag/", tag, ".json")).status())) {
      index_->DeleteTag(tag);
    }
  }
  // Each noted dist's newest release; those whose docs this batch did not
  // render (all of them in a rebuild) are rendered on a second thread ahead.
  struct Newest {
    std::string dist;
    std::string dir;  // "" if the dist is gone
    bool ahead;       // in the renderer's list
  };
  std::vector<Newest> newest;
  std::vector<std::string> to_render;
  for (const std::string& dist : dists_) {
    if (indexed_dists_.contains(dist)) continue;
    const std::string dir = NewestReleaseDir(*store_, dist);
    const bool ahead = !dir.empty() && !rendered.contains(dir);
    newest.push_back(Newest{dist, dir, ahead});
    if (ahead) to_render.push_back(dir + "META.json");
  }
  const bool render_ahead = to_render.size() >= kRenderAheadMin;
  if (render_ahead) renderer_->StartAhead(std::move(to_render));
  auto stop_ahead = absl::MakeCleanup([&] {
    if (render_ahead) renderer_->StopAhead();
  });
  for (const Newest& release : newest) {
    const Json meta = release.dir.empty() ? Json(Json::value_t::discarded)
                                          : ReadTreeJson(*store_, release.dir + "META.json");
    // Taken even if then unused: the renderer's releases go in order.
    std::optional<ReleaseFiles> files;
    if (release.ahead) {
      files = render_ahead ? renderer_->TakeAhead(release.dir, meta)
                           : renderer_->Render(release.dir, meta);
    }
    if (!meta.is_object()) {
      index_->DeleteDist(release.dist);
      continue;
    }
    IndexNewestRelease(release.dir, meta, files.has_value() ? *files : rendered.at(release.dir));
  }
  for (const std::string& extension : extensions_) ReindexExtension(extension);
}

void SearchDocuments::Forget() {
  users_.clear();
  dists_.clear();
  extensions_.clear();
  removed_tags_.clear();
  indexed_dists_.clear();
  user_names_.clear();
}

}  // namespace pgxn::indexer
