// The API documents an indexer derives from its tree (api_documents.h:
// enriched release METAs and their rendered pages, enriched dist, extension,
// user and tag files, users/{letter}.json), buffered between commits and
// written to the store's derived family (api_tree.h's encoding), where the
// HTTP gateway reads them.
//
// A release is derived as its event is indexed; the top files an event
// touches are only noted, and derived once per commit from the tree as it is
// then (DeriveTopFiles): a tag or user file names every release of its tag
// or user and is rewritten by each, so deriving it per event would make
// catching up quadratic.
//
// Thread-compatible: one writer (the indexing thread); the store serves
// what was committed to the HTTP threads meanwhile.
#ifndef PGXN_INDEXER_DERIVED_DERIVED_DOCUMENTS_H_
#define PGXN_INDEXER_DERIVED_DERIVED_DOCUMENTS_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/optional.h"
#include "indexer/docs/release_files.h"
#include "nlohmann/json.hpp"
#include "replica/store.h"

namespace pgxn::indexer {

class DerivedDocuments {
 public:
  // `store` (not owned) is read for the tree and written on Commit.
  explicit DerivedDocuments(replica::Store* store) : store_(store) {}

  // Dates what is derived from now on: the time of the event being indexed;
  // 0 (a rebuild, which has no event): the time of deriving.
  void SetTime(int64_t time_us) { time_us_ = time_us; }
  int64_t time() const { return time_us_; }

  // The release under `dir` ("dist/pair/0.1.0/") has `meta` and `files`:
  // its enriched META, pages and source index (SourceIndexKey), and no page
  // of an earlier rendering it no longer has.
  void PutRelease(const std::string& dir, const nlohmann::json& meta, const ReleaseFiles& files);
  // The release under `dir` is gone: its enriched META, pages and source
  // index too.
  void DeleteRelease(const std::string& dir);

  // The top file at `path` (dist/, extension/, user/ or tag/NAME.json) was
  // changed at `time_us`; DeriveTopFiles derives it.
  void NoteTopFile(const std::string& path, int64_t time_us);
  // Derives every noted top file as the tree has it now (put or deleted),
  // dated by the event that last changed it; dists first, since user and
  // tag files show their abstracts.
  void DeriveTopFiles();

  // The derived document at `path` as the buffered changes leave it, parsed;
  // a discarded value if absent or not JSON.
  nlohmann::json Read(const std::string& path) const;

  // Bytes buffered since the last Commit.
  size_t pending_bytes() const { return pending_bytes_; }

  // The next Commit empties the derived family before it writes (a
  // rebuild); until then nothing committed is read.
  void StartOver();
  // Writes what is buffered and records `seq` as the store's derived seq
  // (0 for a rebuild's chunks: nothing is derived until it ends). On failure
  // what was buffered is dropped.
  absl::Status Commit(uint64_t seq);
  // Forgets what is buffered and noted, and what was cached from it.
  void Drop();

 private:
  void DeriveDist(const std::string& path, bool put);
  void DeriveExtension(const std::string& path, bool put);
  void DeriveUser(const std::string& path, bool put);
  void DeriveTag(const std::string& path, bool put);
  // The pages the release's derived META lists, but those in `keep`; without
  // `keep`, the derived META too.
  void DeleteReleasePages(const std::string& dir, const ReleaseFiles* keep);
  // The abstract the dist's derived JSON shows (cached until Drop).
  std::string DistAbstract(const std::string& dist);
  void Put(const std::string& path, absl::string_view content);
  void Delete(const std::string& path);
  void ClearBuffer();

  replica::Store* const store_;
  int64_t time_us_ = 0;
  // Path → encoded document, or nullopt for a deletion.
  absl::flat_hash_map<std::string, absl::optional<std::string>> pending_;
  size_t pending_bytes_ = 0;
  bool start_over_ = false;
  // Top file path → time of the event that changed it last.
  absl::flat_hash_map<std::string, int64_t> top_files_;
  // Lower-cased dist name → the abstract its derived JSON shows, as the
  // buffered changes leave it. User and tag files list many dists each:
  // looking each abstract up in memory keeps deriving them linear in the
  // file, not in the files it names.
  absl::flat_hash_map<std::string, std::string> abstracts_;
};

}  // namespace pgxn::indexer

#endif  // PGXN_INDEXER_DERIVED_DERIVED_DOCUMENTS_H_
