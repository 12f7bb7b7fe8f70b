#include "indexer/search/search_index.h"

#include <stdlib.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <memory>
#include <regex>
#include <set>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"

namespace pgxn::indexer {
namespace {

// A fresh directory under the system temp dir, removed with its contents.
class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "pgxn_search_index_test.XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) std::abort();
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

DistDoc Dist(std::string dist, std::string version, std::string user, std::string user_name,
             std::string abstract, std::string description, std::string readme,
             std::vector<std::string> tags) {
  DistDoc d;
  d.dist = std::move(dist);
  d.version = std::move(version);
  d.user = std::move(user);
  d.user_name = std::move(user_name);
  d.abstract = std::move(abstract);
  d.description = std::move(description);
  d.readme = std::move(readme);
  d.tags = std::move(tags);
  d.date = "2011-05-12T18:55:30Z";
  d.release_status = "stable";
  return d;
}

constexpr char kTheory[] = "David E. Wheeler";
constexpr char kOkbob[] = "Pavel Stěhule";
constexpr char kFred[] = "Fred Flintstone";

std::vector<DistDoc> CorpusDists() {
  return {
      Dist("pair", "0.1.2", "theory", kTheory, "A key/value pair data type",
           "This library contains a single PostgreSQL extension, a key/value pair data type "
           "called pair.",
           "pair 0.1.2\n\nThe pair extension provides an ordered pair. Use it as "
           "SELECT 'foo' ~> 'bar' when x < y & y > z.",
           {"ordered pair", "key value"}),
      Dist("pgTAP", "0.25.0", "theory", kTheory, "Unit testing for PostgreSQL",
           "pgTAP is a suite of database functions that make it easy to write TAP-emitting unit "
           "tests in psql scripts or xUnit-style test functions.",
           "pgTAP\n\npgTAP is a unit testing framework for PostgreSQL written in PL/pgSQL.",
           {"testing", "unit testing", "tap"}),
      Dist("semver", "0.2.0", "theory", kTheory, "A semantic version data type",
           "A Postgres data type for the Semantic Versioning format.",
           "semver\n\nThis extension works well with the pair extension.", {"semver", "version"}),
      Dist("pairwise", "1.0.0", "fred", kFred, "Pairwise aggregate functions", "", "",
           {"aggregates"}),
      Dist("kvstore", "1.1.0", "fred", kFred, "Simple key value store", "",
           "kvstore keeps keys and values in a table.", {"key value", "storage"}),
      Dist("KeyCase", "0.0.1", "fred", kFred, "Case sensitive tags demo", "", "", {"Key Value"}),
      Dist("orafce", "3.7.2", "okbob", kOkbob, "Oracle compatibility functions",
           "Functions and operators that emulate a subset of functions and packages from the "
           "Oracle RDBMS.",
           "Orafce\n\nThis module contains useful functions that can help with porting Oracle "
           "applications to PostgreSQL.",
           {"oracle", "compatibility"}),
      Dist("plpgsql_check", "2.0.0", "okbob", kOkbob,
           "Additional tools for plpgsql functions validation", "",
           "plpgsql_check is a linter for plpgsql.", {"plpgsql", "linter"}),
      Dist("first_last_agg", "0.1.4", "okbob", kOkbob, "first() and last() aggregate functions", "",
           "Emulating a similar functionality from Oracle.", {"aggregates"}),
      Dist("tinyint", "0.1.1", "fred", kFred, "A one byte integer",
           "tinyint is a one byte integer type.", "", {"integer"}),
      Dist("json_accessors", "1.3.0", "fred", kFred, "Functions for accessing JSON fields", "",
           "Access JSON & JSONB.", {"json"}),
      Dist("ip4r", "2.4.0", "fred", kFred, "IPv4 and IPv6 ranges", "",
           "Index ranges of IP addresses.", {"ip", "network"}),
  };
}

std::string LongBodyWithOracleInside() {
  std::string body;
  for (int i = 0; i < 60; ++i) body += "Assertions about schemas and tables and columns. ";
  body += "SELECT fdw_privs_are('Oracle', 'fred', ARRAY['USAGE']); checks a foreign wrapper. ";
  for (int i = 0; i < 60; ++i) body += "More assertions about functions and triggers. ";
  return body;
}

std::vector<DocDoc> CorpusDocs() {
  auto doc = [](std::string dist, std::string version, std::string docpath, std::string title,
                std::string abstract, std::string body, std::string user, std::string user_name) {
    DocDoc d;
    d.dist = std::move(dist);
    d.version = std::move(version);
    d.docpath = std::move(docpath);
    d.title = std::move(title);
    d.abstract = std::move(abstract);
    d.body = std::move(body);
    d.user = std::move(user);
    d.user_name = std::move(user_name);
    d.date = "2011-05-12T18:55:30Z";
    return d;
  };
  return {
      doc("pair", "0.1.2", "doc/pair", "pair 0.1.2", "A key/value pair data type",
          "Synopsis: SELECT pair('foo', 'bar'); Description: a key/value pair data type. "
          "Compare a < b && c > d.",
          "theory", kTheory),
      doc("pgTAP", "0.25.0", "doc/pgtap", "pgTAP 0.25.0", "Unit testing for PostgreSQL",
          LongBodyWithOracleInside(), "theory", kTheory),
      doc("orafce", "3.7.2", "doc/orafce", "Orafce Documentation", "",
          "Each feature compatible with Oracle databases is defined in the oracle schema.", "okbob",
          kOkbob),
      doc("orafce", "3.7.2", "doc/sql_migration", "Oracle to PostgreSQL Migration Guide", "",
          "Explains the correspondence between PostgreSQL and Oracle databases.", "okbob", kOkbob),
  };
}

std::vector<ExtensionDoc> CorpusExtensions() {
  auto ext = [](std::string extension, std::string abstract, std::string dist, std::string version,
                std::string docpath, std::string user, std::string user_name) {
    ExtensionDoc e;
    e.extension = std::move(extension);
    e.abstract = std::move(abstract);
    e.dist = std::move(dist);
    e.version = std::move(version);
    e.docpath = std::move(docpath);
    e.user = std::move(user);
    e.user_name = std::move(user_name);
    e.date = "2011-05-12T18:55:30Z";
    return e;
  };
  return {
      ext("pair", "A key/value pair data type", "pair", "0.1.2", "doc/pair", "theory", kTheory),
      ext("pgtap", "Unit testing for PostgreSQL", "pgTAP", "0.25.0", "doc/pgtap", "theory",
          kTheory),
      ext("semver", "A semantic version data type", "semver", "0.2.0", "", "theory", kTheory),
      ext("orafce", "Oracle compatibility functions & <packages>", "orafce", "3.7.2", "doc/orafce",
          "okbob", kOkbob),
      ext("plpgsql_check", "Additional tools for plpgsql functions validation", "plpgsql_check",
          "2.0.0", "", "okbob", kOkbob),
  };
}

std::vector<UserDoc> CorpusUsers() {
  return {
      {"theory", kTheory, "david@justatheory.com", "https://justatheory.com/",
       "PostgreSQL hacker & author of <pgTAP>"},
      {"okbob", kOkbob, "pavel@example.com", "", "Author of orafce and plpgsql_check"},
      {"fred", kFred, "fred@example.org", "https://example.org/fred", "Rock & roll data types"},
  };
}

std::vector<std::string> CorpusTags() {
  return {"ordered pair", "key value",  "testing", "unit testing", "tap",           "semver",
          "version",      "aggregates", "storage", "oracle",       "compatibility", "plpgsql",
          "linter",       "integer",    "json",    "ip",           "network"};
}

absl::Status PutCorpus(SearchIndex& index) {
  for (const DistDoc& d : CorpusDists()) {
    if (absl::Status s = index.Put(d); !s.ok()) return s;
  }
  for (const DocDoc& d : CorpusDocs()) {
    if (absl::Status s = index.Put(d); !s.ok()) return s;
  }
  for (const ExtensionDoc& e : CorpusExtensions()) {
    if (absl::Status s = index.Put(e); !s.ok()) return s;
  }
  for (const UserDoc& u : CorpusUsers()) {
    if (absl::Status s = index.Put(u); !s.ok()) return s;
  }
  for (const std::string& tag : CorpusTags()) {
    if (absl::Status s = index.Put(TagDoc{tag}); !s.ok()) return s;
  }
  return index.Commit(1);
}

// The `key` of every hit, in order.
std::vector<std::string> Values(const nlohmann::json& result, const char* key) {
  std::vector<std::string> values;
  for (const nlohmann::json& hit : result.at("hits")) values.push_back(hit.value(key, "<none>"));
  return values;
}

std::set<std::string> ValueSet(const nlohmann::json& result, const char* key) {
  const std::vector<std::string> values = Values(result, key);
  return {values.begin(), values.end()};
}

// The field that names a hit in each index.
const char* NameKey(SearchIn in) {
  switch (in) {
    case SearchIn::kDocs:
      return "docpath";
    case SearchIn::kDists:
      return "dist";
    case SearchIn::kExtensions:
      return "extension";
    case SearchIn::kUsers:
      return "user";
    case SearchIn::kTags:
      return "tag";
  }
  return "";
}

class CorpusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<SearchIndex>> index = SearchIndex::OpenInMemory();
    ASSERT_TRUE(index.ok()) << index.status();
    index_ = *std::move(index);
    absl::Status s = PutCorpus(*index_);
    ASSERT_TRUE(s.ok()) << s;
  }

