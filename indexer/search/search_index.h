// SearchIndex: the indexer node's full-text indexes (docs, dists, extensions,
// users, tags) and the PGXN search API over them (docs/pgxn.md §5). This header is
// the whole contract; Xapian stays inside search_index.cc.
//
// Who calls it: the indexer's event applier is the only writer (Put*/Delete*/
// Commit, from one thread; on disk the index applies the changes on an
// applier thread of its own, see CommitInBackground); the HTTP gateway's
// search handler (search_handler.h) calls Search/SearchAll from any number
// of I/O threads at the same time.
//
// Storage: all five indexes live in one Xapian database, each index in its own
// term namespace with its own field prefixes, so that one Xapian commit covers
// every index and the applied seq together (docs/architecture.md §4). Writes are buffered
// in memory until Commit, which applies them and stores the seq in a single
// transaction: a crash leaves the index at the previous commit, never between
// (but for a rebuild after DeleteAll, applied in batches: see Commit).
//
// Concurrency: Xapian objects are not thread-safe, so readers never share one.
//  - On disk, a search takes a read-only Database handle from a small pool
//    (opening one when the pool is empty; at most kMaxIdleReaders are kept) and
//    reopen()s it, which moves it to the latest commit: a read-only handle only
//    ever shows commits, never buffered or half-applied changes, and a search
//    never shows an older state than one that started before it. Searches do
//    not wait for the writer. If the writer commits twice during one search,
//    Xapian may report its revision as gone; the search is then retried, and
//    its last attempt holds a shared lock that Commit takes exclusively, so
//    every search completes (that attempt waits for a running Commit, and
//    Commit for it).
//  - In memory, there is one database object: searches and Commit take the
//    same lock exclusively, and buffered writes are applied only at Commit, so
//    searches still see only committed changes. This backend is for tests and
//    small deployments: its searches run one at a time.
#ifndef PGXN_INDEXER_SEARCH_SEARCH_INDEX_H_
#define PGXN_INDEXER_SEARCH_SEARCH_INDEX_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace pgxn::indexer {

// The latest release of a distribution. Key: `dist`, case-insensitively.
struct DistDoc {
  std::string dist;  // as in META.json, e.g. "pgTAP"
  std::string version;
  std::string abstract;
  std::string description;
  std::string readme;  // plain text of the release's README, may be empty
  std::vector<std::string> tags;
  std::string user;       // uploader's nickname
  std::string user_name;  // uploader's full name
  std::string date;       // YYYY-MM-DDTHH:MM:SSZ
  std::string release_status;
};

// An extension, from the latest release that provides it. Key: `extension`,
// case-insensitively.
struct ExtensionDoc {
  std::string extension;
  std::string abstract;
  std::string dist;
  std::string version;
  std::string docpath;  // may be empty
  std::string date;
  std::string user;
  std::string user_name;
};

// An active account. Key: `user` (the nickname), case-insensitively.
struct UserDoc {
  std::string user;
  std::string name;
  std::string email;
  std::string uri;
  std::string details;  // free text shown as the excerpt
};

// A tag. Key: `tag`, case-insensitively (tag files are named by the lower-cased
// tag); the stored and exact-matched form keeps the case of the latest Put.
struct TagDoc {
  std::string tag;
};

// One document of a release (a docfile or README). Key: (`dist`
// case-insensitively, `docpath` exactly).
struct DocDoc {
  std::string dist;
  std::string version;
  std::string docpath;  // e.g. "doc/pair"
  std::string title;
  std::string abstract;
  std::string body;  // plain text, markup already stripped
  std::string date;
  std::string user;
  std::string user_name;
};

enum class SearchIn { kDocs, kDists, kExtensions, kUsers, kTags };

// Every index, in the order SearchAll breaks score ties.
inline constexpr SearchIn kAllSearchIns[] = {
    SearchIn::kDocs, SearchIn::kDists, SearchIn::kExtensions, SearchIn::kUsers, SearchIn::kTags};

// "docs", "dists", "extensions", "users" or "tags": the `{in}` URL segment.
absl::string_view SearchInName(SearchIn in);

// Parses the `{in}` URL segment (exact, lower case). InvalidArgument otherwise.
absl::StatusOr<SearchIn> ParseSearchIn(absl::string_view name);

// Longest query Search accepts, in bytes. Real queries are a few words; the cap
// bounds the parser's and matcher's work for hostile ones.
inline constexpr size_t kMaxQueryBytes = 4096;

// A hit's excerpt is a window around its first matches in the first this
// many bytes of its text (README, body, ...): only that prefix is stored for
// it, so a hit on a 20 MB README costs what one on a short one does. Words
// past it still match.
inline constexpr size_t kMaxExcerptSourceBytes = size_t{64} << 10;

// The prefix of `text` an excerpt is made from: at most
// kMaxExcerptSourceBytes, never ending inside a UTF-8 character.
absl::string_view ExcerptSource(absl::string_view text);

// PGXN's limit rule: 0 or anything at or above kMaxLimit becomes kDefaultLimit.
inline constexpr uint64_t kDefaultLimit = 50;
inline constexpr uint64_t kMaxLimit = 1024;

