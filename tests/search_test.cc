// The indexer's API (issue 5) through real processes: an origin on embedded
// Postgres and an indexer following it, both on port 0 in a temp dir. A corpus
// of releases (one from each valid fixture META.json, plus distributions made
// here for search, docs and removal cases) is uploaded as pgxn-release does;
// then, table-driven, the search API (docs/pgxn.md §5), removals reaching the index
// and the doc pages, the rendered docs, the enriched JSON against the shapes of
// PGXN's own files (tests/fixtures/api-root), /src/, the stock pgxn client, and a
// rebuild from the events alone giving the same answers.
//
// The whole binary is one ctest test: the corpus is published once for every
// case. Each TEST works on the shared corpus whichever others ran before it.
#include <curl/curl.h>
#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "base/temp_dir.h"
#include "gtest/gtest.h"
#include "tests/support/cluster.h"

namespace pgxn::testing {
namespace {

using Json = nlohmann::json;

constexpr char kPassword[] = "a long enough password";

// ---------------------------------------------------------------------------
// Accounts and the corpus

struct Account {
  std::string nickname;
  std::string name;
  std::string uri;      // may be empty
  std::string twitter;  // may be empty
  bool admin = false;
};

// The fixture META's uploaders get their real names; alice and bob upload the
// distributions made here; root removes releases.
const std::vector<Account>& Accounts() {
  static const auto* const accounts = new std::vector<Account>{
      {"theory", "David E. Wheeler", "https://justatheory.com/", "theory"},
      {"wulczer", "Jan Urbański", "", ""},
      {"postwait", "Theo Schlossnagle", "https://lethargy.org/", ""},
      {"piro", "Daniele Varrazzo", "", ""},
      {"jma", "Joe Abbate", "http://pyrseas.org/", ""},
      {"alice", "Alice Liddell", "https://wonderland.example.org/", ""},
      {"bob", "Robert Tables", "", ""},
      {"root", "Root Admin", "", "", true},
  };
  return *accounts;
}

struct Release {
  std::string user;
  Json meta;
  std::vector<DistFile> files;
};

// A fixture META (as PGXN served it, from `dir`) turned back into what its
// author uploaded, with a README (the fixture's README.txt if there is one),
// each provided extension's file and docfile, and the usual special files, so
// that its docs render.
Release ReleaseFromFixture(const Json& fixture, const std::filesystem::path& dir) {
  // The keys Meta Spec v1 allows; the fixture's others were added by PGXN
  // (user, date, sha1, docs, releases, special_files, provides.*.docpath).
  static const auto* const kMetaKeys = new std::set<std::string>{
      "name",     "version",        "abstract",     "maintainer", "license",
      "provides", "description",    "generated_by", "tags",       "no_index",
      "prereqs",  "release_status", "resources"};
  static const auto* const kProvidesKeys =
      new std::set<std::string>{"file", "version", "abstract", "docfile"};
  Release release;
  release.user = absl::AsciiStrToLower(fixture.value("user", ""));
  for (const auto& [key, value] : fixture.items()) {
    if (kMetaKeys->contains(key)) release.meta[key] = value;
  }
  release.meta["meta-spec"] = {{"version", "1.0.0"}, {"url", "https://pgxn.org/meta/spec.txt"}};
  const std::string name = fixture["name"], version = fixture["version"];
  const std::string abstract = fixture.value("abstract", "");
  for (auto& [extension, spec] : release.meta["provides"].items()) {
    Json kept;
    for (const auto& [key, value] : spec.items()) {
      if (kProvidesKeys->contains(key)) kept[key] = value;
    }
    spec = kept;
    release.files.push_back({spec["file"], absl::StrCat("-- ", extension, "\nSELECT 1;\n")});
    if (spec.contains("docfile")) {
      release.files.push_back(
          {spec["docfile"],
           absl::StrCat(extension, "\n", std::string(extension.size(), '='), "\n\n",
                        spec.value("abstract", abstract), "\n\nSynopsis\n--------\n\n    SELECT ",
                        extension, "();\n\nAuthor\n------\n\n", fixture["maintainer"].dump(),
                        "\n")});
    }
  }
  const std::string readme = ReadWholeFile((dir / "README.txt").string());
  release.files.push_back(
      {"README.md", !readme.empty()
                        ? readme
                        : absl::StrCat(name, " ", version, "\n",
                                       std::string(name.size() + version.size() + 1, '='), "\n\n",
                                       abstract, "\n\n", fixture.value("description", ""), "\n")});
  release.files.push_back({"Makefile", "EXTENSION = " + name + "\n"});
  release.files.push_back({"Changes", absl::StrCat("Revision history for ", name, "\n")});
  return release;
}

// One release of every fixture META.json that is a distribution META, in
// path order (which is version order within each dist). A second fixture of
// the same dist and version (the root mirror's copy of an API file) is left
// out: the origin would refuse it as a duplicate.
std::vector<Release> FixtureReleases() {
  std::vector<std::filesystem::path> paths;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(FIXTURES_DIR)) {
    if (entry.is_regular_file() && entry.path().filename() == "META.json") {
      paths.push_back(entry.path());
    }
  }
  std::sort(paths.begin(), paths.end());
  std::vector<Release> releases;
  std::set<std::string> seen;
  for (const auto& path : paths) {
    const Json fixture = Json::parse(ReadWholeFile(path.string()), nullptr, false);
    if (!fixture.is_object() || !fixture.contains("name") || !fixture.contains("version") ||
        !fixture.contains("provides")) {
      continue;
    }
    const std::string key = absl::AsciiStrToLower(absl::StrCat(
        fixture["name"].get<std::string>(), " ", fixture["version"].get<std::string>()));
    if (!seen.insert(key).second) continue;
    releases.push_back(ReleaseFromFixture(fixture, path.parent_path()));
  }
  return releases;
}

std::string Underlined(const std::string& title, char c) {
  return absl::StrCat(title, "\n", std::string(title.size(), c), "\n");
}

Json Meta(const std::string& name, const std::string& version, const std::string& abstract,
          const std::vector<std::string>& tags, const std::string& status = "stable") {
  Json meta = MakeMeta(name, version, abstract);
  if (!tags.empty()) meta["tags"] = tags;
  meta["release_status"] = status;
  return meta;
}

constexpr char kDocdemoDoc[] = R"md(docdemo 1.0.0
=============

Synopsis
--------

```sql
SELECT 1 < 2 AND 'a' <> 'b';
```

Usage
-----

Read [the guide](guide.md) first, then [its setup part](guide.md#Setup); the
code is in [the SQL file](../sql/docdemo.sql).

### Options

| Option | Meaning         |
|--------|-----------------|
| `fast` | skip the checks |
| `safe` | run each check  |

Never [click here](javascript:alert('pwned')) or <a href="JavaScript:void(0)">there</a>.

<script>alert("pwned")</script>

Copyright and License
---------------------

Copyright (c) 2024 Alice Liddell.
)md";

constexpr char kDocdemoReadme[] = R"(docdemo
=======

The frobnicator of documents: it renders docs, and a < b & c holds.
<script>alert('frobnicator')</script>
)";