  nlohmann::json MustSearch(SearchIn in, absl::string_view q, uint64_t offset = 0,
                            uint64_t limit = 50) {
    absl::StatusOr<nlohmann::json> result = index_->Search(in, q, offset, limit);
    EXPECT_TRUE(result.ok()) << "q=" << q << ": " << result.status();
    return result.ok() ? *result : nlohmann::json{{"hits", nlohmann::json::array()}};
  }

  std::unique_ptr<SearchIndex> index_;
};

TEST(SearchInTest, ParsesEveryIndexNameAndRejectsOthers) {
  for (SearchIn in : kAllSearchIns) {
    absl::StatusOr<SearchIn> parsed = ParseSearchIn(SearchInName(in));
    ASSERT_TRUE(parsed.ok()) << SearchInName(in) << ": " << parsed.status();
    EXPECT_EQ(*parsed, in) << SearchInName(in);
  }
  for (absl::string_view bad : {"", "doc", "Docs", "all", "tag", "docs/", "users "}) {
    absl::StatusOr<SearchIn> parsed = ParseSearchIn(bad);
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument) << "\"" << bad << "\"";
  }
}

TEST_F(CorpusTest, QueriesFindTheExpectedDists) {
  struct Case {
    const char* q;
    std::set<std::string> dists;
  };
  const Case cases[] = {
      // Field queries.
      {"dist:pair", {"pair"}},
      {"dist:pgTAP", {"pgTAP"}},
      {"description:emulate", {"orafce"}},
      {"readme:linter", {"plpgsql_check"}},
      {"abstract:pair", {"pair"}},
      {"user:theory", {"pair", "pgTAP", "semver"}},
      {"user:Theory", {"pair", "pgTAP", "semver"}},
      {"user:okbob", {"orafce", "plpgsql_check", "first_last_agg"}},
      {"user_name:stěhule", {"orafce", "plpgsql_check", "first_last_agg"}},
      // Tags are whole and exact, case kept.
      {"tags:\"key value\"", {"pair", "kvstore"}},
      {"tags:\"Key Value\"", {"KeyCase"}},
      {"tags:\"ordered pair\"", {"pair"}},
      {"tags:ordered", {}},
      {"tags:\"\"", {}},
      {"key tags:storage", {"kvstore"}},
      {"pair tags:storage", {}},
      // Unqualified words search every field, tags included.
      {"pair", {"pair", "semver"}},
      {"linter", {"plpgsql_check"}},
      {"theory", {"pair", "pgTAP", "semver"}},
      {"network", {"ip4r"}},
      // Stemming: "types" finds "type", "aggregate" finds "aggregates".
      {"types", {"pair", "semver", "tinyint"}},
      {"aggregate", {"pairwise", "first_last_agg"}},
      // Phrases.
      {"\"data type\"", {"pair", "semver"}},
      {"\"pair data\"", {"pair"}},
      {"\"type data\"", {}},
      // Boolean operators; the default is OR.
      {"oracle json", {"orafce", "first_last_agg", "json_accessors"}},
      {"oracle OR json", {"orafce", "first_last_agg", "json_accessors"}},
      {"oracle AND aggregate", {"first_last_agg"}},
      {"oracle NOT aggregate", {"orafce"}},
      {"+oracle -aggregate", {"orafce"}},
      {"oracle -aggregate", {"orafce"}},
      {"+oracle +aggregate", {"first_last_agg"}},
      {"(oracle OR json) AND compatibility", {"orafce"}},
      {"nosuchword", {}},
  };
  for (const Case& c : cases) {
    const nlohmann::json result = MustSearch(SearchIn::kDists, c.q);
    EXPECT_EQ(ValueSet(result, "dist"), c.dists) << "q=" << c.q;
    EXPECT_EQ(result.value("count", uint64_t{999}), c.dists.size()) << "q=" << c.q;
  }
}

TEST_F(CorpusTest, PureNotMatchesEverythingElseInTheSameIndexOnly) {
  const nlohmann::json result = MustSearch(SearchIn::kDists, "NOT oracle");
  const std::set<std::string> dists = ValueSet(result, "dist");
  EXPECT_EQ(dists.size(), 10u) << "q=NOT oracle";
  EXPECT_EQ(dists.count("orafce"), 0u) << "q=NOT oracle";
  EXPECT_EQ(dists.count("<none>"), 0u) << "q=NOT oracle: a hit from another index";
}

TEST_F(CorpusTest, QueriesFindTheExpectedHitsInOtherIndexes) {
  struct Case {
    SearchIn in;
    const char* q;
    std::set<std::string> names;  // NameKey(in) of each hit
  };
  const Case cases[] = {
      {SearchIn::kDocs, "oracle", {"doc/pgtap", "doc/orafce", "doc/sql_migration"}},
      {SearchIn::kDocs, "dist:orafce", {"doc/orafce", "doc/sql_migration"}},
      {SearchIn::kDocs, "title:migration", {"doc/sql_migration"}},
      {SearchIn::kDocs, "body:synopsis", {"doc/pair"}},
      {SearchIn::kDocs, "user:theory", {"doc/pair", "doc/pgtap"}},
      {SearchIn::kDocs, "user_name:pavel", {"doc/orafce", "doc/sql_migration"}},
      {SearchIn::kExtensions, "pair", {"pair"}},
      {SearchIn::kExtensions, "extension:semver", {"semver"}},
      {SearchIn::kExtensions, "user:okbob", {"orafce", "plpgsql_check"}},
      {SearchIn::kExtensions, "types", {"pair", "semver"}},
      {SearchIn::kExtensions, "abstract:validation", {"plpgsql_check"}},
      {SearchIn::kUsers, "wheeler", {"theory"}},
      {SearchIn::kUsers, "user:theory", {"theory"}},
      {SearchIn::kUsers, "theory", {"theory"}},
      {SearchIn::kUsers, "name:flintstone", {"fred"}},
      {SearchIn::kUsers, "details:hacker", {"theory"}},
      {SearchIn::kUsers, "email:david@justatheory.com", {"theory"}},
      {SearchIn::kUsers, "uri:https://example.org/fred", {"fred"}},
      {SearchIn::kUsers, "justatheory", {}},  // email and uri are exact-only
      {SearchIn::kTags, "pair", {"ordered pair"}},
      {SearchIn::kTags, "testing", {"testing", "unit testing"}},
      {SearchIn::kTags, "tag:\"unit testing\"", {"unit testing"}},
      {SearchIn::kTags, "tag:testing", {"testing"}},
  };
  for (const Case& c : cases) {
    const nlohmann::json result = MustSearch(c.in, c.q);
    EXPECT_EQ(ValueSet(result, NameKey(c.in)), c.names) << SearchInName(c.in) << " q=" << c.q;
  }
}

