// A property test of the origin's tree: a few hundred random uploads through
// HTTP (random dists from a small pool, so each gets many versions; versions
// in and out of PGXN's order; random statuses and tags; extensions shared
// between the dists of one owner; co-ownership; several users), with releases
// removed now and then. Every answer is predicted by a model of PGXN's rules
// written here, independently of the origin's code. Afterwards:
//   - the releases in the database are exactly the model's;
//   - `pgxnd origin rebuild` finds no difference;
//   - every dist, extension, tag and user file the origin serves agrees with
//     the relational rows, and no other such file is served;
//   - a mirror serves the same tree, byte for byte.
// The seed is fixed (PGXN_TEST_SEED overrides it, base/test_seed.h) so a
// failure can be replayed.
#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <map>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/temp_dir.h"
#include "base/test_seed.h"
#include "gateway/path.h"
#include "gtest/gtest.h"
#include "origin/catalog/semver.h"
#include "origin/pg/embedded_postgres.h"
#include "origin/pg/pg.h"
#include "tests/support/cluster.h"

namespace pgxn::testing {
namespace {

using Json = nlohmann::json;

constexpr char kPassword[] = "property password";
constexpr uint32_t kDefaultSeed = 20261125;
constexpr int kWantedReleases = 220;
constexpr int kMaxOperations = 420;

struct DistSpec {
  std::string key;                     // lower case
  std::vector<std::string> spellings;  // how uploads spell the name
  std::string owner;
  std::vector<std::string> extensions;  // always provided
};

const DistSpec kDists[] = {
    {"pair", {"pair", "Pair"}, "alice", {"pair"}},
    {"pgtap", {"pgTAP", "pgtap"}, "alice", {"pgtap"}},
    {"kv", {"kv"}, "alice", {"kv", "kv_util"}},
    {"semver", {"semver"}, "bob", {"semver"}},
    {"geo", {"geo", "GEO"}, "bob", {"Geo"}},
    {"tally", {"tally"}, "carol", {"tally"}},
    {"hstore_plus", {"hstore_plus"}, "carol", {"hstore_plus"}},
    {"ltree_x", {"ltree_x"}, "dave", {"ltree_x"}},
};
// Extensions that several dists of one owner may provide.
const std::map<std::string, std::vector<std::string>> kShared = {
    {"alice", {"common", "Common_Util"}}, {"bob", {"geo_common"}}};
const std::vector<std::string> kUsers = {"alice", "bob", "carol", "dave"};
const std::vector<std::string> kTags = {"key value", "Key Value", "json",         "JSON",
                                        "data type", "gis",       "ordered pair", "testing"};
const std::vector<std::string> kStatuses = {"stable", "testing", "unstable"};

origin::SemVer Version(const std::string& text) {
  absl::StatusOr<origin::SemVer> v = origin::ParseSemVer(text);
  EXPECT_TRUE(v.ok()) << text;
  return v.ok() ? *v : origin::SemVer();
}

// PGXN's rules (docs/pgxn.md §3 steps 5-7), as the model of this test.
class Model {
 public:
  struct Answer {
    int status;
    std::string body;
  };

  Answer Expect(const std::string& user, const std::string& name, const std::string& version,
                const std::vector<std::string>& extensions) const {
    const std::string key = absl::AsciiStrToLower(name);
    const std::vector<std::string>& existing = VersionsOf(key);
    if (std::string refusal = OrderRefusal(name, version, existing); !refusal.empty()) {
      return {409, refusal};
    }
    for (const std::string& v : existing) {
      if (absl::AsciiStrToLower(v) == absl::AsciiStrToLower(version)) {
        return {409, absl::StrCat("Distribution \"", name, " ", version, "\" already exists")};
      }
    }
    if (!MayProvide(user, extensions)) {
      return {409, absl::StrCat("User \"", user, "\" does not own all provided extensions")};
    }
    return {200, "Success"};
  }