// The distributions made for the cases below, in upload order.
std::vector<Release> OwnReleases() {
  std::vector<Release> releases;
  auto add = [&](const std::string& user, Json meta, std::vector<DistFile> files) {
    const std::string name = meta["name"];
    files.push_back({"sql/" + name + ".sql", "SELECT 1;\n"});
    releases.push_back({user, std::move(meta), std::move(files)});
  };

  Json docdemo = Meta("docdemo", "1.0.0", "Documentation rendering demo", {"documentation"});
  docdemo["provides"]["docdemo"]["docfile"] = "doc/docdemo.md";
  docdemo["no_index"] = {{"file", {"doc/hidden.md"}}, {"directory", {"private"}}};
  add("alice", docdemo,
      {{"README.md", kDocdemoReadme},
       {"doc/docdemo.md", kDocdemoDoc},
       {"doc/guide.md", Underlined("Guide", '=') + "\n" + Underlined("Setup", '-') +
                            "\nInstall it, then go [back to the reference](docdemo.md).\n"},
       {"doc/notes.rst", Underlined("Notes", '=') + "\nreStructuredText notes.\n"},
       {"doc/hidden.md", Underlined("Hidden", '=') + "\nNot for the index.\n"},
       {"private/secret.md", Underlined("Secret", '=') + "\nNot for the index either.\n"},
       {"Makefile", "EXTENSION = docdemo\n"},
       {"Changes", "1.0.0: first\n"},
       {"docdemo.control", "default_version = '1.0.0'\n"}});

  // Stable, stable, then testing: searches show the newest, the dist JSON the
  // newest stable.
  for (const auto& [version, status] : std::vector<std::pair<std::string, std::string>>{
           {"1.0.0", "stable"}, {"1.1.0", "stable"}, {"2.0.0", "testing"}}) {
    add("alice",
        Meta("kvstore", version, "Key/value storage for PostgreSQL", {"key value", "storage"},
             status),
        {{"README.md", Underlined("kvstore " + version, '=') + "\nStores keys and values.\n"}});
  }
  add("alice", Meta("nightly", "0.0.1", "Nightly snapshot builds", {"snapshot"}, "unstable"),
      {{"README.md", Underlined("nightly", '=') + "\nBuilt every night.\n"}});
  Json currency = Meta("currency", "1.0.0", "A currency type with exchange rates", {"money"});
  currency["description"] = "Money amounts with their currency.";
  add("alice", currency,
      {{"README.md", Underlined("currency", '=') +
                         "\nStores an amount of money with its currency code and converts it at "
                         "exchange rates you supply.\n"}});
  add("alice",
      Meta("geotypes", "1.0.0", "Geometric shapes and spatial indexes", {"gis", "PostGIS"}),
      {{"README.md", Underlined("geotypes", '=') + "\nPoints, boxes and polygons.\n"}});
  add("alice", Meta("kvpairs", "1.0.0", "Pairs of keys and values", {"key value pair"}),
      {{"README.md", Underlined("kvpairs", '=') + "\nKeys with values.\n"}});
  for (int i = 1; i <= 12; ++i) {
    const std::string name = absl::StrCat("pager", i);
    add("alice", Meta(name, "1.0.0", absl::StrCat("Pagination sample ", i), {"pagination"}),
        {{"README.md", Underlined(name, '=') + "\nA pagination sample.\n"}});
  }

  // Removed by the RemovedReleases test: one release of twover, all of doomed.
  for (const std::string version : {"1.0.0", "1.1.0"}) {
    Json meta = Meta("twover", version, "Two versions of a thing", {"twice"});
    meta["provides"]["twover"]["docfile"] = "doc/twover.md";
    add("bob", meta,
        {{"README.md", Underlined("twover " + version, '=') + "\nThe thing, twice.\n"},
         {"doc/twover.md", Underlined("twover", '=') + "\nVersion " + version +
                               (version == "1.1.0" ? " went to zanzibar.\n" : " stayed home.\n")}});
  }
  for (const std::string version : {"0.1.0", "0.2.0"}) {
    Json meta = Meta("doomed", version, "Soon to be removed", {"ephemeral"});
    meta["provides"]["doomed"]["docfile"] = "doc/doomed.md";
    add("bob", meta,
        {{"README.md", Underlined("doomed", '=') + "\nWe obliterate this one.\n"},
         {"doc/doomed.md", Underlined("doomed", '=') + "\nAn obliterated extension.\n"}});
  }
  return releases;
}

// Uploads as pgxn-release does (multipart field `archive`, Basic auth, the
// XHR header), over one kept-alive connection.
class Uploader {
 public:
  Uploader() : curl_(curl_easy_init()) {}
  ~Uploader() { curl_easy_cleanup(curl_); }
  Uploader(const Uploader&) = delete;
  Uploader& operator=(const Uploader&) = delete;

  UploadResult Upload(const std::string& url, const std::string& user, const std::string& zip,
                      const std::string& filename) {
    UploadResult result;
    curl_mime* form = curl_mime_init(curl_);
    curl_mimepart* submit = curl_mime_addpart(form);
    curl_mime_name(submit, "submit");
    curl_mime_data(submit, "Release It!", CURL_ZERO_TERMINATED);
    curl_mimepart* archive = curl_mime_addpart(form);
    curl_mime_name(archive, "archive");
    curl_mime_data(archive, zip.data(), zip.size());
    curl_mime_filename(archive, filename.c_str());
    curl_mime_type(archive, "application/zip");
    curl_slist* headers = curl_slist_append(nullptr, "X-Requested-With: XMLHttpRequest");
    headers = curl_slist_append(headers, "Expect:");
    const std::string credentials = user + ":" + kPassword;
    curl_easy_setopt(curl_, CURLOPT_URL, (url + "/upload").c_str());
    curl_easy_setopt(curl_, CURLOPT_MIMEPOST, form);
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl_, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    curl_easy_setopt(curl_, CURLOPT_USERPWD, credentials.c_str());
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, AppendBody);
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &result.body);
    curl_easy_setopt(curl_, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
    const CURLcode code = curl_easy_perform(curl_);
    long status = 0;
    if (code == CURLE_OK) {
      curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &status);
    } else {
      result.body = curl_easy_strerror(code);
    }
    result.status = static_cast<int>(status);
    curl_slist_free_all(headers);
    curl_mime_free(form);
    return result;
  }

 private:
  static size_t AppendBody(char* data, size_t size, size_t count, void* out) {
    static_cast<std::string*>(out)->append(data, size * count);
    return size * count;
  }

  CURL* const curl_;
};

// ---------------------------------------------------------------------------
// Helpers for the cases

// Percent-encodes `text` for a query string (every byte but the unreserved).
std::string Encode(absl::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      absl::StrAppend(&out, "%", absl::Hex(c, absl::kZeroPad2));
    }
  }
  return out;
}

// The query string of a search for `q`.
std::string Q(absl::string_view q) { return "q=" + Encode(q); }

// The keys of a hit of each index (docs/pgxn.md §5), `score` included.
const std::map<std::string, std::set<std::string>>& HitKeys() {
  static const auto* const keys = new std::map<std::string, std::set<std::string>>{
      {"docs",
       {"title", "abstract", "dist", "version", "docpath", "date", "user", "user_name", "excerpt",
        "score"}},
      {"dists", {"dist", "version", "abstract", "date", "user", "user_name", "excerpt", "score"}},
      {"extensions",
       {"extension", "abstract", "dist", "version", "docpath", "date", "user", "user_name",
        "excerpt", "score"}},
      {"users", {"user", "name", "uri", "excerpt", "score"}},
      {"tags", {"tag", "score"}},
  };
  return *keys;
}

std::set<std::string> KeysOf(const Json& object) {
  std::set<std::string> keys;
  for (const auto& [key, value] : object.items()) keys.insert(key);
  return keys;
}

std::string Str(const Json& doc, const char* key) {
  auto it = doc.find(key);
  return it != doc.end() && it->is_string() ? it->get<std::string>() : "";
}

// What identifies a hit of index `in`: the dist, "dist/docpath" for a doc,
// the extension, user or tag.
std::string HitKey(const std::string& in, const Json& hit) {
  if (in == "docs") return Str(hit, "dist") + "/" + Str(hit, "docpath");
  if (in == "dists") return Str(hit, "dist");
  if (in == "extensions") return Str(hit, "extension");
  if (in == "users") return Str(hit, "user");
  return Str(hit, "tag");
}

// `in` of a /search/{in}/ path; "" for any other path.
std::string IndexOfPath(const std::string& path) {
  std::vector<std::string> parts = absl::StrSplit(path, '/');
  if (parts.size() != 4 || parts[1] != "search" || !parts[3].empty()) return "";
  return parts[2];
}

// The excerpt with its highlighting taken out holds no markup: every '<' of
// the text is escaped.
bool ExcerptIsEscaped(const std::string& excerpt) {
  const std::string text = absl::StrReplaceAll(excerpt, {{"<strong>", ""}, {"</strong>", ""}});
  return !absl::StrContains(text, "<") && !absl::StrContains(text, ">");
}

// How many characters an excerpt shows: code points of its text with the
// highlighting taken out and each character reference counted as one.
size_t ExcerptLength(const std::string& excerpt) {
  static const std::regex kReference("&(#[0-9]+|[a-z]+);");
  const std::string text = std::regex_replace(
      absl::StrReplaceAll(excerpt, {{"<strong>", ""}, {"</strong>", ""}}), kReference, "_");
  return std::count_if(text.begin(), text.end(),
                       [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; });
}