TEST_F(CorpusTest, HitsAreOrderedByScore) {
  for (SearchIn in : kAllSearchIns) {
    const nlohmann::json result = MustSearch(in, "pair OR oracle OR testing OR types");
    double previous = std::numeric_limits<double>::infinity();
    for (const nlohmann::json& hit : result.at("hits")) {
      const double score = std::stod(hit.at("score").get<std::string>());
      EXPECT_LE(score, previous) << SearchInName(in) << ": " << hit.dump();
      previous = score;
    }
  }
  // The dist named pair outranks the one that only mentions it in its README.
  EXPECT_EQ(Values(MustSearch(SearchIn::kDists, "pair"), "dist"),
            (std::vector<std::string>{"pair", "semver"}));
}

TEST_F(CorpusTest, HitsHaveExactlyPgxnKeys) {
  struct Case {
    SearchIn in;
    const char* q;
    std::set<std::string> keys;
  };
  const Case cases[] = {
      {SearchIn::kDocs,
       "pair",
       {"title", "abstract", "dist", "version", "docpath", "date", "user", "user_name", "excerpt",
        "score"}},
      {SearchIn::kDists,
       "pair",
       {"dist", "version", "abstract", "date", "user", "user_name", "excerpt", "score"}},
      {SearchIn::kExtensions,
       "pair",
       {"extension", "abstract", "dist", "version", "docpath", "date", "user", "user_name",
        "excerpt", "score"}},
      {SearchIn::kUsers, "theory", {"user", "name", "uri", "excerpt", "score"}},
      {SearchIn::kTags, "pair", {"tag", "score"}},
  };
  const std::regex score_format("[0-9]+\\.[0-9]{3}");
  for (const Case& c : cases) {
    const nlohmann::json result = MustSearch(c.in, c.q);
    ASSERT_FALSE(result.at("hits").empty()) << SearchInName(c.in) << " q=" << c.q;
    for (const nlohmann::json& hit : result.at("hits")) {
      std::set<std::string> keys;
      for (const auto& [key, value] : hit.items()) {
        keys.insert(key);
        EXPECT_TRUE(value.is_string()) << SearchInName(c.in) << " key " << key;
      }
      EXPECT_EQ(keys, c.keys) << SearchInName(c.in) << ": " << hit.dump();
      EXPECT_TRUE(std::regex_match(hit.at("score").get<std::string>(), score_format))
          << SearchInName(c.in) << ": " << hit.dump();
    }
  }
}

TEST_F(CorpusTest, ResponseEnvelopeEchoesTheRequest) {
  const nlohmann::json result = MustSearch(SearchIn::kDists, "\"foo bar\" baz", 3, 7);
  EXPECT_EQ(result.at("query"), "\"foo bar\" baz");
  EXPECT_EQ(result.at("offset"), 3);
  EXPECT_EQ(result.at("limit"), 7);
  EXPECT_EQ(result.at("count"), 1);                       // pair's README has 'foo' ~> 'bar'
  EXPECT_EQ(result.at("hits"), nlohmann::json::array());  // offset 3 is past it
  EXPECT_EQ(result.size(), 5u) << result.dump();
}

TEST_F(CorpusTest, HitFieldsComeFromTheDocument) {
  const nlohmann::json dists = MustSearch(SearchIn::kDists, "dist:pgtap");
  ASSERT_EQ(dists.at("hits").size(), 1u);
  const nlohmann::json& dist = dists.at("hits")[0];
  EXPECT_EQ(dist.at("dist"), "pgTAP");
  EXPECT_EQ(dist.at("version"), "0.25.0");
  EXPECT_EQ(dist.at("abstract"), "Unit testing for PostgreSQL");
  EXPECT_EQ(dist.at("user"), "theory");
  EXPECT_EQ(dist.at("user_name"), "David E. Wheeler");
  EXPECT_EQ(dist.at("date"), "2011-05-12T18:55:30Z");

  const nlohmann::json exts = MustSearch(SearchIn::kExtensions, "extension:pgtap");
  ASSERT_EQ(exts.at("hits").size(), 1u);
  EXPECT_EQ(exts.at("hits")[0].at("dist"), "pgTAP");
  EXPECT_EQ(exts.at("hits")[0].at("docpath"), "doc/pgtap");

  const nlohmann::json users = MustSearch(SearchIn::kUsers, "user:okbob");
  ASSERT_EQ(users.at("hits").size(), 1u);
  EXPECT_EQ(users.at("hits")[0].at("name"), "Pavel Stěhule");
  EXPECT_EQ(users.at("hits")[0].at("uri"), "");
}

TEST_F(CorpusTest, ExcerptsHighlightMatchesAndEscapeHtml) {
  struct Case {
    SearchIn in;
    const char* q;
    const char* hit;  // NameKey(in)
    const char* excerpt;
  };
  const Case cases[] = {
      {SearchIn::kDists, "linter", "plpgsql_check",
       "plpgsql_check is a <strong>linter</strong> for plpgsql."},
      // The README, escaped; "pair" and its stem highlighted.
      {SearchIn::kDists, "dist:pair", "pair",
       "<strong>pair</strong> 0.1.2\n\nThe <strong>pair</strong> extension provides an ordered "
       "<strong>pair</strong>. Use it as SELECT 'foo' ~&gt; 'bar' when x &lt; y &amp; y &gt; z."},
      // No README and no description: the abstract.
      {SearchIn::kDists, "pairwise", "pairwise", "<strong>Pairwise</strong> aggregate functions"},
      // Stemmed words are highlighted in their written form.
      {SearchIn::kDists, "types", "tinyint",
       "tinyint is a one byte integer <strong>type</strong>."},
      {SearchIn::kExtensions, "packages", "orafce",
       "Oracle compatibility functions &amp; &lt;<strong>packages</strong>&gt;"},
      {SearchIn::kUsers, "hacker", "theory",
       "PostgreSQL <strong>hacker</strong> &amp; author of &lt;pgTAP&gt;"},
      {SearchIn::kDocs, "\"key value\"", "doc/pair",
       "Synopsis: SELECT pair('foo', 'bar'); Description: a <strong>key</strong>/"
       "<strong>value</strong> pair data type. Compare a &lt; b &amp;&amp; c &gt; d."},
      // Exact-field matches are not highlighted; the text is still escaped.
      {SearchIn::kUsers, "user:fred", "fred", "Rock &amp; roll data types"},
  };
  for (const Case& c : cases) {
    const nlohmann::json result = MustSearch(c.in, c.q);
    bool found = false;
    for (const nlohmann::json& hit : result.at("hits")) {
      if (hit.at(NameKey(c.in)) != c.hit) continue;
      found = true;
      EXPECT_EQ(hit.at("excerpt"), c.excerpt) << SearchInName(c.in) << " q=" << c.q;
    }
    EXPECT_TRUE(found) << SearchInName(c.in) << " q=" << c.q << ": no hit " << c.hit;
  }
}