  bool MayProvide(const std::string& user, const std::vector<std::string>& extensions) const {
    for (const std::string& extension : extensions) {
      auto owner = owners_.find(absl::AsciiStrToLower(extension));
      if (owner == owners_.end() || owner->second == user) continue;
      auto co = coowners_.find(absl::AsciiStrToLower(extension));
      if (co == coowners_.end() || co->second.count(user) == 0) return false;
    }
    return true;
  }

  void Published(const std::string& user, const std::string& name, const std::string& version,
                 const std::vector<std::string>& extensions) {
    releases_[absl::AsciiStrToLower(name)].push_back(version);
    for (const std::string& extension : extensions) {
      owners_.emplace(absl::AsciiStrToLower(extension), user);  // the first uploader owns it
    }
  }
  void Removed(const std::string& key, const std::string& version) {
    std::vector<std::string>& versions = releases_[key];
    versions.erase(std::find(versions.begin(), versions.end(), version));
    if (versions.empty()) releases_.erase(key);
  }
  void Granted(const std::string& extension, const std::string& user) {
    coowners_[absl::AsciiStrToLower(extension)].insert(user);
  }

  const std::vector<std::string>& VersionsOf(const std::string& key) const {
    static const std::vector<std::string> kNone;
    auto it = releases_.find(key);
    return it == releases_.end() ? kNone : it->second;
  }
  std::string OwnerOf(const std::string& extension) const {
    auto it = owners_.find(absl::AsciiStrToLower(extension));
    return it == owners_.end() ? "" : it->second;
  }
  // Every (dist key, version) published.
  std::set<std::pair<std::string, std::string>> All() const {
    std::set<std::pair<std::string, std::string>> all;
    for (const auto& [key, versions] : releases_) {
      for (const std::string& v : versions) all.emplace(key, v);
    }
    return all;
  }

 private:
  // Step 6: "" when `version` may follow `existing`.
  static std::string OrderRefusal(const std::string& name, const std::string& version,
                                  const std::vector<std::string>& existing) {
    const origin::SemVer wanted = Version(version);
    std::vector<origin::SemVer> all, minor, major;
    for (const std::string& text : existing) {
      const origin::SemVer v = Version(text);
      all.push_back(v);
      if (v.major == wanted.major) major.push_back(v);
      if (v.major == wanted.major && v.minor == wanted.minor) minor.push_back(v);
    }
    auto highest = [](const std::vector<origin::SemVer>& vs) {
      return *std::max_element(vs.begin(), vs.end());
    };
    if (all.empty() || !(wanted < highest(all))) return "";
    const std::vector<origin::SemVer>* group = &all;
    std::string which = "previous release";
    if (!minor.empty()) {
      group = &minor;
      which = "previous minor release";
    } else if (!major.empty()) {
      group = &major;
      which = "previous major release";
    }
    if (group != &all && !(wanted < highest(*group))) return "";
    return absl::StrCat("Distribution \"", name, " ", version, "\" version not greater than ",
                        which, " \"", name, " ", highest(*group).ToString(), "\"");
  }

  std::map<std::string, std::vector<std::string>> releases_;  // dist key → versions
  std::map<std::string, std::string> owners_;                 // extension → owner
  std::map<std::string, std::set<std::string>> coowners_;
};

class PropertyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = dir_.path() + "/origin";
    origin_ = Node::Start("origin", data_, {"--unsafe-no-fsync"});
    ASSERT_NE(origin_, nullptr);
    RunResult root =
        RunProgram({PgxndPath(), "user", "add", "--data-dir", data_, "root", "--email",
                    "root@example.com", "--name", "Root", "--admin", "--password-stdin"},
                   std::string(kPassword) + "\n");
    ASSERT_EQ(root.exit_code, 0) << root.output;
    for (const std::string& user : kUsers) ASSERT_TRUE(AddUser(data_, user, kPassword));
    mirror_ =
        Node::Start("mirror", dir_.path() + "/mirror", {"--upstream", origin_->grpc_address()});
    ASSERT_NE(mirror_, nullptr);
    auto conn = origin::PgConnection::Connect(origin::EmbeddedPostgresDsn(data_ + "/postgres"));
    ASSERT_TRUE(conn.ok()) << conn.status();
    conn_ = *std::move(conn);
  }