// "About 200 characters" (docs/pgxn.md §5), with room for the words Xapian keeps
// whole at either end.
constexpr size_t kMaxExcerptLength = 240;

// The checks every search answer must pass, whatever the query: the envelope,
// each hit's key set, score format and order, and escaped excerpts. Returns
// the hits by key ("in:key" for /search/all/).
std::map<std::string, Json> CheckEnvelope(const std::string& name, const std::string& in,
                                          const Json& body) {
  std::map<std::string, Json> hits;
  EXPECT_EQ(KeysOf(body), (std::set<std::string>{"query", "offset", "limit", "count", "hits"}))
      << name << ": " << body.dump();
  if (!body.contains("hits") || !body["hits"].is_array()) {
    ADD_FAILURE() << name << ": no hits array in " << body.dump();
    return hits;
  }
  EXPECT_TRUE(body["query"].is_string()) << name;
  EXPECT_TRUE(body["offset"].is_number_unsigned()) << name;
  EXPECT_TRUE(body["limit"].is_number_unsigned()) << name;
  EXPECT_TRUE(body["count"].is_number_unsigned()) << name;
  EXPECT_GE(body.value("count", uint64_t{0}), body["hits"].size()) << name;
  static const std::regex kScore("^[0-9]+\\.[0-9]{3}$");
  double previous = 1e300;
  for (const Json& hit : body["hits"]) {
    std::string hit_in = in;
    std::set<std::string> expected;
    if (in == "all") {
      hit_in = Str(hit, "in");
      if (!HitKeys().contains(hit_in)) {
        ADD_FAILURE() << name << ": hit without a valid \"in\": " << hit;
        continue;
      }
      expected = HitKeys().at(hit_in);
      expected.insert("in");
    } else {
      expected = HitKeys().at(in);
    }
    EXPECT_EQ(KeysOf(hit), expected) << name << ": " << hit_in << " hit " << hit.dump();
    for (const auto& [key, value] : hit.items()) {
      EXPECT_TRUE(value.is_string()) << name << ": " << key << " of " << hit.dump();
    }
    const std::string score = Str(hit, "score");
    EXPECT_TRUE(std::regex_match(score, kScore)) << name << ": score \"" << score << "\"";
    double value = 0;
    if (absl::SimpleAtod(score, &value)) {
      EXPECT_LE(value, previous) << name << ": hits not by descending score";
      previous = value;
    }
    if (hit.contains("excerpt")) {
      const std::string excerpt = Str(hit, "excerpt");
      EXPECT_TRUE(ExcerptIsEscaped(excerpt)) << name << ": excerpt " << excerpt;
      EXPECT_LE(ExcerptLength(excerpt), kMaxExcerptLength) << name << ": excerpt " << excerpt;
      EXPECT_FALSE(absl::StrContains(absl::AsciiStrToLower(excerpt), "<script"))
          << name << ": excerpt " << excerpt;
    }
    const std::string key = HitKey(hit_in, hit);
    hits[in == "all" ? hit_in + ":" + key : key] = hit;
  }
  return hits;
}

// The shape of a JSON document: each object's keys with the shapes of their
// values, each array as the union of its elements' shapes, and scalars as
// their type. Objects at `wildcards` paths are keyed by data (docpaths,
// dists, versions): their entries merge into one "*" entry. At `statuses`
// paths, "testing" and "unstable" lists count as "stable" ones (the same
// shape under another key).
struct ShapeRules {
  std::set<std::string> wildcards;
  std::set<std::string> statuses;
};

Json Union(const Json& a, const Json& b) {
  if (a == b) return a;
  if (a.is_object() && b.is_object()) {
    Json out = a;
    for (const auto& [key, value] : b.items()) {
      out[key] = out.contains(key) ? Union(out[key], value) : value;
    }
    return out;
  }
  if (a.is_array() && b.is_array()) {
    if (a.empty()) return b;
    if (b.empty()) return a;
    return Json::array({Union(a[0], b[0])});
  }
  std::set<std::string> types = {a.dump(), b.dump()};
  return absl::StrJoin(types, "|");
}

Json Shape(const Json& value, const ShapeRules& rules, const std::string& path = "") {
  if (value.is_object()) {
    Json out = Json::object();
    const bool wild = rules.wildcards.contains(path);
    for (const auto& [key, child] : value.items()) {
      std::string k = wild ? "*" : key;
      if (rules.statuses.contains(path) && (k == "testing" || k == "unstable")) k = "stable";
      Json shape = Shape(child, rules, path + "/" + k);
      out[k] = out.contains(k) ? Union(out[k], shape) : shape;
    }
    return out;
  }
  if (value.is_array()) {
    Json merged;
    for (const Json& element : value) {
      Json shape = Shape(element, rules, path + "/[]");
      merged = merged.is_null() ? shape : Union(merged, shape);
    }
    return merged.is_null() ? Json::array() : Json::array({merged});
  }
  if (value.is_string()) return "string";
  if (value.is_number()) return "number";
  if (value.is_boolean()) return "boolean";
  return "null";
}

// ---------------------------------------------------------------------------
// The fixture: one origin, one indexer, the corpus published once.

class SearchTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new base::TempDir();
    const std::string origin_dir = dir_->path() + "/origin";
    // PGXN's own corpus has releases from before PGXN required SemVer 2.0.0
    // (foobar 0.43.2b1): imported as an operator would import them.
    origin_ =
        Node::Start("origin", origin_dir, {"--unsafe-no-fsync", "--accept-semver1"}).release();
    if (origin_ == nullptr) return;
    for (const Account& account : Accounts()) {
      std::vector<std::string> argv = {PgxndPath(), "user", "add", "--data-dir", origin_dir};
      argv.insert(argv.end(), {account.nickname, "--email", account.nickname + "@example.com",
                               "--name", account.name, "--password-stdin"});
      if (!account.uri.empty()) argv.insert(argv.end(), {"--uri", account.uri});
      if (!account.twitter.empty()) argv.insert(argv.end(), {"--twitter", account.twitter});
      if (account.admin) argv.push_back("--admin");
      RunResult added = RunProgram(argv, std::string(kPassword) + "\n");
      if (added.exit_code != 0) {
        setup_error_ = "user add " + account.nickname + ": " + added.output;
        return;
      }
    }
    indexer_ =
        Node::Start("indexer", IndexerDir(), {"--upstream", origin_->grpc_address()}).release();
    if (indexer_ == nullptr) return;

    std::vector<Release> releases = FixtureReleases();
    fixture_releases_ = releases.size();
    for (Release& release : OwnReleases()) releases.push_back(std::move(release));
    Uploader uploader;
    for (const Release& release : releases) {
      const std::string filename = absl::StrCat(release.meta["name"].get<std::string>(), "-",
                                                release.meta["version"].get<std::string>(), ".zip");
      UploadResult result = uploader.Upload(origin_->url(), release.user,
                                            MakeDistZip(release.meta, release.files), filename);
      if (result.status != 200 || result.body != "Success") {
        setup_error_ = absl::StrCat("upload of ", filename, " by ", release.user, ": ",
                                    result.status, " ", result.body);
        return;
      }
      ++published_;
    }
  }

  static void TearDownTestSuite() {
    delete indexer_;
    delete origin_;
    delete dir_;
  }

  void SetUp() override {
    ASSERT_NE(origin_, nullptr);
    ASSERT_TRUE(setup_error_.empty()) << setup_error_;
    ASSERT_NE(indexer_, nullptr);
    WaitForIndexer();
  }

  static std::string IndexerDir() { return dir_->path() + "/indexer"; }

  // Waits until the indexer's applied seq (/_status) reaches the origin's
  // head. The contract: its searches, documents and pages then reflect every
  // event up to there.
  static void WaitForIndexer() {
    const uint64_t head = origin_->AppliedSeq();
    ASSERT_TRUE(indexer_->WaitForSeq(head))
        << "indexer stuck at " << indexer_->AppliedSeq() << " of " << head << "\n"
        << indexer_->Log();
  }

  static HttpResult Get(const std::string& path, const std::vector<std::string>& headers = {}) {
    return HttpGet(indexer_->url() + path, headers);
  }

  // The answer of a search that must succeed, checked as every answer is.
  static std::map<std::string, Json> Search(const std::string& name, const std::string& in,
                                            const std::string& params) {
    HttpResult result = Get("/search/" + in + "/?" + params);
    EXPECT_EQ(result.status, 200) << name << ": " << result.body;
    const Json body = Json::parse(result.body, nullptr, false);
    return CheckEnvelope(name, in, body);
  }

  static HttpResult Remove(const std::string& dist, const std::string& version) {
    return HttpRequest("DELETE", origin_->url() + "/admin/distributions/" + dist + "/" + version,
                       "", {BasicAuthHeader("root", kPassword)});
  }

  RunResult Pgxn(std::vector<std::string> args) {
    return RunPgxnClient(indexer_->url(), std::move(args));
  }

  static base::TempDir* dir_;
  static Node* origin_;
  static Node* indexer_;
  static std::string setup_error_;
  static size_t fixture_releases_;
  static size_t published_;
};