TEST_F(CorpusTest, ExcerptOfALongBodyIsShortAndAroundTheMatch) {
  const nlohmann::json result = MustSearch(SearchIn::kDocs, "+dist:pgtap +oracle");
  ASSERT_EQ(result.at("hits").size(), 1u);
  const std::string excerpt = result.at("hits")[0].at("excerpt");
  EXPECT_NE(excerpt.find("<strong>Oracle</strong>"), std::string::npos) << excerpt;
  EXPECT_NE(excerpt.find("&#8230;"), std::string::npos) << excerpt;
  EXPECT_EQ(excerpt.find("'Oracle'"), std::string::npos) << "unhighlighted: " << excerpt;
  EXPECT_LT(excerpt.size(), 300u) << excerpt;
  EXPECT_GT(excerpt.size(), 100u) << excerpt;
}

// "testing" is only in pgTAP's abstract: the excerpt is the body's start,
// not its last words (which Xapian would pick when nothing in it matches).
TEST_F(CorpusTest, AHitMatchedOutsideItsTextShowsTheTextsStart) {
  const nlohmann::json result = MustSearch(SearchIn::kDocs, "testing");
  ASSERT_EQ(result.at("hits").size(), 1u) << result.dump();
  const std::string excerpt = result.at("hits")[0].at("excerpt");
  EXPECT_TRUE(absl::StartsWith(excerpt, "Assertions about schemas and tables")) << excerpt;
  EXPECT_TRUE(absl::EndsWith(excerpt, "&#8230;")) << excerpt;
  EXPECT_LE(excerpt.size(), 220u) << excerpt;
  EXPECT_EQ(excerpt.find("triggers"), std::string::npos) << excerpt;
}

TEST_F(CorpusTest, PaginationSlicesTheRankedHits) {
  const char* q = "functions OR data OR pair OR oracle";
  const nlohmann::json all = MustSearch(SearchIn::kDists, q);
  const std::vector<std::string> ranked = Values(all, "dist");
  ASSERT_GE(ranked.size(), 6u);
  ASSERT_EQ(all.at("count"), ranked.size());
  struct Case {
    uint64_t offset;
    uint64_t limit;
    uint64_t echoed_limit;
    size_t first;  // index into `ranked`
    size_t size;
  };
  const Case cases[] = {
      {0, 2, 2, 0, 2},
      {2, 3, 3, 2, 3},
      {ranked.size() - 1, 10, 10, ranked.size() - 1, 1},
      {ranked.size(), 10, 10, 0, 0},
      {std::numeric_limits<uint64_t>::max(), 10, 10, 0, 0},
      {0, 0, 50, 0, ranked.size()},     // 0 means the default
      {0, 1024, 50, 0, ranked.size()},  // too large: the default
      {0, std::numeric_limits<uint64_t>::max(), 50, 0, ranked.size()},
      {0, 1023, 1023, 0, ranked.size()},
  };
  for (const Case& c : cases) {
    const nlohmann::json page = MustSearch(SearchIn::kDists, q, c.offset, c.limit);
    const std::vector<std::string> expected(ranked.begin() + c.first,
                                            ranked.begin() + c.first + c.size);
    EXPECT_EQ(Values(page, "dist"), expected) << "o=" << c.offset << " l=" << c.limit;
    EXPECT_EQ(page.at("count"), ranked.size()) << "o=" << c.offset << " l=" << c.limit;
    EXPECT_EQ(page.at("offset"), c.offset) << "o=" << c.offset << " l=" << c.limit;
    EXPECT_EQ(page.at("limit"), c.echoed_limit) << "o=" << c.offset << " l=" << c.limit;
  }
}

TEST_F(CorpusTest, HostileQueriesNeverFail) {
  const std::string deep_parens = std::string(4000, '(') + "pair";
  const std::string many_words = [] {
    std::string q;
    while (q.size() < kMaxQueryBytes - 8) absl::StrAppend(&q, "pair OR ");
    return q;
  }();
  struct Case {
    std::string q;
    bool finds_pair;  // whether the dist pair is among the hits
  };
  const Case cases[] = {
      {"AND AND (", false},
      {"\"unclosed", false},
      {"\"unclosed pair", false},
      {"pair AND", true},  // retried as the words "pair" and "and"
      {"AND pair", true},
      {"OR", false},
      {"NOT", false},
      {"pair OR OR semver", true},
      {"dist:", false},
      {"tags:", false},
      {"\"\"\"", false},
      {"()", false},
      {"pair)", true},
      {"a:b:c:d", false},
      {"*pair*", true},
      {"-", false},
      {"+", false},
      {"user:" + std::string(1000, 'x'), false},
      {"tags:\"" + std::string(1000, 'y') + "\"", false},
      {deep_parens, true},
      {std::string(4000, ')') + "pair", true},
      {many_words, true},
      {"   ", false},
      {"\t\n", false},
  };
  for (const Case& c : cases) {
    for (SearchIn in : kAllSearchIns) {
      absl::StatusOr<nlohmann::json> result = index_->Search(in, c.q, 0, 50);
      ASSERT_TRUE(result.ok()) << SearchInName(in) << " q=" << c.q.substr(0, 40) << ": "
                               << result.status();
      EXPECT_EQ(result->at("query"), c.q) << SearchInName(in) << " q=" << c.q.substr(0, 40);
      if (in == SearchIn::kDists) {
        EXPECT_EQ(ValueSet(*result, "dist").count("pair"), c.finds_pair ? 1u : 0u)
            << "q=" << c.q.substr(0, 40);
      }
    }
  }
}

TEST_F(CorpusTest, RejectsNulInvalidUtf8AndOverlongQueries) {
  struct Case {
    std::string q;
    const char* message;
  };
  const Case cases[] = {
      {std::string("pa\0ir", 5), "query contains a NUL byte"},
      {std::string(1, '\0'), "query contains a NUL byte"},
      {"pair \xff", "query is not valid UTF-8"},
      {"\xc3", "query is not valid UTF-8"},
      {"\xed\xa0\x80", "query is not valid UTF-8"},  // a UTF-16 surrogate
      {std::string(100 * 1024, 'a'), "query is 102400 bytes, longer than 4096"},
      {std::string(kMaxQueryBytes + 1, ' '), "query is 4097 bytes, longer than 4096"},
  };
  for (const Case& c : cases) {
    for (SearchIn in : kAllSearchIns) {
      absl::StatusOr<nlohmann::json> result = index_->Search(in, c.q, 0, 50);
      EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument)
          << SearchInName(in) << " q=" << c.q.substr(0, 20);
      EXPECT_EQ(result.status().message(), c.message) << SearchInName(in);
    }
    absl::StatusOr<nlohmann::json> all = index_->SearchAll(c.q, 0, 50);
    EXPECT_EQ(all.status().code(), absl::StatusCode::kInvalidArgument) << "all";
  }
  // At the limit exactly, the query runs.
  absl::StatusOr<nlohmann::json> at_limit =
      index_->Search(SearchIn::kDists, std::string(kMaxQueryBytes, 'a'), 0, 50);
  EXPECT_TRUE(at_limit.ok()) << at_limit.status();
}

