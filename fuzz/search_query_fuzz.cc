// Fuzzes the search API's query handling (indexer/search/search_index.h): a
// user's query, any bytes, parsed with Xapian's QueryParser as the index
// configures it (field prefixes, exact-match boolean fields, stemming, pure
// NOT, the fallback to plain words) and run against a small in-memory index,
// in every index and in all of them at once.
//
// Invariants: a query is refused (InvalidArgument) exactly when it holds a
// NUL byte or invalid UTF-8 or is over kMaxQueryBytes, and otherwise
// answers; an answer echoes the query, and has no more hits than its limit
// or its count.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/utf8.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/fuzz_input.h"
#include "indexer/search/search_index.h"

namespace {

using pgxn::indexer::SearchIndex;

// The dists, extensions, users, tags and docs of pair and semver, as the
// index's own tests hold them.
SearchIndex& Index() {
  static SearchIndex* const index = [] {
    absl::StatusOr<std::unique_ptr<SearchIndex>> opened = SearchIndex::OpenInMemory();
    FUZZ_CHECK(opened.ok(), "an in-memory index opens");
    SearchIndex* index = opened->release();
    using namespace pgxn::indexer;
    const char* kDate = "2010-10-18T15:24:21Z";
    FUZZ_CHECK(index
                   ->Put(DistDoc{"pair",
                                 "0.1.0",
                                 "A key/value pair data type",
                                 "This library contains a single PostgreSQL extension.",
                                 "pair 0.1.0 README: a key/value pair data type",
                                 {"ordered pair", "pair", "key value"},
                                 "theory",
                                 "David E. Wheeler",
                                 kDate,
                                 "stable"})
                   .ok(),
               "put");
    FUZZ_CHECK(index
                   ->Put(DistDoc{"semver",
                                 "0.2.1",
                                 "A semantic version data type",
                                 "",
                                 "",
                                 {"semver", "version"},
                                 "theory",
                                 "David E. Wheeler",
                                 kDate,
                                 "testing"})
                   .ok(),
               "put");
    FUZZ_CHECK(index
                   ->Put(ExtensionDoc{"pair", "A key/value pair data type", "pair", "0.1.0",
                                      "doc/pair", kDate, "theory", "David E. Wheeler"})
                   .ok(),
               "put");
    FUZZ_CHECK(index
                   ->Put(UserDoc{"theory", "David E. Wheeler", "david@example.com",
                                 "https://justatheory.com/", "PostgreSQL and Perl"})
                   .ok(),
               "put");
    FUZZ_CHECK(index->Put(TagDoc{"key value"}).ok(), "put");
    FUZZ_CHECK(index->Put(TagDoc{"Ordered Pair"}).ok(), "put");
    FUZZ_CHECK(
        index
            ->Put(DocDoc{"pair", "0.1.0", "doc/pair", "pair 0.1.0", "A key/value pair data type",
                         "Synopsis: SELECT 'foo' ~> 'bar'; the pair data type", kDate, "theory",
                         "David E. Wheeler"})
            .ok(),
        "put");
    FUZZ_CHECK(index->Commit(1).ok(), "commit");
    return index;
  }();
  return *index;
}

void CheckAnswer(const absl::StatusOr<nlohmann::json>& result, absl::string_view q,
                 uint64_t limit) {
  FUZZ_CHECK(result.ok() || result.status().code() == absl::StatusCode::kInvalidArgument,
             "a query is answered or refused as InvalidArgument");
  if (!result.ok()) return;
  FUZZ_CHECK(result->at("query") == std::string(q), "the answer echoes the query");
  const size_t hits = result->at("hits").size();
  FUZZ_CHECK(hits <= limit, "no more hits than the limit");
  FUZZ_CHECK(hits <= result->at("count").get<uint64_t>(), "no more hits than the count");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view q = pgxn::fuzz::AsText(data, size);
  SearchIndex& index = Index();
  constexpr uint64_t kLimit = 5;
  bool refused = false;
  for (pgxn::indexer::SearchIn in : pgxn::indexer::kAllSearchIns) {
    absl::StatusOr<nlohmann::json> result = index.Search(in, q, 0, kLimit);
    CheckAnswer(result, q, kLimit);
    if (in != pgxn::indexer::kAllSearchIns[0]) {
      FUZZ_CHECK(result.ok() != refused, "every index refuses the same queries");
    }
    refused = !result.ok();
  }
  absl::StatusOr<nlohmann::json> all = index.SearchAll(q, 1, kLimit);
  CheckAnswer(all, q, kLimit);
  FUZZ_CHECK(all.ok() != refused, "every index refuses the same queries");
  const bool bad = q.find('\0') != absl::string_view::npos || !pgxn::base::IsValidUtf8(q) ||
                   q.size() > pgxn::indexer::kMaxQueryBytes;
  FUZZ_CHECK(refused == bad, "refused exactly for a NUL, invalid UTF-8 or too long");
  return 0;
}