  size_t Pick(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }
  bool Chance(double p) { return std::bernoulli_distribution(p)(rng_); }
  template <typename T>
  const T& OneOf(const std::vector<T>& values) {
    return values[Pick(values.size())];
  }

  // A version above every one of `existing`.
  std::string NextVersion(const std::vector<std::string>& existing) {
    if (existing.empty()) return OneOf<std::string>({"0.1.0", "1.0.0", "0.0.1"});
    origin::SemVer top = Version(existing[0]);
    for (const std::string& v : existing) top = std::max(top, Version(v));
    if (!top.prerelease.empty() && Chance(0.5)) {
      return absl::StrCat(top.major, ".", top.minor, ".", top.patch);
    }
    const size_t bump = Pick(10);
    std::string next = bump < 6   ? absl::StrCat(top.major, ".", top.minor, ".", top.patch + 1)
                       : bump < 9 ? absl::StrCat(top.major, ".", top.minor + 1, ".0")
                                  : absl::StrCat(top.major + 1, ".0.0");
    if (Chance(0.1)) absl::StrAppend(&next, OneOf<std::string>({"-beta1", "-rc.1"}));
    return next;
  }

  // Any version, often below the newest: PGXN allows some of them.
  std::string AnyVersion(const std::vector<std::string>& existing) {
    uint64_t top_major = 1;
    for (const std::string& v : existing) top_major = std::max(top_major, Version(v).major);
    return absl::StrCat(Pick(top_major + 1), ".", Pick(5), ".", Pick(5));
  }

  std::string Uploader(const DistSpec& dist) {
    std::vector<std::string> candidates;
    for (const std::string& user : kUsers) {
      if (model_.MayProvide(user, dist.extensions) && model_.OwnerOf(dist.extensions[0]) != "") {
        candidates.push_back(user);
      }
    }
    return candidates.empty() ? dist.owner : OneOf(candidates);
  }

  void UploadOne() {
    const DistSpec& dist = kDists[Pick(std::size(kDists))];
    const std::vector<std::string>& existing = model_.VersionsOf(dist.key);
    std::string user = Uploader(dist);
    std::string version;
    const size_t kind = Pick(20);
    if (kind < 15 || existing.empty()) {
      version = NextVersion(existing);
    } else if (kind < 18) {
      version = AnyVersion(existing);
    } else if (kind < 19) {
      version = OneOf(existing);
    } else {
      // Someone who owns none of it: refused once its extensions are owned.
      version = NextVersion(existing);
      user = OneOf(kUsers);
    }
    std::vector<std::string> extensions = dist.extensions;
    if (auto shared = kShared.find(dist.owner); shared != kShared.end() && Chance(0.3)) {
      extensions.push_back(OneOf(shared->second));
    }
    std::vector<std::string> tags;
    for (size_t n = Pick(4); n > 0; --n) {
      const std::string& tag = OneOf(kTags);
      bool seen = false;
      for (const std::string& t : tags)
        seen = seen || absl::AsciiStrToLower(t) == absl::AsciiStrToLower(tag);
      if (!seen) tags.push_back(tag);
    }
    const std::string name = OneOf(dist.spellings);
    Json meta = MakeMeta(name, version, absl::StrCat(name, " release ", version));
    meta["provides"] = Json::object();
    for (const std::string& extension : extensions) {
      meta["provides"][extension] = {{"file", absl::StrCat("sql/", extension, ".sql")},
                                     {"version", version},
                                     {"abstract", absl::StrCat("The ", extension, " extension")}};
    }
    meta["release_status"] = OneOf(kStatuses);
    if (!tags.empty()) meta["tags"] = tags;
    std::vector<DistFile> files;
    if (Chance(0.6)) files.push_back({"README.md", absl::StrCat("# ", name, " ", version, "\n")});

    const Model::Answer expected = model_.Expect(user, name, version, extensions);
    const uint64_t seq_before = expected.status == 200 ? 0 : origin_->AppliedSeq();
    UploadResult result = UploadWithCurl(origin_->url(), user, kPassword, MakeDistZip(meta, files),
                                         "release.zip", dir_.path());
    ASSERT_EQ(result.status, expected.status)
        << user << " uploading " << name << " " << version << ": " << result.body;
    ASSERT_EQ(result.body, expected.body);
    if (expected.status == 200) {
      model_.Published(user, name, version, extensions);
      ++accepted_;
    } else {
      ASSERT_EQ(origin_->AppliedSeq(), seq_before) << "a refused upload published something";
      ++refused_;
    }
  }