TEST_F(CorpusTest, SearchAllMergesEveryIndexByScore) {
  absl::StatusOr<nlohmann::json> result = index_->SearchAll("pair", 0, 50);
  ASSERT_TRUE(result.ok()) << result.status();
  std::set<std::pair<std::string, std::string>> hits;
  uint64_t per_index_total = 0;
  double previous = std::numeric_limits<double>::infinity();
  for (const nlohmann::json& hit : result->at("hits")) {
    const std::string in_name = hit.at("in");
    absl::StatusOr<SearchIn> in = ParseSearchIn(in_name);
    ASSERT_TRUE(in.ok()) << hit.dump();
    hits.emplace(in_name, hit.at(NameKey(*in)).get<std::string>());
    const double score = std::stod(hit.at("score").get<std::string>());
    EXPECT_LE(score, previous) << hit.dump();
    previous = score;
  }
  for (SearchIn in : kAllSearchIns) {
    per_index_total += MustSearch(in, "pair").at("count").get<uint64_t>();
  }
  const std::set<std::pair<std::string, std::string>> expected = {
      {"dists", "pair"},      {"dists", "semver"},      {"docs", "doc/pair"},
      {"extensions", "pair"}, {"tags", "ordered pair"},
  };
  EXPECT_EQ(hits, expected);
  EXPECT_EQ(result->at("count"), per_index_total);
  EXPECT_EQ(result->at("count"), expected.size());

  // Pages of the merged list.
  absl::StatusOr<nlohmann::json> page = index_->SearchAll("pair", 1, 2);
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->at("hits").size(), 2u);
  EXPECT_EQ(page->at("hits")[0], result->at("hits")[1]);
  EXPECT_EQ(page->at("hits")[1], result->at("hits")[2]);
  EXPECT_EQ(page->at("count"), expected.size());
  absl::StatusOr<nlohmann::json> past_end = index_->SearchAll("pair", 100, 2);
  ASSERT_TRUE(past_end.ok()) << past_end.status();
  EXPECT_TRUE(past_end->at("hits").empty());
}

// Both backends: the contracts about writes hold for each.
class BackendTest : public ::testing::TestWithParam<bool /*on_disk*/> {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<SearchIndex>> index =
        GetParam() ? SearchIndex::Open(dir_.path() + "/index") : SearchIndex::OpenInMemory();
    ASSERT_TRUE(index.ok()) << index.status();
    index_ = *std::move(index);
  }

  std::set<std::string> Find(SearchIn in, absl::string_view q) {
    absl::StatusOr<nlohmann::json> result = index_->Search(in, q, 0, 50);
    EXPECT_TRUE(result.ok()) << "q=" << q << ": " << result.status();
    return result.ok() ? ValueSet(*result, NameKey(in)) : std::set<std::string>{};
  }

  TempDir dir_;
  std::unique_ptr<SearchIndex> index_;
};

INSTANTIATE_TEST_SUITE_P(Backends, BackendTest, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "OnDisk" : "InMemory";
                         });

TEST_P(BackendTest, ABatchTouchingDocumentsManyTimesEndsAsAppliedInOrder) {
  // One batch (one commit) with repeated puts, deletes by key and by dist,
  // before and after a DeleteAll: the result is what applying each change
  // in order gives, however the index coalesces them.
  DistDoc pair = CorpusDists()[0];
  DocDoc doc = CorpusDocs()[0];
  DocDoc readme = doc;
  readme.docpath = "README";
  readme.body = "yak farming";
  ASSERT_TRUE(index_->Put(pair).ok());
  ASSERT_TRUE(index_->Put(doc).ok());
  ASSERT_TRUE(index_->Put(TagDoc{"gone"}).ok());
  ASSERT_TRUE(index_->Commit(1).ok());

  index_->DeleteAll();
  ASSERT_TRUE(index_->Put(TagDoc{"kept"}).ok());
  ASSERT_TRUE(index_->Put(TagDoc{"dropped"}).ok());
  index_->DeleteTag("dropped");
  ASSERT_TRUE(index_->Put(TagDoc{"Again"}).ok());
  index_->DeleteTag("again");
  ASSERT_TRUE(index_->Put(TagDoc{"AGAIN"}).ok());  // the last put wins, case kept
  pair.abstract = "first abstract";
  ASSERT_TRUE(index_->Put(pair).ok());
  pair.abstract = "second abstract";
  ASSERT_TRUE(index_->Put(pair).ok());
  ASSERT_TRUE(index_->Put(doc).ok());
  ASSERT_TRUE(index_->Put(readme).ok());
  index_->DeleteDocs(pair.dist);  // both docs go
  DocDoc later = readme;
  later.body = "zebra crossing";
  ASSERT_TRUE(index_->Put(later).ok());  // and one comes back
  ASSERT_TRUE(index_->Commit(2).ok());

  EXPECT_EQ(Find(SearchIn::kTags, "kept OR dropped OR gone OR again"),
            (std::set<std::string>{"kept", "AGAIN"}));
  EXPECT_EQ(Find(SearchIn::kDists, "second"), std::set<std::string>{"pair"});
  EXPECT_EQ(Find(SearchIn::kDists, "first"), std::set<std::string>{});
  absl::StatusOr<nlohmann::json> docs = index_->Search(SearchIn::kDocs, "dist:pair", 0, 50);
  ASSERT_TRUE(docs.ok()) << docs.status();
  EXPECT_EQ(ValueSet(*docs, "docpath"), std::set<std::string>{"README"});
  EXPECT_EQ(Find(SearchIn::kDocs, "zebra"), std::set<std::string>{"README"});
  EXPECT_EQ(Find(SearchIn::kDocs, "farming"), std::set<std::string>{});

  // The next batch is an ordinary one: puts replace what the restart added.
  later.body = "yak shaving";
  ASSERT_TRUE(index_->Put(later).ok());
  index_->DeleteTag("kept");
  ASSERT_TRUE(index_->Commit(3).ok());
  EXPECT_EQ(Find(SearchIn::kDocs, "zebra"), std::set<std::string>{});
  EXPECT_EQ(Find(SearchIn::kDocs, "shaving"), std::set<std::string>{"README"});
  EXPECT_EQ(Find(SearchIn::kTags, "kept OR again"), std::set<std::string>{"AGAIN"});
}

TEST_P(BackendTest, ARebuildLargerThanABatchEndsAsAppliedInOrder) {
  // On disk, a rebuild is applied in batches of kRestartChunkDocs on a
  // thread of its own: changes to documents of an earlier batch (a put
  // again, a delete by key or by dist) must still end as applied in order.
  ASSERT_TRUE(PutCorpus(*index_).ok());
  ASSERT_TRUE(index_->Commit(10).ok());

  index_->DeleteAll();
  DistDoc pair = CorpusDists()[0];
  pair.abstract = "first abstract";
  ASSERT_TRUE(index_->Put(pair).ok());
  DocDoc doc = CorpusDocs()[0];
  DocDoc readme = doc;
  readme.docpath = "README";
  readme.body = "yak farming";
  ASSERT_TRUE(index_->Put(doc).ok());
  ASSERT_TRUE(index_->Put(readme).ok());
  const size_t tags = 3 * SearchIndex::kRestartChunkDocs + 7;
  for (size_t i = 0; i < tags; ++i) {
    ASSERT_TRUE(index_->Put(TagDoc{absl::StrCat("t", i)}).ok());
    if (i == SearchIndex::kRestartChunkDocs + 1) index_->DeleteDocs(pair.dist);
    if (i == 2 * SearchIndex::kRestartChunkDocs + 3) {
      pair.abstract = "second abstract";
      ASSERT_TRUE(index_->Put(pair).ok());
      index_->DeleteTag("t5");
      readme.body = "zebra crossing";
      ASSERT_TRUE(index_->Put(readme).ok());
    }
  }
  ASSERT_TRUE(index_->Commit(7).ok());  // a rebuild may go below the old seq

  EXPECT_EQ(index_->AppliedSeq(), 7u);
  absl::StatusOr<nlohmann::json> all_tags = index_->Search(SearchIn::kTags, "NOT nothing", 0, 10);
  ASSERT_TRUE(all_tags.ok()) << all_tags.status();
  EXPECT_EQ(all_tags->at("count"), tags - 1);
  EXPECT_EQ(Find(SearchIn::kTags, "t5 OR t6"), std::set<std::string>{"t6"});
  EXPECT_EQ(Find(SearchIn::kDists, "second"), std::set<std::string>{"pair"});
  EXPECT_EQ(Find(SearchIn::kDists, "first OR pgtap"), std::set<std::string>{});
  absl::StatusOr<nlohmann::json> docs = index_->Search(SearchIn::kDocs, "dist:pair", 0, 50);
  ASSERT_TRUE(docs.ok()) << docs.status();
  EXPECT_EQ(ValueSet(*docs, "docpath"), std::set<std::string>{"README"});
  EXPECT_EQ(Find(SearchIn::kDocs, "zebra"), std::set<std::string>{"README"});
  EXPECT_EQ(Find(SearchIn::kDocs, "farming"), std::set<std::string>{});
}

