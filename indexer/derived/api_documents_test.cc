#include "indexer/derived/api_documents.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace pgxn::indexer {
namespace {

using Json = nlohmann::json;

Json PairMeta() {
  return Json::parse(R"({
    "name": "pair", "version": "0.1.1", "abstract": "A key/value pair data type",
    "user": "theory", "date": "2010-10-29T22:44:42Z", "release_status": "stable",
    "provides": {
      "pair": {"file": "sql/pair.sql", "version": "0.1.1", "docfile": "doc/pair.md",
               "abstract": "A key/value pair data type"},
      "pair_util": {"file": "sql/util.sql", "version": "0.1.1", "abstract": "Pair utilities"}
    },
    "no_index": {"directory": ["test"], "file": "doc/secret.md"}
  })");
}

TEST(ApiDocumentsTest, EnrichReleaseAddsDocsSpecialFilesAndDocpaths) {
  ReleaseFiles files;
  files.docs.push_back({"doc/pair.md", "doc/pair", "pair", "A key/value pair data type", "", ""});
  files.docs.push_back({"README.md", "README", "pair 0.1.1", "", "", ""});
  files.docs.push_back({"doc/pair_util.md", "doc/pair_util", "pair_util", "", "", ""});
  files.special_files = {"Changes", "META.json"};
  const Json enriched = EnrichRelease(PairMeta(), files);
  EXPECT_EQ(enriched["docs"], Json::parse(R"({
    "doc/pair": {"title": "pair", "abstract": "A key/value pair data type"},
    "README": {"title": "pair 0.1.1"},
    "doc/pair_util": {"title": "pair_util"}})"));
  EXPECT_EQ(enriched["special_files"], Json::parse(R"(["Changes", "META.json"])"));
  EXPECT_EQ(enriched["provides"]["pair"]["docpath"], "doc/pair");
  // No docfile: the doc named for the extension.
  EXPECT_EQ(enriched["provides"]["pair_util"]["docpath"], "doc/pair_util");
  EXPECT_EQ(enriched["name"], "pair");
}

TEST(ApiDocumentsTest, ShownVersionPrefersNewestStable) {
  const struct {
    const char* dist_file;
    const char* want;
  } kCases[] = {
      {R"({"releases": {"stable": [{"version": "0.1.1", "date": "2010-10-29T22:44:42Z"},
                                   {"version": "0.1.0", "date": "2010-10-19T03:59:54Z"}],
                        "testing": [{"version": "0.1.2", "date": "2010-11-03T22:44:42Z"}]}})",
       "0.1.1"},
      {R"({"releases": {"testing": [{"version": "0.1.2", "date": "2010-11-03T22:44:42Z"}],
                        "unstable": [{"version": "0.2.0", "date": "2011-11-03T22:44:42Z"}]}})",
       "0.1.2"},
      {R"({"releases": {"unstable": [{"version": "0.2.0", "date": "2011-01-01T00:00:00Z"},
                                     {"version": "0.10.0", "date": "2011-01-01T00:00:00Z"}]}})",
       "0.10.0"},
      {R"({"releases": {}})", ""},
      {R"({"name": "x"})", ""},
      {R"([])", ""},
  };
  for (const auto& c : kCases) {
    EXPECT_EQ(ShownVersion(Json::parse(c.dist_file)), c.want) << c.dist_file;
  }
}

TEST(ApiDocumentsTest, EnrichDistIsTheShownReleaseWithTheDistsReleases) {
  const Json dist_file = Json::parse(
      R"({"name": "pair", "releases": {"stable": [{"version": "0.1.1", "date": "d"}]}})");
  Json release = PairMeta();
  release["releases"] = "stale";
  const Json enriched = EnrichDist(dist_file, release);
  EXPECT_EQ(enriched["abstract"], "A key/value pair data type");
  EXPECT_EQ(enriched["releases"], dist_file["releases"]);
  // Without the release's META the dist file is served as it is.
  EXPECT_EQ(EnrichDist(dist_file, Json(Json::value_t::discarded)), dist_file);
}

TEST(ApiDocumentsTest, EnrichExtensionAddsAbstractDocpathAndDates) {
  const Json file = Json::parse(R"({
    "extension": "pair", "latest": "stable",
    "stable": {"dist": "pair", "version": "0.1.1", "sha1": "x"},
    "versions": {"0.1.1": [{"dist": "pair", "version": "0.1.1"}],
                 "0.1.0": [{"dist": "pair", "version": "0.1.0"}]}})");
  int lookups = 0;
  const Json enriched =
      EnrichExtension(file, [&](const std::string& dist, const std::string& version) {
        ++lookups;
        if (version == "0.1.0") return Json::parse(R"({"date": "2010-10-19T03:59:54Z"})");
        Json meta = PairMeta();
        meta["provides"]["pair"]["docpath"] = "doc/pair";
        return meta;
      });
  EXPECT_EQ(enriched["stable"]["abstract"], "A key/value pair data type");
  EXPECT_EQ(enriched["stable"]["docpath"], "doc/pair");
  EXPECT_EQ(enriched["stable"]["sha1"], "x");
  EXPECT_EQ(enriched["versions"]["0.1.1"][0]["date"], "2010-10-29T22:44:42Z");
  EXPECT_EQ(enriched["versions"]["0.1.0"][0]["date"], "2010-10-19T03:59:54Z");
  EXPECT_EQ(lookups, 2);  // one per release
}

TEST(ApiDocumentsTest, EnrichReleaseListsAddsAbstracts) {
  const Json file = Json::parse(R"({"tag": "pair", "releases": {
    "pair": {"stable": [{"version": "0.1.1", "date": "d"}]},
    "gone": {"stable": [{"version": "1.0.0", "date": "d"}]}}})");
  const Json enriched = EnrichReleaseLists(file, [](const std::string& dist) {
    return dist == "pair" ? std::string("A key/value pair data type") : std::string();
  });
  EXPECT_EQ(enriched["releases"]["pair"]["abstract"], "A key/value pair data type");
  EXPECT_FALSE(enriched["releases"]["gone"].contains("abstract"));
  EXPECT_EQ(enriched["tag"], "pair");
}

TEST(ApiDocumentsTest, UserListsAreSortedAndUpdatedInPlace) {
  EXPECT_EQ(UserListPath("theory"), "users/t.json");
  EXPECT_EQ(UserListPath("Tom"), "users/t.json");
  EXPECT_EQ(UserListPath(""), "");
  Json list = UpdateUserList(Json(Json::value_t::discarded), "tony", "Tony Vanilla");
  list = UpdateUserList(list, "theory", std::string("David E. Wheeler"));
  list = UpdateUserList(list, "tom", std::string("Tom G. Lane"));
  list = UpdateUserList(list, "theory", std::string("David Wheeler"));
  EXPECT_EQ(list, Json::parse(R"([{"user": "theory", "name": "David Wheeler"},
                                  {"user": "tom", "name": "Tom G. Lane"},
                                  {"user": "tony", "name": "Tony Vanilla"}])"));
  list = UpdateUserList(list, "tom", absl::nullopt);
  EXPECT_EQ(list.size(), 2u);
  EXPECT_EQ(list[1]["user"], "tony");
}

}  // namespace
}  // namespace pgxn::indexer