  void RemoveOne() {
    const std::set<std::pair<std::string, std::string>> all = model_.All();
    if (all.empty()) return;
    auto it = all.begin();
    std::advance(it, Pick(all.size()));
    const auto [key, version] = *it;
    HttpResult removed = HttpRequest(
        "DELETE", absl::StrCat(origin_->url(), "/admin/distributions/", key, "/", version), "",
        {BasicAuthHeader("root", kPassword)});
    ASSERT_EQ(removed.status, 200) << key << " " << version << ": " << removed.body;
    model_.Removed(key, version);
    ++removals_;
  }

  // Lets dave release kv once alice owns its extensions.
  void GrantOnce() {
    if (granted_ || model_.OwnerOf("kv") != "alice" || model_.OwnerOf("kv_util") != "alice") return;
    for (const char* extension : {"kv", "kv_util"}) {
      HttpResult granted =
          HttpRequest("POST", absl::StrCat(origin_->url(), "/extensions/", extension, "/coowners"),
                      "nickname=dave", {BasicAuthHeader("alice", kPassword)});
      ASSERT_EQ(granted.status, 200) << granted.body;
      model_.Granted(extension, "dave");
    }
    granted_ = true;
  }

  // The rows of a query whose `columns` columns are all text.
  std::vector<std::vector<std::string>> Rows(const std::string& sql, int columns) {
    auto result = conn_->Exec(sql);
    EXPECT_TRUE(result.ok()) << result.status();
    std::vector<std::vector<std::string>> rows;
    for (int row = 0; result.ok() && row < result->rows(); ++row) {
      std::vector<std::string> values;
      for (int column = 0; column < columns; ++column)
        values.push_back(result->GetString(row, column));
      rows.push_back(std::move(values));
    }
    return rows;
  }

  Json Served(const Node& node, const std::string& path) {
    HttpResult result = node.Get(gateway::PercentEncodePath("/" + path));
    EXPECT_EQ(result.status, 200) << node.url() << path;
    return Json::parse(result.body, nullptr, false);
  }

  std::mt19937 rng_;  // seeded by the test
  base::TempDir dir_;
  std::string data_;
  std::unique_ptr<Node> origin_;
  std::unique_ptr<Node> mirror_;
  std::unique_ptr<origin::PgConnection> conn_;
  Model model_;
  int accepted_ = 0;
  int refused_ = 0;
  int removals_ = 0;
  bool granted_ = false;
};

// One release as the rows hold it.
struct Release {
  std::string name, version, status, date, sha1, creator;
  int64_t at = 0;  // microseconds, orders releases by publication
  std::string key() const { return absl::AsciiStrToLower(name); }
};

bool Newer(const Release* a, const Release* b) {
  if (a->at != b->at) return a->at > b->at;
  return Version(b->version) < Version(a->version);
}

// (status, version, date) triples, the content of {status: [{version, date}]}.
using Triples = std::set<std::tuple<std::string, std::string, std::string>>;

Triples TriplesOf(const std::vector<const Release*>& releases) {
  Triples triples;
  for (const Release* r : releases) triples.emplace(r->status, r->version, r->date);
  return triples;
}