TEST_P(BackendTest, ASecondDeleteAllInOneRebuildDeletesWhatTheFirstLeft) {
  // The second DeleteAll comes when the rebuild's next part is almost full:
  // its deletions must all apply, whichever part they end up in.
  ASSERT_TRUE(PutCorpus(*index_).ok());
  ASSERT_TRUE(index_->Commit(10).ok());
  index_->DeleteAll();
  ASSERT_TRUE(index_->Put(CorpusDists()[0]).ok());
  for (size_t i = 0; i + 4 < SearchIndex::kRestartChunkDocs; ++i) {
    ASSERT_TRUE(index_->Put(TagDoc{absl::StrCat("a", i)}).ok());
  }
  index_->DeleteAll();
  ASSERT_TRUE(index_->Put(TagDoc{"b"}).ok());
  ASSERT_TRUE(index_->Commit(3).ok());
  EXPECT_EQ(Find(SearchIn::kDists, "NOT nothing"), std::set<std::string>{});
  EXPECT_EQ(Find(SearchIn::kTags, "NOT nothing"), std::set<std::string>{"b"});
}

TEST_P(BackendTest, CommitsInTheBackgroundApplyInOrder) {
  // Batches handed to the applier one after the other, each changing what
  // the one before added, end as if each had been committed in turn.
  DistDoc pair = CorpusDists()[0];
  for (uint64_t seq = 1; seq <= 6; ++seq) {
    pair.abstract = absl::StrCat("version", seq);
    ASSERT_TRUE(index_->Put(pair).ok());
    ASSERT_TRUE(index_->Put(TagDoc{absl::StrCat("tag", seq)}).ok());
    if (seq > 1) index_->DeleteTag(absl::StrCat("tag", seq - 1));
    ASSERT_TRUE(index_->CommitInBackground(seq).ok());
    EXPECT_EQ(index_->CommittedSeq(), seq);
    EXPECT_LE(index_->AppliedSeq(), seq);
  }
  const absl::Status back = index_->CommitInBackground(5);
  EXPECT_EQ(back.code(), absl::StatusCode::kInvalidArgument) << back;
  ASSERT_TRUE(index_->Commit(7).ok());  // waits for the batches before it
  EXPECT_EQ(index_->AppliedSeq(), 7u);
  EXPECT_EQ(Find(SearchIn::kDists, "version6"), std::set<std::string>{"pair"});
  EXPECT_EQ(Find(SearchIn::kDists, "version5 OR version1"), std::set<std::string>{});
  absl::StatusOr<nlohmann::json> tags = index_->Search(SearchIn::kTags, "NOT nothing", 0, 10);
  ASSERT_TRUE(tags.ok()) << tags.status();
  EXPECT_EQ(ValueSet(*tags, "tag"), std::set<std::string>{"tag6"});
}

TEST_P(BackendTest, SearchesSeeOnlyCommittedChanges) {
  ASSERT_TRUE(index_->Put(CorpusDists()[0]).ok());
  EXPECT_EQ(Find(SearchIn::kDists, "pair"), std::set<std::string>{}) << "before Commit";
  ASSERT_TRUE(index_->Commit(1).ok());
  EXPECT_EQ(Find(SearchIn::kDists, "pair"), std::set<std::string>{"pair"}) << "after Commit";
  index_->DeleteDist("pair");
  EXPECT_EQ(Find(SearchIn::kDists, "pair"), std::set<std::string>{"pair"}) << "delete uncommitted";
  ASSERT_TRUE(index_->Commit(2).ok());
  EXPECT_EQ(Find(SearchIn::kDists, "pair"), std::set<std::string>{}) << "delete committed";
}

TEST_P(BackendTest, PutReplacesTheDocumentWithTheSameKey) {
  DistDoc old_dist = CorpusDists()[0];
  old_dist.abstract = "zebra crossing";
  DistDoc new_dist = old_dist;
  new_dist.dist = "PAIR";  // keys are case-insensitive
  new_dist.version = "0.1.3";
  new_dist.abstract = "yak shaving";
  ExtensionDoc old_ext = CorpusExtensions()[0];
  old_ext.abstract = "zebra crossing";
  ExtensionDoc new_ext = old_ext;
  new_ext.version = "0.1.3";
  new_ext.abstract = "yak shaving";
  UserDoc old_user = CorpusUsers()[0];
  old_user.details = "zebra crossing";
  UserDoc new_user = old_user;
  new_user.details = "yak shaving";
  DocDoc old_doc = CorpusDocs()[0];
  old_doc.body = "zebra crossing";
  DocDoc new_doc = old_doc;
  new_doc.version = "0.1.3";
  new_doc.body = "yak shaving";
  DocDoc other_doc = old_doc;  // same dist, another docpath: a second document
  other_doc.docpath = "README";
  other_doc.body = "yak farming";
  for (absl::Status s : {index_->Put(old_dist), index_->Put(old_ext), index_->Put(old_user),
                         index_->Put(old_doc), index_->Put(TagDoc{"key value"})}) {
    ASSERT_TRUE(s.ok()) << s;
  }
  ASSERT_TRUE(index_->Commit(1).ok());
  for (absl::Status s :
       {index_->Put(new_dist), index_->Put(new_ext), index_->Put(new_user), index_->Put(new_doc),
        index_->Put(other_doc), index_->Put(TagDoc{"Key Value"})}) {
    ASSERT_TRUE(s.ok()) << s;
  }
  ASSERT_TRUE(index_->Commit(2).ok());

  struct Case {
    SearchIn in;
    const char* q;
    std::set<std::string> names;
  };
  const Case cases[] = {
      {SearchIn::kDists, "zebra", {}},
      {SearchIn::kDists, "yak", {"PAIR"}},
      {SearchIn::kDists, "dist:pair", {"PAIR"}},
      {SearchIn::kExtensions, "zebra", {}},
      {SearchIn::kExtensions, "yak", {"pair"}},
      {SearchIn::kUsers, "zebra", {}},
      {SearchIn::kUsers, "yak", {"theory"}},
      {SearchIn::kDocs, "zebra", {}},
      {SearchIn::kDocs, "yak", {"doc/pair", "README"}},
      {SearchIn::kTags, "key", {"Key Value"}},
      {SearchIn::kTags, "tag:\"key value\"", {}},
      {SearchIn::kTags, "tag:\"Key Value\"", {"Key Value"}},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(Find(c.in, c.q), c.names) << SearchInName(c.in) << " q=" << c.q;
  }
  absl::StatusOr<nlohmann::json> dists = index_->Search(SearchIn::kDists, "yak", 0, 50);
  ASSERT_TRUE(dists.ok());
  ASSERT_EQ(dists->at("count"), 1);
  EXPECT_EQ(dists->at("hits")[0].at("version"), "0.1.3");
}