base::TempDir* SearchTest::dir_ = nullptr;
Node* SearchTest::origin_ = nullptr;
Node* SearchTest::indexer_ = nullptr;
std::string SearchTest::setup_error_;
size_t SearchTest::fixture_releases_ = 0;
size_t SearchTest::published_ = 0;

TEST_F(SearchTest, CorpusIsPublished) {
  // Every fixture META.json but the root mirror's copies of API files.
  EXPECT_EQ(fixture_releases_, 9u);
  EXPECT_GE(published_, 30u);
}

// ---------------------------------------------------------------------------
// 1. Search

// One search and what its answer must show; unset expectations are not
// checked. Built as Case(...).Found(...).Only()... so that a row names only
// what it checks.
struct SearchCase {
  std::string name;
  std::string path;    // /search/{in}/
  std::string params;  // the raw query string
  std::vector<long> status = {200};
  std::string error;                            // the exact body of a refusal, if not empty
  std::vector<std::string> found;               // keys that must be among the hits
  std::vector<std::string> absent;              // keys that must not be
  bool only = false;                            // the hits are exactly `found`
  int64_t count = -1;                           // the exact count, if >= 0
  int64_t hits = -1;                            // the exact number of hits, if >= 0
  int64_t limit = -1;                           // the limit answered, if >= 0
  int64_t offset = -1;                          // the offset answered, if >= 0
  std::map<std::string, std::string> versions;  // found key → its hit's version
  std::string excerpt;  // what the excerpt of found[0] must contain, if not empty
  std::string query;    // the query answered, if not empty

  SearchCase& Status(std::vector<long> v) { return status = std::move(v), *this; }
  SearchCase& Error(std::string v) { return error = std::move(v), *this; }
  SearchCase& Found(std::vector<std::string> v) { return found = std::move(v), *this; }
  SearchCase& Absent(std::vector<std::string> v) { return absent = std::move(v), *this; }
  SearchCase& Only() { return only = true, *this; }
  SearchCase& Count(int64_t v) { return count = v, *this; }
  SearchCase& Hits(int64_t v) { return hits = v, *this; }
  SearchCase& Limit(int64_t v) { return limit = v, *this; }
  SearchCase& Offset(int64_t v) { return offset = v, *this; }
  SearchCase& Versions(std::map<std::string, std::string> v) {
    return versions = std::move(v), *this;
  }
  SearchCase& Excerpt(std::string v) { return excerpt = std::move(v), *this; }
  SearchCase& Query(std::string v) { return query = std::move(v), *this; }
};

SearchCase Case(std::string name, std::string path, std::string params) {
  SearchCase c;
  c.name = std::move(name);
  c.path = std::move(path);
  c.params = std::move(params);
  return c;
}

constexpr char kBadQ[] = "Bad request: Invalid or missing \"q\" query param.";