// Checks a served {status: [{version, date}]} object: no empty list, each
// list newest version first, and returns its triples.
Triples ServedTriples(const Json& by_status, const std::string& where) {
  Triples triples;
  EXPECT_TRUE(by_status.is_object()) << where;
  if (!by_status.is_object()) return triples;
  for (const auto& [status, list] : by_status.items()) {
    EXPECT_TRUE(std::find(kStatuses.begin(), kStatuses.end(), status) != kStatuses.end())
        << where << ": status " << status;
    EXPECT_FALSE(list.empty()) << where << ": empty " << status << " list";
    for (size_t i = 0; i < list.size(); ++i) {
      triples.emplace(status, list[i].value("version", ""), list[i].value("date", ""));
      if (i > 0) {
        EXPECT_TRUE(Version(list[i].value("version", "")) <
                    Version(list[i - 1].value("version", "")))
            << where << ": " << status << " not newest first";
      }
    }
  }
  return triples;
}

// Checks {dist: {status: [...]}} (tag and user files) against `releases`:
// one entry per dist, spelled as its newest release among them.
void ExpectReleasesByDist(const Json& served, const std::vector<const Release*>& releases,
                          const std::string& where) {
  std::map<std::string, std::vector<const Release*>> by_dist;
  for (const Release* r : releases) by_dist[r->key()].push_back(r);
  ASSERT_TRUE(served.is_object()) << where;
  EXPECT_EQ(served.size(), by_dist.size()) << where;
  for (auto& [key, rows] : by_dist) {
    std::sort(rows.begin(), rows.end(), Newer);
    const std::string& spelling = rows.front()->name;
    ASSERT_TRUE(served.contains(spelling)) << where << ": no " << spelling;
    EXPECT_EQ(ServedTriples(served[spelling], where + " " + spelling), TriplesOf(rows))
        << where << " " << spelling;
  }
}