TEST_P(BackendTest, DeletesRemoveByKey) {
  ASSERT_TRUE(PutCorpus(*index_).ok());
  index_->DeleteDist("PGTAP");   // with its docs, case-insensitively
  index_->DeleteDocs("orafce");  // the docs only
  index_->DeleteExtension("semver");
  index_->DeleteUser("okbob");
  index_->DeleteTag("Ordered Pair");
  index_->DeleteDist("no_such_dist");
  index_->DeleteTag("no such tag");
  ASSERT_TRUE(index_->Commit(2).ok());
  struct Case {
    SearchIn in;
    const char* q;
    std::set<std::string> names;
  };
  const Case cases[] = {
      {SearchIn::kDists, "testing", {}},
      {SearchIn::kDocs, "oracle", {}},
      {SearchIn::kDocs, "pair", {"doc/pair"}},
      {SearchIn::kDists, "oracle", {"orafce", "first_last_agg"}},
      {SearchIn::kExtensions, "pgtap", {"pgtap"}},  // extensions are deleted on their own
      {SearchIn::kExtensions, "semver", {}},
      {SearchIn::kUsers, "okbob", {}},
      {SearchIn::kUsers, "theory", {"theory"}},
      {SearchIn::kTags, "pair", {}},
      {SearchIn::kTags, "testing", {"testing", "unit testing"}},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(Find(c.in, c.q), c.names) << SearchInName(c.in) << " q=" << c.q;
  }
}

TEST_P(BackendTest, PutRejectsEmptyKeys) {
  struct Case {
    const char* what;
    absl::Status status;
  };
  DocDoc no_docpath = CorpusDocs()[0];
  no_docpath.docpath = "";
  const Case cases[] = {
      {"dist", index_->Put(DistDoc{})}, {"extension", index_->Put(ExtensionDoc{})},
      {"user", index_->Put(UserDoc{})}, {"tag", index_->Put(TagDoc{})},
      {"doc", index_->Put(DocDoc{})},   {"docpath", index_->Put(no_docpath)},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(c.status.code(), absl::StatusCode::kInvalidArgument) << c.what;
  }
  ASSERT_TRUE(index_->Commit(1).ok());
  for (SearchIn in : kAllSearchIns) {
    EXPECT_EQ(Find(in, "NOT nothing"), std::set<std::string>{}) << SearchInName(in);
  }
}

TEST_P(BackendTest, LongKeysAndTagsAreIndexedAndFound) {
  // Xapian's disk format caps terms at 245 bytes; longer keys are shortened
  // with a hash and must still be distinct, replaceable and exactly findable.
  const std::string long_a = std::string(300, 'a') + "-one";
  const std::string long_b = std::string(300, 'a') + "-two";
  DistDoc a = CorpusDists()[0];
  a.dist = long_a;
  a.tags = {long_a};
  DistDoc b = a;
  b.dist = long_b;
  b.tags = {long_b};
  for (absl::Status s : {index_->Put(a), index_->Put(b), index_->Put(a)}) {
    ASSERT_TRUE(s.ok()) << s;
  }
  ASSERT_TRUE(index_->Commit(1).ok());
  EXPECT_EQ(Find(SearchIn::kDists, "user:theory"), (std::set<std::string>{long_a, long_b}));
  EXPECT_EQ(Find(SearchIn::kDists, "tags:\"" + long_b + "\""), std::set<std::string>{long_b});
  index_->DeleteDist(long_a);
  ASSERT_TRUE(index_->Commit(2).ok());
  EXPECT_EQ(Find(SearchIn::kDists, "user:theory"), std::set<std::string>{long_b});
}

TEST_P(BackendTest, InvalidUtf8IsStoredReplaced) {
  DistDoc d = CorpusDists()[0];
  d.readme = "caf\xe9 au lait";  // Latin-1
  d.abstract = "bad \xff byte";
  ASSERT_TRUE(index_->Put(d).ok());
  ASSERT_TRUE(index_->Commit(1).ok());
  absl::StatusOr<nlohmann::json> result = index_->Search(SearchIn::kDists, "lait", 0, 50);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->at("hits").size(), 1u);
  EXPECT_EQ(result->at("hits")[0].at("abstract"), "bad \xEF\xBF\xBD byte");
  EXPECT_EQ(result->at("hits")[0].at("excerpt"), "caf\xEF\xBF\xBD au <strong>lait</strong>");
  EXPECT_NO_THROW(result->dump());
}

// A 20 MB README: its words all match, but the excerpt comes from its first
// kMaxExcerptSourceBytes only (what the index stores for it).
TEST_P(BackendTest, ExcerptsComeFromABoundedPrefixOfTheText) {
  DistDoc d = CorpusDists()[0];
  std::string readme = "Opening words about pairs. ";
  // "early" inside the prefix, "distant" only far past it.
  readme += std::string(kMaxExcerptSourceBytes / 2, ' ') + "an early marker ";
  readme.resize(20 << 20, ' ');
  readme.replace(readme.size() - 100, 15, "distant marker ");
  d.readme = readme;
  ASSERT_TRUE(index_->Put(d).ok());
  ASSERT_TRUE(index_->Commit(1).ok());

  absl::StatusOr<nlohmann::json> early = index_->Search(SearchIn::kDists, "early", 0, 50);
  ASSERT_TRUE(early.ok()) << early.status();
  ASSERT_EQ(early->at("hits").size(), 1u);
  const std::string early_excerpt = early->at("hits")[0].at("excerpt");
  EXPECT_NE(early_excerpt.find("<strong>early</strong>"), std::string::npos) << early_excerpt;

  // Found by a word past the prefix, shown by the text's start.
  absl::StatusOr<nlohmann::json> distant = index_->Search(SearchIn::kDists, "distant", 0, 50);
  ASSERT_TRUE(distant.ok()) << distant.status();
  ASSERT_EQ(distant->at("hits").size(), 1u);
  const std::string distant_excerpt = distant->at("hits")[0].at("excerpt");
  EXPECT_TRUE(absl::StartsWith(distant_excerpt, "Opening words about pairs.")) << distant_excerpt;
  EXPECT_EQ(distant_excerpt.find("distant"), std::string::npos) << distant_excerpt;
}

TEST(ExcerptSourceTest, CutsAtACharacterBoundary) {
  EXPECT_EQ(ExcerptSource("short"), "short");
  const std::string exact(kMaxExcerptSourceBytes, 'a');
  EXPECT_EQ(ExcerptSource(exact), exact);
  EXPECT_EQ(ExcerptSource(exact + "b").size(), kMaxExcerptSourceBytes);
  // "é" (2 bytes) straddling the limit is left out whole.
  const std::string straddling = std::string(kMaxExcerptSourceBytes - 1, 'a') + "\xC3\xA9z";
  EXPECT_EQ(ExcerptSource(straddling), std::string(kMaxExcerptSourceBytes - 1, 'a'));
  // "€" (3 bytes) cut after its first byte, then after its second.
  for (size_t before : {kMaxExcerptSourceBytes - 1, kMaxExcerptSourceBytes - 2}) {
    const std::string text = std::string(before, 'a') + "\xE2\x82\xAC" + "zz";
    EXPECT_EQ(ExcerptSource(text), std::string(before, 'a')) << before;
  }
}