std::vector<SearchCase> SearchCases() {
  const std::string docs = "/search/docs/", dists = "/search/dists/",
                    extensions = "/search/extensions/", users = "/search/users/",
                    tags = "/search/tags/", all = "/search/all/";
  const std::string huge(5000, 'q');
  std::string some_words, many_words;
  for (int i = 0; i < 700; ++i) absl::StrAppend(&some_words, "zzw", i, " ");
  for (int i = 0; i < 6000; ++i) absl::StrAppend(&many_words, "zzw", i, " ");
  return {
      // dists: fields, stemming, phrases, operators
      Case("dists: dist field", dists, Q("dist:pair")).Found({"pair"}).Only(),
      Case("dists: stemming types finds type", dists, Q("types")).Found({"currency", "pair"}),
      Case("dists: stemming indexing finds indexes", dists, Q("indexing")).Found({"geotypes"}),
      Case("dists: phrase", dists, Q("\"exchange rates\"")).Found({"currency"}).Only(),
      Case("dists: phrase in another order", dists, Q("\"rates exchange\"")).Absent({"currency"}),
      Case("dists: AND", dists, Q("currency AND exchange")).Found({"currency"}).Only(),
      Case("dists: AND of disjoint words", dists, Q("spatial AND currency")).Count(0),
      Case("dists: OR", dists, Q("spatial OR currency")).Found({"geotypes", "currency"}).Only(),
      Case("dists: NOT", dists, Q("type NOT currency")).Found({"pair"}).Absent({"currency"}),
      Case("dists: + and -", dists, Q("+type -currency")).Found({"pair"}).Absent({"currency"}),
      Case("dists: + twice", dists, Q("+currency +exchange")).Found({"currency"}).Only(),
      Case("dists: default OR", dists, Q("spatial currency"))
          .Found({"geotypes", "currency"})
          .Only(),
      Case("dists: + in the query string is a space", dists, "q=spatial+currency")
          .Found({"geotypes", "currency"})
          .Only()
          .Query("spatial currency"),
      Case("dists: whole tag", dists, Q("tags:\"key value\""))
          .Found({"pair", "kvstore"})
          .Absent({"kvpairs"}),
      Case("dists: tag keeps its case", dists, Q("tags:PostGIS")).Found({"geotypes"}).Only(),
      Case("dists: exact user", dists, Q("user:piro")).Found({"foobar"}).Only(),
      Case("dists: user is not a prefix", dists, Q("user:pir")).Count(0),
      Case("dists: user_name field", dists, Q("user_name:varrazzo")).Found({"foobar"}).Only(),
      Case("dists: readme field, excerpt highlighted and escaped", dists, Q("readme:frobnicator"))
          .Found({"docdemo"})
          .Only()
          .Excerpt("<strong>frobnicator</strong>"),
      Case("dists: excerpt escapes the README's markup", dists, Q("frobnicator"))
          .Found({"docdemo"})
          .Excerpt("&lt;"),
      Case("dists: the dist keeps its case", dists, Q("pgtap")).Found({"pgTAP"}),
      Case("dists: a testing release is found", dists, Q("dist:kvstore"))
          .Found({"kvstore"})
          .Only()
          .Versions({{"kvstore", "2.0.0"}}),
      Case("dists: an unstable release is found", dists, Q("nightly"))
          .Found({"nightly"})
          .Versions({{"nightly", "0.0.1"}}),
      Case("dists: a fixture release", dists, Q("AMQP"))
          .Found({"pg_amqp"})
          .Versions({{"pg_amqp", "0.3.0"}}),
      // pagination and limits
      Case("dists: all of a page", dists, Q("pagination")).Count(12).Hits(12).Limit(50).Offset(0),
      Case("dists: first page", dists, Q("pagination") + "&l=5").Count(12).Hits(5).Limit(5),
      Case("dists: middle page", dists, Q("pagination") + "&o=5&l=5")
          .Count(12)
          .Hits(5)
          .Limit(5)
          .Offset(5),
      Case("dists: last page", dists, Q("pagination") + "&o=10&l=5").Count(12).Hits(2).Offset(10),
      Case("dists: beyond the last page", dists, Q("pagination") + "&o=100")
          .Count(12)
          .Hits(0)
          .Offset(100),
      Case("dists: limit 0 is the default", dists, Q("pagination") + "&l=0")
          .Count(12)
          .Hits(12)
          .Limit(50),
      Case("dists: limit 1024 is the default", dists, Q("pagination") + "&l=1024")
          .Count(12)
          .Limit(50),
      Case("dists: limit 1023 is kept", dists, Q("pagination") + "&l=1023").Count(12).Limit(1023),
      Case("dists: empty o and l", dists, Q("pagination") + "&o=&l=").Count(12).Hits(12),
      // docs
      Case("docs: title field", docs, Q("title:guide")).Found({"docdemo/doc/guide"}).Only(),
      Case("docs: dist field", docs, Q("dist:pyrseas"))
          .Found({"Pyrseas/README", "Pyrseas/docs/dbtoyaml", "Pyrseas/docs/yamltodb"})
          .Only(),
      Case("docs: body, stemmed, excerpt highlighted", docs, Q("rendering"))
          .Found({"docdemo/README"})
          .Excerpt("<strong>"),
      Case("docs: phrase", docs, Q("\"went to zanzibar\"")).Found({"twover/doc/twover"}).Only(),
      Case("docs: exact user", docs, Q("user:wulczer"))
          .Found({"first_last_agg/README", "first_last_agg/doc/first_last_agg"})
          .Only(),
      Case("docs: no_index keeps files out", docs, Q("index"))
          .Absent({"docdemo/doc/hidden", "docdemo/private/secret"}),
      Case("docs: AND", docs, Q("frobnicator AND documents")).Found({"docdemo/README"}),
      Case("docs: NOT", docs, Q("frobnicator NOT documents")).Count(0),
      // extensions
      Case("extensions: extension field", extensions, Q("extension:yamltodb"))
          .Found({"yamltodb"})
          .Only(),
      Case("extensions: stemming outputs finds Output", extensions, Q("outputs"))
          .Found({"dbtoyaml"})
          .Excerpt("<strong>"),
      Case("extensions: abstract field", extensions, Q("abstract:generate"))
          .Found({"yamltodb"})
          .Only(),
      Case("extensions: exact user", extensions, Q("user:jma"))
          .Found({"dbtoyaml", "yamltodb"})
          .Only()
          .Count(2),
      Case("extensions: OR", extensions, Q("amqp OR foobar")).Found({"amqp", "foobar"}).Only(),
      Case("extensions: testing release", extensions, Q("kvstore"))
          .Found({"kvstore"})
          .Versions({{"kvstore", "2.0.0"}}),
      // users
      Case("users: name word", users, Q("wheeler")).Found({"theory"}).Only(),
      Case("users: nickname", users, Q("theory")).Found({"theory"}),
      Case("users: name field", users, Q("name:theo")).Found({"postwait"}).Only(),
      Case("users: exact user", users, Q("user:theo")).Count(0),
      Case("users: exact email", users, Q("email:theory@example.com")).Found({"theory"}).Only(),
      Case("users: email is not split into words", users, Q("email:theory")).Count(0),
      Case("users: exact uri", users, Q("uri:\"https://justatheory.com/\""))
          .Found({"theory"})
          .Only(),
      Case("users: uri is not split into words", users, Q("uri:justatheory")).Count(0),
      Case("users: phrase", users, Q("\"Alice Liddell\""))
          .Found({"alice"})
          .Only()
          .Excerpt("<strong>"),
      // tags
      Case("tags: case preserved", tags, Q("postgis")).Found({"PostGIS"}).Only(),
      Case("tags: whole tag", tags, Q("tag:\"key value\""))
          .Found({"key value"})
          .Absent({"key value pair"})
          .Only(),
      Case("tags: words", tags, Q("key")).Found({"key value", "key value pair"}),
      Case("tags: a fixture's tag", tags, Q("\"unit testing\"")).Found({"unit testing"}),
      // every index at once
      Case("all: each hit says its index", all, Q("frobnicator"))
          .Found({"dists:docdemo", "docs:docdemo/README"}),
      Case("all: users and tags too", all, Q("theory OR PostGIS"))
          .Found({"users:theory", "tags:PostGIS"}),
      Case("all: paginated", all, Q("pagination") + "&l=3").Hits(3).Limit(3),
      // refusals
      Case("no q", dists, "").Status({400}).Error(kBadQ),
      Case("empty q", dists, "q=").Status({400}).Error(kBadQ),
      Case("q=*", docs, "q=*").Status({400}).Error(kBadQ),
      Case("q=? encoded", extensions, "q=%3F").Status({400}).Error(kBadQ),
      Case("q=* encoded on all", all, "q=%2A").Status({400}).Error(kBadQ),
      Case("only o", users, "o=1").Status({400}).Error(kBadQ),
      Case("o not digits", dists, Q("pair") + "&o=abc").Status({400}),
      Case("o negative", dists, Q("pair") + "&o=-1").Status({400}),
      Case("l not digits", dists, Q("pair") + "&l=ten").Status({400}),
      Case("l fractional", tags, Q("pair") + "&l=1.5").Status({400}),
      Case("unknown index", "/search/foo/", Q("pair")).Status({404}),
      Case("no index", "/search/", Q("pair")).Status({404}),
      Case("index in capitals", "/search/DOCS/", Q("pair")).Status({404}),
      Case("below an index", "/search/docs/more", Q("pair")).Status({404}),
      // hostile and malformed queries
      Case("NUL byte", dists, "q=pair%00x").Status({400, 200}).Hits(0),
      Case("NUL byte alone", docs, "q=%00").Status({400, 200}).Hits(0),
      Case("huge word", dists, Q(huge)).Status({400, 200}).Hits(0),
      // Beyond the gateway's limit on a request's head: refused before the
      // search sees it, with a status of its own.
      Case("huge query of many words", docs, Q(some_words)).Status({400, 200}).Hits(0),
      Case("query beyond the request head limit", docs, Q(many_words)).Status({400, 414, 431}),
      Case("invalid UTF-8", dists, "q=%FF%FE").Status({400, 200}).Hits(0),
      Case("unbalanced quote", dists, Q("\"unbalanced")),
      Case("operators only", dists, Q("AND OR")),
      Case("dangling operator keeps the words", dists, Q("currency AND")).Found({"currency"}),
      Case("operators around words", dists, Q("AND OR currency")).Found({"currency"}),
      Case("unbalanced parentheses", extensions, Q("((dbtoyaml")),
      Case("lone NOT", dists, Q("NOT")),
      Case("field without value", dists, Q("tags:")),
      Case("unknown field", dists, Q("nosuchfield:pair")),
  };
}

TEST_F(SearchTest, SearchCases) {
  for (const SearchCase& c : SearchCases()) {
    SCOPED_TRACE(c.name);
    HttpResult result = Get(c.path + "?" + c.params);
    ASSERT_NE(result.status, 0) << c.name << ": " << result.error;
    EXPECT_TRUE(std::find(c.status.begin(), c.status.end(), result.status) != c.status.end())
        << c.name << ": status " << result.status << ": " << result.body.substr(0, 500);
    if (!c.error.empty()) {
      EXPECT_EQ(result.body, c.error) << c.name;
    }
    if (result.status != 200) {
      if (result.status == 400) {
        EXPECT_TRUE(absl::StartsWith(result.body, "Bad request: "))
            << c.name << ": " << result.body;
      }
      continue;
    }
    EXPECT_TRUE(absl::StartsWith(result.Header("content-type"), "application/json")) << c.name;
    Json body = Json::parse(result.body, nullptr, false);
    ASSERT_TRUE(body.is_object()) << c.name << ": " << result.body.substr(0, 500);
    const std::string in = IndexOfPath(c.path);
    const std::map<std::string, Json> hits = CheckEnvelope(c.name, in, body);
    std::vector<std::string> keys;
    for (const auto& [key, hit] : hits) keys.push_back(key);
    const std::string listing = absl::StrJoin(keys, ", ");
    for (const std::string& key : c.found) {
      EXPECT_TRUE(hits.contains(key)) << c.name << ": " << key << " not in [" << listing << "]";
    }
    for (const std::string& key : c.absent) {
      EXPECT_FALSE(hits.contains(key)) << c.name << ": " << key << " in [" << listing << "]";
    }
    if (c.only) {
      EXPECT_EQ(std::set<std::string>(keys.begin(), keys.end()),
                std::set<std::string>(c.found.begin(), c.found.end()))
          << c.name;
      EXPECT_EQ(body["hits"].size(), c.found.size()) << c.name << ": number of hits";
    }
    if (c.count >= 0) {
      EXPECT_EQ(body["count"], c.count) << c.name;
    }
    if (c.hits >= 0) {
      EXPECT_EQ(body["hits"].size(), static_cast<size_t>(c.hits)) << c.name;
    }
    if (c.limit >= 0) {
      EXPECT_EQ(body["limit"], c.limit) << c.name;
    }
    if (c.offset >= 0) {
      EXPECT_EQ(body["offset"], c.offset) << c.name;
    }
    if (!c.query.empty()) {
      EXPECT_EQ(body["query"], c.query) << c.name;
    }
    for (const auto& [key, version] : c.versions) {
      if (hits.contains(key)) {
        EXPECT_EQ(Str(hits.at(key), "version"), version) << c.name;
      }
    }
    if (!c.excerpt.empty() && !c.found.empty() && hits.contains(c.found[0])) {
      EXPECT_TRUE(absl::StrContains(Str(hits.at(c.found[0]), "excerpt"), c.excerpt))
          << c.name << ": excerpt " << hits.at(c.found[0]).dump();
    }
  }
  // A hostile query leaves the indexer answering.
  EXPECT_EQ(Get("/search/dists/?" + Q("pair")).status, 200);
}