TEST_F(PropertyTest, RandomReleasesKeepTheTreeEqualToTheRows) {
  if (std::getenv("PGXN_PROPERTY_SEED") != nullptr) {
    FAIL() << "PGXN_PROPERTY_SEED was renamed PGXN_TEST_SEED";
  }
  const uint64_t seed = base::TestSeed(kDefaultSeed);
  rng_.seed(static_cast<std::mt19937::result_type>(seed));  // mt19937 takes its low 32 bits
  SCOPED_TRACE(absl::StrCat("PGXN_TEST_SEED=", seed));
  for (int op = 0; op < kMaxOperations && accepted_ < kWantedReleases; ++op) {
    if (op >= 40) GrantOnce();
    if (op > 10 && Chance(0.06)) {
      RemoveOne();
    } else {
      UploadOne();
    }
    if (HasFatalFailure()) return;
  }
  std::printf("seed %llu: %d releases accepted, %d refused, %d removed\n",
              static_cast<unsigned long long>(seed), accepted_, refused_, removals_);
  ASSERT_GE(accepted_, 200);
  EXPECT_GE(refused_, 10);
  EXPECT_GE(removals_, 5);
  EXPECT_TRUE(granted_);

  // The rows hold exactly what the model says was published.
  std::vector<Release> releases;
  for (const auto& row :
       Rows("SELECT d.name, d.version, d.release_status,"
            " to_char(d.released_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
            " d.sha1, d.creator, ((extract(epoch from d.released_at) * 1000000)::bigint)::text"
            " FROM distributions d",
            7)) {
    Release r{row[0], row[1], row[2], row[3], row[4], row[5], 0};
    ASSERT_TRUE(absl::SimpleAtoi(row[6], &r.at));
    releases.push_back(r);
  }
  std::set<std::pair<std::string, std::string>> in_rows;
  for (const Release& r : releases) in_rows.emplace(r.key(), r.version);
  EXPECT_EQ(in_rows, model_.All());

  // The consistency check agrees, while the origin runs.
  RunResult rebuild = RunProgram({PgxndPath(), "origin", "rebuild", "--data-dir", data_});
  EXPECT_EQ(rebuild.exit_code, 0) << rebuild.output;

  // The JSON files the origin serves, checked against the rows.
  std::set<std::string> want;  // dist/extension/tag/user paths the rows call for
  std::map<std::string, std::vector<const Release*>> dists;
  for (const Release& r : releases) dists[r.key()].push_back(&r);
  for (auto& [key, rows] : dists) {
    const std::string path = absl::StrCat("dist/", key, ".json");
    want.insert(path);
    std::sort(rows.begin(), rows.end(), Newer);
    const Json doc = Served(*origin_, path);
    ASSERT_TRUE(doc.is_object()) << path;
    EXPECT_EQ(doc.size(), 2u) << path;
    EXPECT_EQ(doc.value("name", ""), rows.front()->name) << path;
    EXPECT_EQ(ServedTriples(doc["releases"], path), TriplesOf(rows)) << path;
  }

  std::map<std::pair<std::string, std::string>, const Release*> by_release;
  for (const Release& r : releases) by_release[{r.name, r.version}] = &r;
  struct Provided {
    std::string ext_name, ext_version;
    const Release* release;
  };
  std::map<std::string, std::vector<Provided>> extensions;
  for (const auto& row : Rows("SELECT extension, ext_name, ext_version, dist_name, dist_version"
                              " FROM distribution_extensions",
                              5)) {
    extensions[row[0]].push_back({row[1], row[2], by_release.at({row[3], row[4]})});
  }
  for (auto& [key, rows] : extensions) {
    const std::string path = absl::StrCat("extension/", key, ".json");
    want.insert(path);
    std::sort(rows.begin(), rows.end(),
              [](const Provided& a, const Provided& b) { return Newer(a.release, b.release); });
    const Json doc = Served(*origin_, path);
    ASSERT_TRUE(doc.is_object()) << path;
    EXPECT_EQ(doc.value("extension", ""), rows.front().ext_name) << path;
    EXPECT_EQ(doc.value("latest", ""), rows.front().release->status) << path;
    for (const std::string& status : kStatuses) {
      auto newest = std::find_if(rows.begin(), rows.end(),
                                 [&](const Provided& p) { return p.release->status == status; });
      if (newest == rows.end()) {
        EXPECT_FALSE(doc.contains(status)) << path << " " << status;
        continue;
      }
      EXPECT_EQ(doc.value(status, Json()), Json({{"dist", newest->release->name},
                                                 {"version", newest->release->version},
                                                 {"sha1", newest->release->sha1}}))
          << path << " " << status;
    }
    std::map<std::string, std::set<std::string>> versions;
    for (const Provided& p : rows) {
      Json entry{{"dist", p.release->name}, {"version", p.release->version}};
      if (p.release->status != "stable") entry["status"] = p.release->status;
      versions[p.ext_version].insert(entry.dump());
    }
    std::map<std::string, std::set<std::string>> served_versions;
    const Json served_list = doc.value("versions", Json::object());
    for (const auto& [ext_version, list] : served_list.items()) {
      for (const Json& entry : list) served_versions[ext_version].insert(entry.dump());
    }
    EXPECT_EQ(served_versions, versions) << path;
  }

  std::map<std::string, std::vector<std::pair<std::string, const Release*>>> tags;
  for (const auto& row : Rows("SELECT tag, dist_name, dist_version FROM distribution_tags", 3)) {
    tags[absl::AsciiStrToLower(row[0])].push_back({row[0], by_release.at({row[1], row[2]})});
  }
  for (auto& [key, rows] : tags) {
    const std::string path = absl::StrCat("tag/", key, ".json");
    want.insert(path);
    std::sort(rows.begin(), rows.end(),
              [](const auto& a, const auto& b) { return Newer(a.second, b.second); });
    const Json doc = Served(*origin_, path);
    ASSERT_TRUE(doc.is_object()) << path;
    EXPECT_EQ(doc.value("tag", ""), rows.front().first) << path;
    std::vector<const Release*> tagged;
    for (const auto& [tag, release] : rows) tagged.push_back(release);
    ExpectReleasesByDist(doc["releases"], tagged, path);
  }

  for (const auto& row : Rows("SELECT nickname, full_name, email FROM users", 3)) {
    const std::string path = absl::StrCat("user/", row[0], ".json");
    want.insert(path);
    const Json doc = Served(*origin_, path);
    ASSERT_TRUE(doc.is_object()) << path;
    EXPECT_EQ(doc.value("nickname", ""), row[0]);
    EXPECT_EQ(doc.value("name", ""), row[1]);
    EXPECT_EQ(doc.value("email", ""), row[2]);
    std::vector<const Release*> uploaded;
    for (const Release& r : releases) {
      if (r.creator == row[0]) uploaded.push_back(&r);
    }
    if (uploaded.empty()) {
      EXPECT_FALSE(doc.contains("releases")) << path;
    } else {
      ExpectReleasesByDist(doc["releases"], uploaded, path);
    }
  }

  // Nothing else of those kinds is served, and every release has its files.
  std::set<std::string> served_paths, all_paths;
  for (absl::string_view line :
       absl::StrSplit(origin_->Get("/_tree").body, '\n', absl::SkipEmpty())) {
    const std::string path(line.substr(line.find("  ") + 2));
    all_paths.insert(path);
    std::vector<absl::string_view> parts = absl::StrSplit(path, '/');
    if (parts.size() == 2 && (parts[0] == "dist" || parts[0] == "extension" || parts[0] == "tag" ||
                              parts[0] == "user")) {
      served_paths.insert(path);
    }
  }
  EXPECT_EQ(served_paths, want);
  size_t release_files = 0;
  for (const std::string& path : all_paths) {
    if (std::count(path.begin(), path.end(), '/') == 3) ++release_files;
  }
  size_t readmes = 0;
  for (const Release& r : releases) {
    const std::string dir = absl::StrCat("dist/", r.key(), "/", absl::AsciiStrToLower(r.version));
    EXPECT_EQ(all_paths.count(dir + "/META.json"), 1u) << dir;
    EXPECT_EQ(all_paths.count(
                  absl::StrCat(dir, "/", r.key(), "-", absl::AsciiStrToLower(r.version), ".zip")),
              1u)
        << dir;
    readmes += all_paths.count(dir + "/README.txt");
  }
  EXPECT_EQ(release_files, 2 * releases.size() + readmes) << "files of removed releases remain";

  const Json summary = Served(*origin_, "stats/summary.json");
  EXPECT_EQ(summary.value("dists", -1), static_cast<int>(dists.size()));
  EXPECT_EQ(summary.value("releases", -1), static_cast<int>(releases.size()));
  EXPECT_EQ(summary.value("extensions", -1), static_cast<int>(extensions.size()));
  EXPECT_EQ(summary.value("tags", -1), static_cast<int>(tags.size()));
  EXPECT_EQ(summary.value("users", -1), static_cast<int>(kUsers.size() + 1));

  // The mirror serves the same tree.
  ASSERT_TRUE(mirror_->WaitForSeq(origin_->AppliedSeq()));
  EXPECT_EQ(mirror_->Get("/_tree").body, origin_->Get("/_tree").body);
  for (const std::string& path : served_paths) {
    const std::string url_path = gateway::PercentEncodePath("/" + path);
    EXPECT_EQ(mirror_->Get(url_path).body, origin_->Get(url_path).body) << path;
  }

  // And the check works with the origin stopped too.
  conn_.reset();
  EXPECT_EQ(origin_->Stop(SIGTERM), 0);
  RunResult offline = RunProgram({PgxndPath(), "origin", "rebuild", "--data-dir", data_});
  EXPECT_EQ(offline.exit_code, 0) << offline.output;
}

}  // namespace
}  // namespace pgxn::testing