class SearchIndex {
 public:
  // Read-only handles kept for reuse by the on-disk backend.
  static constexpr int kMaxIdleReaders = 8;
  // After DeleteAll, the on-disk index applies buffered changes in batches of
  // this many on a thread of its own (see Commit).
  static constexpr size_t kRestartChunkDocs = 500;

  // Opens the on-disk index in `dir`, creating the directory and an empty index
  // if missing. FailedPrecondition if another writer holds the index or it was
  // written by an incompatible schema; Internal for other storage errors.
  static absl::StatusOr<std::unique_ptr<SearchIndex>> Open(const std::string& dir);

  // An empty index held in memory, lost when destroyed.
  static absl::StatusOr<std::unique_ptr<SearchIndex>> OpenInMemory();

  ~SearchIndex();
  SearchIndex(const SearchIndex&) = delete;
  SearchIndex& operator=(const SearchIndex&) = delete;

  // Writers: the single writer thread only. Each buffers one change, applied at
  // the next Commit in call order. A Put replaces the document with the same
  // key. InvalidArgument if the key field is empty; nothing is buffered then.
  // Text that is not valid UTF-8 is stored with U+FFFD in place of bad bytes.
  absl::Status Put(const DistDoc& doc);
  absl::Status Put(const ExtensionDoc& doc);
  absl::Status Put(const UserDoc& doc);
  absl::Status Put(const TagDoc& doc);
  absl::Status Put(const DocDoc& doc);

  // Removes the dist and all of its docs. Deleting what is absent is not an error.
  void DeleteDist(absl::string_view dist);
  void DeleteExtension(absl::string_view extension);
  void DeleteUser(absl::string_view user);
  void DeleteTag(absl::string_view tag);
  // Removes every document of every index at the next Commit, which may then
  // record a seq below AppliedSeq() (the log the index follows started over).
  void DeleteAll();

  // Removes every doc of `dist`, keeping the dist itself.
  void DeleteDocs(absl::string_view dist);

  // Makes every buffered change visible to searches and durable, together with
  // `applied_seq`, atomically. Commit with nothing buffered just records the seq.
  // InvalidArgument if `applied_seq` is below that of the last Commit or
  // CommitInBackground (nothing is applied, the
  // buffer is kept). On a storage error (Internal) the index stays at its
  // previous commit and the buffer is dropped: the caller re-applies its
  // events after AppliedSeq().
  // Exception, a rebuild: after DeleteAll, the on-disk index hands every
  // kRestartChunkDocs buffered changes to its applier thread (below), which
  // applies and commits them while the caller builds the next documents
  // (one transaction for a whole rebuild is also much slower: Xapian's
  // buffer grows slow past a few thousand documents). Searches then see the
  // index fill up, as they see a rebuild's API documents appear, and
  // AppliedSeq() is 0 from the first part until the Commit, on disk too: a
  // crash part-way leaves an index that asks to be rebuilt.
  absl::Status Commit(uint64_t applied_seq);

  // As Commit, but on disk it returns once the changes are handed to the
  // index's applier thread, which applies them in order after those handed
  // before, while the caller builds the next ones. At most two batches wait
  // (the call waits for room). Returns the error of an earlier batch, if one
  // failed: that batch and every one handed after it (this one too) are
  // dropped, and AppliedSeq() says what the index has. AppliedSeq() moves
  // when a batch is committed; a later Commit waits for all of them.
  // Batches still waiting when the index is destroyed are dropped.
  absl::Status CommitInBackground(uint64_t applied_seq);

  // The seq of the last successful commit (read back from the index on Open);
  // 0 for a new index. Any thread.
  uint64_t AppliedSeq() const;

  // The seq of the last Commit or CommitInBackground, applied or not: what
  // AppliedSeq() becomes when the applier is done, unless it fails (then
  // AppliedSeq(), once the writer learns of it). The writer thread only.
  uint64_t CommittedSeq() const;

  // Searches one index; any thread, concurrently with the writer. Returns
  // {"query","offset","limit","count","hits":[...]} as PGXN does (hit keys in
  // docs/pgxn.md §5, `score` a string with 3 decimals, hits by descending score).
  // `limit` follows PGXN's rule (kDefaultLimit, kMaxLimit). A query that Xapian
  // cannot parse is searched as plain words. InvalidArgument for a query with a
  // NUL byte, invalid UTF-8 or over kMaxQueryBytes; Internal for storage
  // errors.
  absl::StatusOr<nlohmann::json> Search(SearchIn in, absl::string_view q, uint64_t offset,
                                        uint64_t limit) const;

  // Searches every index at once (on one snapshot) and merges the hits by
  // score; each hit gets "in": "<index>". `count` is the sum of the indexes'
  // counts. An extension of PGXN's API; errors as Search.
  absl::StatusOr<nlohmann::json> SearchAll(absl::string_view q, uint64_t offset,
                                           uint64_t limit) const;

 private:
  class Impl;
  explicit SearchIndex(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace pgxn::indexer

#endif  // PGXN_INDEXER_SEARCH_SEARCH_INDEX_H_