TEST_F(SearchTest, PagesPartitionTheHits) {
  std::set<std::string> seen;
  for (int offset = 0; offset < 12; offset += 5) {
    const std::string name = absl::StrCat("page at ", offset);
    for (const auto& [key, hit] :
         Search(name, "dists", absl::StrCat(Q("pagination"), "&o=", offset, "&l=5"))) {
      EXPECT_TRUE(seen.insert(key).second) << name << ": " << key << " on two pages";
    }
  }
  std::set<std::string> expected;
  for (int i = 1; i <= 12; ++i) expected.insert(absl::StrCat("pager", i));
  EXPECT_EQ(seen, expected);
}

// ---------------------------------------------------------------------------
// 2. Removals

TEST_F(SearchTest, RemovedReleasesLeaveTheIndexAndTheirPages) {
  // What is there before, so that the absences below mean something.
  ASSERT_TRUE(Search("before", "dists", Q("obliterate")).contains("doomed"));
  ASSERT_EQ(Get("/dist/doomed/0.2.0/doc/doomed.html").status, 200);
  ASSERT_EQ(Get("/dist/twover/1.1.0/doc/twover.html").status, 200);

  for (const auto& [dist, version] : std::vector<std::pair<std::string, std::string>>{
           {"twover", "1.1.0"}, {"doomed", "0.1.0"}, {"doomed", "0.2.0"}}) {
    HttpResult removed = Remove(dist, version);
    ASSERT_EQ(removed.status, 200) << dist << " " << version << ": " << removed.body;
  }
  WaitForIndexer();

  struct Gone {
    std::string name, in, params;
    std::vector<std::string> absent;
    std::map<std::string, std::string> versions;  // key → the version still found
  };
  const Gone searches[] = {
      {"doomed dist", "dists", Q("doomed OR obliterate"), {"doomed"}, {}},
      {"doomed extension", "extensions", Q("doomed"), {"doomed"}, {}},
      {"doomed docs",
       "docs",
       Q("obliterate OR obliterated OR dist:doomed"),
       {"doomed/README", "doomed/doc/doomed"},
       {}},
      {"doomed tag", "tags", Q("ephemeral"), {"ephemeral"}, {}},
      {"doomed in all", "all", Q("doomed"), {"dists:doomed", "extensions:doomed"}, {}},
      {"removed twover release's doc", "docs", Q("zanzibar"), {"twover/doc/twover"}, {}},
      {"twover falls back", "dists", Q("twover"), {}, {{"twover", "1.0.0"}}},
      {"twover extension falls back", "extensions", Q("twover"), {}, {{"twover", "1.0.0"}}},
      {"twover docs fall back", "docs", Q("dist:twover"), {}, {{"twover/doc/twover", "1.0.0"}}},
  };
  for (const Gone& c : searches) {
    const std::map<std::string, Json> hits = Search(c.name, c.in, c.params);
    for (const std::string& key : c.absent) {
      EXPECT_FALSE(hits.contains(key)) << c.name;
    }
    for (const auto& [key, version] : c.versions) {
      if (!hits.contains(key)) {
        ADD_FAILURE() << c.name << ": " << key << " not found";
        continue;
      }
      EXPECT_EQ(Str(hits.at(key), "version"), version) << c.name;
    }
  }

  const std::pair<std::string, long> pages[] = {
      {"/dist/doomed/0.1.0/doc/doomed.html", 404},
      {"/dist/doomed/0.2.0/doc/doomed.html", 404},
      {"/dist/doomed/0.2.0/README.html", 404},
      {"/dist/doomed/0.2.0/META.json", 404},
      {"/dist/doomed.json", 404},
      {"/extension/doomed.json", 404},
      {"/tag/ephemeral.json", 404},
      {"/dist/twover/1.1.0/doc/twover.html", 404},
      {"/dist/twover/1.1.0/README.html", 404},
      {"/dist/twover/1.0.0/doc/twover.html", 200},
      {"/dist/twover/1.0.0/README.html", 200},
      {"/src/doomed/doomed-0.2.0/", 404},
  };
  for (const auto& [path, status] : pages) {
    EXPECT_EQ(Get(path).status, status) << path;
  }
  Json twover = Json::parse(Get("/dist/twover.json").body, nullptr, false);
  EXPECT_EQ(Str(twover, "version"), "1.0.0") << twover.dump();
  EXPECT_EQ(twover["releases"]["stable"].size(), 1u) << twover.dump();
  Json bob = Json::parse(Get("/user/bob.json").body, nullptr, false);
  EXPECT_FALSE(bob["releases"].contains("doomed")) << bob.dump();
}

// ---------------------------------------------------------------------------
// 3. Doc pages

TEST_F(SearchTest, DocPages) {
  HttpResult page = Get("/dist/docdemo/1.0.0/doc/docdemo.html");
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_TRUE(absl::StartsWith(page.Header("content-type"), "text/html"))
      << page.Header("content-type");
  const std::string& html = page.body;
  const struct {
    std::string name, fragment;
    bool present;
  } cases[] = {
      {"wrapper", "<div id=\"pgxndoc\">", true},
      {"table of contents", "<div id=\"pgxntoc\">", true},
      {"body", "<div id=\"pgxnbod\">", true},
      {"h1 id", "id=\"docdemo.1.0.0\"", true},
      {"h2 id", "id=\"Synopsis\"", true},
      {"h3 id", "id=\"Options\"", true},
      {"id of a heading with spaces", "id=\"Copyright.and.License\"", true},
      {"toc link to h2", "href=\"#Synopsis\"", true},
      {"toc link to h3", "href=\"#Options\"", true},
      {"toc link with dots", "href=\"#Copyright.and.License\"", true},
      {"fenced code escaped once", "SELECT 1 &lt; 2 AND 'a' &lt;&gt; 'b';", true},
      {"fenced code not escaped twice", "&amp;lt;", false},
      {"table", "<table>", true},
      {"table header", "<th>", true},
      {"table cell", "<td><code>fast</code></td>", true},
      {"relative link rewritten", "href=\"guide.html\"", true},
      {"relative link with fragment rewritten", "href=\"guide.html#Setup\"", true},
      {"relative link to the markdown left", "guide.md", false},
      {"link to a file that is no doc, to /src/",
       "href=\"/src/docdemo/docdemo-1.0.0/sql/docdemo.sql\"", true},
      {"GitHub's anchor beside PGXN's id", "<span id=\"copyright-and-license\"></span>", true},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(absl::StrContains(html, c.fragment), c.present) << c.name << ": " << html;
  }
  EXPECT_TRUE(absl::StartsWith(html, "<div id=\"pgxndoc\">")) << html.substr(0, 200);
  EXPECT_LT(html.find("<div id=\"pgxntoc\">"), html.find("<div id=\"pgxnbod\">"));
  HttpResult source = Get("/src/docdemo/docdemo-1.0.0/sql/docdemo.sql");
  EXPECT_EQ(source.status, 200) << "the doc's link to its SQL answers";
  for (const char* path :
       {"/dist/docdemo/1.0.0/doc/docdemo.html", "/dist/docdemo/1.0.0/README.html",
        "/dist/docdemo/1.0.0/doc/guide.html"}) {
    const std::string lower = absl::AsciiStrToLower(Get(path).body);
    EXPECT_FALSE(absl::StrContains(lower, "<script")) << path << ": " << lower;
    EXPECT_FALSE(absl::StrContains(lower, "javascript:")) << path << ": " << lower;
  }

  HttpResult guide = Get("/dist/docdemo/1.0.0/doc/guide.html");
  EXPECT_EQ(guide.status, 200);
  EXPECT_TRUE(absl::StrContains(guide.body, "href=\"docdemo.html\"")) << guide.body;
  EXPECT_TRUE(absl::StrContains(guide.body, "id=\"Setup\"")) << guide.body;

  // Every doc of every kind of release, and what no_index keeps out.
  const std::pair<std::string, long> pages[] = {
      {"/dist/docdemo/1.0.0/README.html", 200},
      {"/dist/docdemo/1.0.0/doc/notes.html", 200},
      {"/dist/docdemo/1.0.0/doc/hidden.html", 404},
      {"/dist/docdemo/1.0.0/private/secret.html", 404},
      {"/dist/docdemo/1.0.0/sql/docdemo.html", 404},
      {"/dist/pair/0.1.1/doc/pair.html", 200},
      {"/dist/pair/0.1.1/README.html", 200},
      {"/dist/pgtap/0.25.0/README.html", 200},
      {"/dist/pyrseas/0.4.1/docs/dbtoyaml.html", 200},
      {"/dist/pyrseas/0.4.1/docs/yamltodb.html", 200},
      {"/dist/first_last_agg/0.1.4/doc/first_last_agg.html", 200},
      {"/dist/foobar/0.43.2b1/doc/foobar.html", 200},
      {"/dist/kvstore/2.0.0/README.html", 200},
  };
  for (const auto& [path, status] : pages) {
    HttpResult result = Get(path);
    EXPECT_EQ(result.status, status) << path;
    if (status == 200) {
      EXPECT_TRUE(absl::StartsWith(result.body, "<div id=\"pgxndoc\">"))
          << path << ": " << result.body.substr(0, 200);
    }
  }
  // The fixture README's headings, as PGXN's page for it has them.
  EXPECT_TRUE(absl::StrContains(Get("/dist/pgtap/0.25.0/README.html").body,
                                "id=\"Copyright.and.License\""));
}