TEST_P(BackendTest, CommitRecordsTheAppliedSeqAndRefusesToGoBack) {
  EXPECT_EQ(index_->AppliedSeq(), 0u);
  ASSERT_TRUE(index_->Commit(5).ok());
  EXPECT_EQ(index_->AppliedSeq(), 5u);
  ASSERT_TRUE(index_->Commit(5).ok());  // again at the same seq: allowed
  ASSERT_TRUE(index_->Put(CorpusDists()[0]).ok());
  const absl::Status back = index_->Commit(4);
  EXPECT_EQ(back.code(), absl::StatusCode::kInvalidArgument) << back;
  EXPECT_EQ(back.message(), "Applied seq 4 is below the search index's applied seq 5");
  EXPECT_EQ(index_->AppliedSeq(), 5u);
  // The refused commit kept its buffer: the next one applies it.
  ASSERT_TRUE(index_->Commit(6).ok());
  EXPECT_EQ(Find(SearchIn::kDists, "pair"), std::set<std::string>{"pair"});
}

TEST(SearchIndexDiskTest, ReopenKeepsDocumentsAndAppliedSeq) {
  TempDir dir;
  const std::string path = dir.path() + "/nested/index";  // created if missing
  {
    absl::StatusOr<std::unique_ptr<SearchIndex>> index = SearchIndex::Open(path);
    ASSERT_TRUE(index.ok()) << index.status();
    EXPECT_EQ((*index)->AppliedSeq(), 0u);
    ASSERT_TRUE(PutCorpus(**index).ok());
    ASSERT_TRUE((*index)->Commit(42).ok());
    // Buffered but never committed: lost on close.
    ASSERT_TRUE((*index)->Put(TagDoc{"uncommitted"}).ok());
  }
  absl::StatusOr<std::unique_ptr<SearchIndex>> reopened = SearchIndex::Open(path);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_EQ((*reopened)->AppliedSeq(), 42u);
  struct Case {
    SearchIn in;
    const char* q;
    uint64_t count;
  };
  const Case cases[] = {
      {SearchIn::kDists, "NOT nothing", CorpusDists().size()},
      {SearchIn::kDocs, "NOT nothing", CorpusDocs().size()},
      {SearchIn::kExtensions, "NOT nothing", CorpusExtensions().size()},
      {SearchIn::kUsers, "NOT nothing", CorpusUsers().size()},
      {SearchIn::kTags, "NOT nothing", CorpusTags().size()},
      {SearchIn::kTags, "uncommitted", 0},
      {SearchIn::kDists, "tags:\"key value\"", 2},
  };
  for (const Case& c : cases) {
    absl::StatusOr<nlohmann::json> result = (*reopened)->Search(c.in, c.q, 0, 50);
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(result->at("count"), c.count) << SearchInName(c.in) << " q=" << c.q;
  }
}

TEST(SearchIndexDiskTest, ARebuildNeverCommittedNeverClaimsASeq) {
  // A rebuild's batches are committed as they are applied, with seq 0; an
  // index closed before the rebuild's Commit either still is the old one or
  // says it has to be rebuilt.
  TempDir dir;
  const size_t tags = 4 * SearchIndex::kRestartChunkDocs;
  {
    absl::StatusOr<std::unique_ptr<SearchIndex>> index = SearchIndex::Open(dir.path());
    ASSERT_TRUE(index.ok()) << index.status();
    ASSERT_TRUE(PutCorpus(**index).ok());
    ASSERT_TRUE((*index)->Commit(42).ok());
    (*index)->DeleteAll();
    for (size_t i = 0; i < tags; ++i) {
      ASSERT_TRUE((*index)->Put(TagDoc{absl::StrCat("t", i)}).ok());
    }
  }
  absl::StatusOr<std::unique_ptr<SearchIndex>> reopened = SearchIndex::Open(dir.path());
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  absl::StatusOr<nlohmann::json> dists =
      (*reopened)->Search(SearchIn::kDists, "NOT nothing", 0, 10);
  ASSERT_TRUE(dists.ok()) << dists.status();
  if ((*reopened)->AppliedSeq() != 0) {
    EXPECT_EQ((*reopened)->AppliedSeq(), 42u);
    EXPECT_EQ(dists->at("count"), CorpusDists().size()) << "the old index, whole";
  } else {
    EXPECT_EQ(dists->at("count"), 0u) << "the old index was deleted first";
  }
}

TEST(SearchIndexDiskTest, SecondWriterIsRefused) {
  TempDir dir;
  absl::StatusOr<std::unique_ptr<SearchIndex>> first = SearchIndex::Open(dir.path());
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<std::unique_ptr<SearchIndex>> second = SearchIndex::Open(dir.path());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition) << second.status();
}

TEST(SearchIndexDiskTest, UnusableDirectoryIsAnError) {
  TempDir dir;
  const std::string file = dir.path() + "/file";
  FILE* f = fopen(file.c_str(), "w");
  ASSERT_NE(f, nullptr);
  fclose(f);
  for (const std::string& path : {std::string(), file, file + "/below"}) {
    absl::StatusOr<std::unique_ptr<SearchIndex>> index = SearchIndex::Open(path);
    EXPECT_FALSE(index.ok()) << "\"" << path << "\"";
  }
}

TEST_P(BackendTest, ConcurrentSearchesWhileTheWriterCommits) {
  ASSERT_TRUE(PutCorpus(*index_).ok());
  constexpr int kCommits = 40;
  constexpr int kReaders = 4;
  std::atomic<bool> writer_done{false};
  std::atomic<int> failures{0};
  absl::Mutex first_failure_mu;
  absl::Status first_failure;
  std::atomic<int> regressions{0};
  std::atomic<int> searches{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < kReaders; ++r) {
    readers.emplace_back([&, r] {
      uint64_t last_count = 0;
      // Keep searching until the writer is done, then once more.
      for (bool last = false; !last;) {
        last = writer_done.load();
        const SearchIn in = r % 2 == 0 ? SearchIn::kDists : SearchIn::kTags;
        absl::StatusOr<nlohmann::json> result =
            r < 2 ? index_->Search(in, "generated", 0, 5) : index_->SearchAll("generated", 0, 5);
        ++searches;
        if (!result.ok()) {
          if (failures++ == 0) {
            absl::MutexLock lock(&first_failure_mu);
            first_failure = result.status();
          }
          continue;
        }
        // Each commit adds one dist and one tag; a reader never sees fewer.
        const uint64_t count = result->at("count");
        if (count < last_count) ++regressions;
        last_count = count;
      }
    });
  }
  // No ASSERT before the join: the readers must be joined on every path.
  absl::Status written;
  for (int i = 1; i <= kCommits && written.ok(); ++i) {
    DistDoc d = CorpusDists()[0];
    d.dist = absl::StrCat("generated_", i);
    d.abstract = "A generated distribution";
    written.Update(index_->Put(d));
    written.Update(index_->Put(TagDoc{absl::StrCat("generated ", i)}));
    written.Update(index_->Commit(1 + i));
  }
  writer_done.store(true);
  for (std::thread& t : readers) t.join();
  ASSERT_TRUE(written.ok()) << written;
  EXPECT_EQ(failures.load(), 0) << "first: " << first_failure;
  EXPECT_EQ(regressions.load(), 0);
  EXPECT_GE(searches.load(), kReaders);
  absl::StatusOr<nlohmann::json> final_result = index_->Search(SearchIn::kDists, "generated", 0, 5);
  ASSERT_TRUE(final_result.ok()) << final_result.status();
  EXPECT_EQ(final_result->at("count"), kCommits);
  EXPECT_EQ(index_->AppliedSeq(), 1u + kCommits);
}

}  // namespace
}  // namespace pgxn::indexer