// ---------------------------------------------------------------------------
// 4. Enriched JSON

TEST_F(SearchTest, EnrichedJsonHasTheShapesOfPgxnFiles) {
  const std::string api_root = std::string(FIXTURES_DIR) + "/api-root/";
  const ShapeRules release_rules = {{"/docs", "/provides", "/releases"}, {"/releases"}};
  const ShapeRules extension_rules = {{"/versions"}, {""}};
  const ShapeRules lists_rules = {{"/releases"}, {"/releases/*"}};
  // The archive digests this project adds to a release META (origin/tree_render.h).
  const std::vector<std::string> digests = {"sha256", "sha512"};
  const struct {
    std::string name, ours, fixture;
    ShapeRules rules;
    std::vector<std::string> additions;  // top-level string keys PGXN's file lacks
  } cases[] = {
      // Made from the fixture META itself.
      {"release META", "/dist/pair/0.1.1/META.json", "dist/pair/0.1.1/META.json", release_rules,
       digests},
      // foobar's META has the same fields as pair's, a docfile and two stable
      // releases; our pair's newest stable (0.1.2) has no docfile.
      {"dist", "/dist/foobar.json", "dist/pair.json", release_rules, digests},
      {"extension", "/extension/foobar.json", "extension/pair.json", extension_rules, {}},
      {"user", "/user/theory.json", "user/theory.json", lists_rules, {}},
      {"tag", "/tag/key%20value.json", "tag/key value.json", lists_rules, {}},
      {"user list", "/users/t.json", "users/t.json", {}, {}},
      {"index.json", "/index.json", "index.json", {}, {}},
  };
  for (const auto& c : cases) {
    HttpResult result = Get(c.ours);
    ASSERT_EQ(result.status, 200) << c.name << " " << c.ours;
    EXPECT_TRUE(absl::StartsWith(result.Header("content-type"), "application/json"))
        << c.name << ": " << result.Header("content-type");
    Json ours = Json::parse(result.body, nullptr, false);
    for (const std::string& key : c.additions) {
      EXPECT_TRUE(ours.is_object() && ours.contains(key) && ours[key].is_string())
          << c.name << ": " << key;
      if (ours.is_object()) ours.erase(key);
    }
    const Json fixture = Json::parse(ReadWholeFile(api_root + c.fixture), nullptr, false);
    ASSERT_FALSE(fixture.is_discarded()) << c.fixture;
    ASSERT_FALSE(ours.is_discarded()) << c.name << ": " << result.body;
    EXPECT_EQ(Shape(ours, c.rules).dump(1), Shape(fixture, c.rules).dump(1))
        << c.name << " (" << c.ours << " against tests/fixtures/api-root/" << c.fixture << ")";
  }

  // The values the shapes do not show.
  Json docdemo = Json::parse(Get("/dist/docdemo.json").body, nullptr, false);
  // Its docfile, a README, another Markdown file and another markup; not
  // what no_index names.
  EXPECT_EQ(KeysOf(docdemo["docs"]),
            (std::set<std::string>{"README", "doc/docdemo", "doc/guide", "doc/notes"}))
      << docdemo.dump();
  EXPECT_EQ(docdemo["docs"]["README"], Json::parse(R"({"title": "docdemo"})"));
  EXPECT_EQ(docdemo["docs"]["doc/docdemo"],
            Json::parse(R"({"title": "docdemo", "abstract": "Documentation rendering demo"})"));
  EXPECT_EQ(docdemo["docs"]["doc/guide"], Json::parse(R"({"title": "Guide"})"));
  EXPECT_EQ(docdemo["provides"]["docdemo"]["docpath"], "doc/docdemo") << docdemo.dump();
  std::vector<std::string> special = docdemo.value("special_files", std::vector<std::string>{});
  std::sort(special.begin(), special.end());
  EXPECT_EQ(special, (std::vector<std::string>{"Changes", "META.json", "Makefile", "README.md",
                                               "docdemo.control"}))
      << docdemo.dump();

  // The dist shows the newest stable release; the newest is testing.
  Json kvstore = Json::parse(Get("/dist/kvstore.json").body, nullptr, false);
  EXPECT_EQ(kvstore["version"], "1.1.0") << kvstore.dump();
  EXPECT_EQ(kvstore["releases"]["testing"][0]["version"], "2.0.0") << kvstore.dump();
  EXPECT_EQ(kvstore["releases"]["stable"].size(), 2u) << kvstore.dump();

  Json extension = Json::parse(Get("/extension/foobar.json").body, nullptr, false);
  EXPECT_EQ(extension["stable"]["docpath"], "doc/foobar") << extension.dump();
  EXPECT_EQ(extension["stable"]["abstract"], "A non existing extension") << extension.dump();

  Json tag = Json::parse(Get("/tag/key%20value.json").body, nullptr, false);
  EXPECT_EQ(tag["releases"]["kvstore"]["abstract"], "Key/value storage for PostgreSQL")
      << tag.dump();
  Json user = Json::parse(Get("/user/piro.json").body, nullptr, false);
  EXPECT_EQ(user["releases"]["foobar"]["abstract"], "A mock distribution") << user.dump();

  EXPECT_EQ(Json::parse(Get("/users/p.json").body, nullptr, false),
            Json::parse(R"([{"user": "piro", "name": "Daniele Varrazzo"},
                            {"user": "postwait", "name": "Theo Schlossnagle"}])"));
  EXPECT_EQ(Json::parse(Get("/users/t.json").body, nullptr, false),
            Json::parse(R"([{"user": "theory", "name": "David E. Wheeler"}])"));

  Json index = Json::parse(Get("/index.json").body, nullptr, false);
  EXPECT_EQ(index["source"], "/src/{dist}/{dist}-{version}/") << index.dump();
  EXPECT_EQ(index["htmldoc"], "/dist/{dist}/{version}/{+docpath}.html") << index.dump();
  EXPECT_EQ(index["userlist"], "/users/{letter}.json") << index.dump();
  EXPECT_TRUE(absl::StartsWith(index.value("search", ""), "/search/{in}")) << index.dump();
}

// ---------------------------------------------------------------------------
// 5. /src/

TEST_F(SearchTest, SourceFilesAndListings) {
  const std::string readme =
      ReadWholeFile(std::string(FIXTURES_DIR) + "/api-root/dist/pair/0.1.1/README.txt");
  HttpResult file = Get("/src/pair/pair-0.1.1/README.md");
  EXPECT_EQ(file.status, 200) << file.body;
  EXPECT_EQ(file.body, readme);
  EXPECT_TRUE(absl::StartsWith(file.Header("content-type"), "text/plain"))
      << file.Header("content-type");

  HttpResult nested = Get("/src/pyrseas/pyrseas-0.4.1/pyrseas/dbtoyaml.py");
  EXPECT_EQ(nested.status, 200);
  EXPECT_EQ(nested.body, "-- dbtoyaml\nSELECT 1;\n");

  HttpResult listing = Get("/src/pair/pair-0.1.1/");
  EXPECT_EQ(listing.status, 200);
  EXPECT_TRUE(absl::StartsWith(listing.Header("content-type"), "text/html"))
      << listing.Header("content-type");
  for (const char* entry : {"META.json", "README.md", "doc/", "sql/"}) {
    EXPECT_TRUE(absl::StrContains(listing.body, entry)) << entry << ": " << listing.body;
  }
  HttpResult json = Get("/src/pyrseas/pyrseas-0.4.1/docs/", {"Accept: application/json"});
  EXPECT_EQ(json.status, 200);
  const Json entries = Json::parse(json.body, nullptr, false);
  ASSERT_TRUE(entries.is_array()) << json.body;
  std::vector<std::string> names;
  for (const Json& entry : entries) {
    names.push_back(Str(entry, "name"));
    EXPECT_EQ(Str(entry, "type"), "file") << entry;
  }
  EXPECT_EQ(names, (std::vector<std::string>{"dbtoyaml.rst", "yamltodb.rst"})) << json.body;

  HttpResult top = Get("/src/pair/pair-0.1.1");
  EXPECT_EQ(top.status, 301);
  EXPECT_TRUE(absl::EndsWith(top.Header("location"), "/src/pair/pair-0.1.1/"))
      << top.Header("location");
  for (const char* missing : {"/src/pair/pair-0.1.1/nope.txt", "/src/pair/pair-9.9.9/",
                              "/src/nosuch/nosuch-1.0.0/", "/src/pair/other-0.1.1/"}) {
    EXPECT_EQ(Get(missing).status, 404) << missing;
  }
}

// ---------------------------------------------------------------------------
// 6. The pgxn client

TEST_F(SearchTest, PgxnClientSearches) {
  const struct {
    std::vector<std::string> args;
    std::string expected;
  } cases[] = {
      {{"search", "frobnicator"}, "docdemo 1.0.0"},
      {{"search", "--docs", "exchange rates"}, "currency 1.0.0"},
      {{"search", "--docs", "guide", "OR", "frobnicator"}, "docdemo 1.0.0"},
      {{"search", "--dist", "currency"}, "currency 1.0.0"},
      {{"search", "--dist", "tags:PostGIS"}, "geotypes 1.0.0"},
      {{"search", "--dist", "key", "value"}, "kvpairs 1.0.0"},
      {{"search", "--ext", "dbtoyaml"}, "Pyrseas 0.4.1"},
      {{"search", "--ext", "amqp"}, "pg_amqp 0.3.0"},
  };
  for (const auto& c : cases) {
    const std::string name = absl::StrJoin(c.args, " ");
    RunResult run = Pgxn(c.args);
    EXPECT_EQ(run.exit_code, 0) << name << ": " << run.output;
    EXPECT_TRUE(absl::StrContains(run.output, c.expected)) << name << ": " << run.output;
  }
  RunResult none = Pgxn({"search", "--dist", "nosuchwordanywhere"});
  EXPECT_EQ(none.exit_code, 0) << none.output;
  EXPECT_EQ(none.output, "");
  RunResult info = Pgxn({"info", "kvstore"});
  EXPECT_EQ(info.exit_code, 0) << info.output;
  EXPECT_TRUE(absl::StrContains(info.output, "version: 1.1.0")) << info.output;
}

// ---------------------------------------------------------------------------
// 7. Rebuild from the events alone

// A search answer without what a rebuild may change: a score depends on the
// index's statistics, which replaced and removed documents leave slightly
// different from a fresh index's, and hits of equal score come in the order
// of their internal ids. So the scores go and the hits are compared as a set;
// every search below asks for all of its hits.
std::string WithoutScores(const std::string& body) {
  Json answer = Json::parse(body, nullptr, false);
  if (!answer.is_object() || !answer["hits"].is_array()) return body;
  std::vector<std::string> hits;
  for (Json& hit : answer["hits"]) {
    hit.erase("score");
    hits.push_back(hit.dump());
  }
  std::sort(hits.begin(), hits.end());
  answer["hits"] = hits;
  return answer.dump(1);
}

// The answers a rebuilt indexer must give as they were: search responses and
// documents, each as status and body.
std::map<std::string, std::string> Answers(const Node& indexer) {
  const std::vector<std::string> searches = {
      "/search/dists/?" + Q("pair"),
      "/search/dists/?" + Q("types"),
      "/search/dists/?" + Q("tags:\"key value\""),
      "/search/dists/?" + Q("kvstore OR twover OR doomed OR pagination"),
      "/search/docs/?" + Q("frobnicator OR guide OR zanzibar OR obliterate"),
      "/search/docs/?" + Q("dist:pyrseas OR dist:pgtap"),
      "/search/extensions/?" + Q("dbtoyaml OR yamltodb OR twover OR doomed"),
      "/search/users/?" + Q("wheeler OR alice OR theo"),
      "/search/tags/?" + Q("key OR PostGIS OR ephemeral"),
      "/search/all/?" + Q("pair OR frobnicator"),
  };
  const std::vector<std::string> documents = {
      "/dist/pair.json",
      "/dist/pair/0.1.1/META.json",
      "/dist/kvstore.json",
      "/dist/twover.json",
      "/dist/doomed.json",
      "/dist/docdemo.json",
      "/dist/pgtap.json",
      "/extension/pair.json",
      "/extension/dbtoyaml.json",
      "/extension/twover.json",
      "/user/theory.json",
      "/user/bob.json",
      "/tag/key%20value.json",
      "/tag/ephemeral.json",
      "/users/t.json",
      "/users/p.json",
      "/index.json",
      "/dist/docdemo/1.0.0/doc/docdemo.html",
      "/dist/docdemo/1.0.0/README.html",
      "/dist/pair/0.1.1/doc/pair.html",
      "/dist/pgtap/0.25.0/README.html",
      "/dist/pyrseas/0.4.1/docs/dbtoyaml.html",
      "/dist/twover/1.0.0/doc/twover.html",
      "/dist/twover/1.1.0/doc/twover.html",
      "/src/pair/pair-0.1.1/",
  };
  std::map<std::string, std::string> answers;
  for (const std::string& path : searches) {
    HttpResult result = HttpGet(indexer.url() + path);
    answers[path] = absl::StrCat(result.status, "\n", WithoutScores(result.body));
  }
  for (const std::string& path : documents) {
    HttpResult result = HttpGet(indexer.url() + path);
    answers[path] = absl::StrCat(result.status, "\n", result.body);
  }
  return answers;
}

TEST_F(SearchTest, RebuiltIndexerGivesTheSameAnswers) {
  const std::map<std::string, std::string> before = Answers(*indexer_);
  EXPECT_EQ(indexer_->Stop(SIGTERM), 0);
  delete indexer_;
  indexer_ = nullptr;
  std::filesystem::remove_all(IndexerDir());
  indexer_ =
      Node::Start("indexer", IndexerDir(), {"--upstream", origin_->grpc_address()}).release();
  ASSERT_NE(indexer_, nullptr);
  WaitForIndexer();
  const std::map<std::string, std::string> after = Answers(*indexer_);
  for (const auto& [path, answer] : before) {
    EXPECT_TRUE(after.at(path) == answer)
        << path << " differs after the rebuild\nbefore: " << answer.substr(0, 400)
        << "\nafter:  " << after.at(path).substr(0, 400);
  }
}

}  // namespace
}  // namespace pgxn::testing
