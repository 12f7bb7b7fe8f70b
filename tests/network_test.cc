// The whole path through real processes: an origin on embedded Postgres, a
// mirror, a mirror of that mirror and an indexer, all on port 0 in a temp dir;
// releases uploaded with curl as pgxn-release does; every node's tree checked
// byte for byte against the origin's; the stock pgxn client (Debian's
// pgxnclient) against the mirrors and the indexer; a mirror killed with
// SIGKILL catching up after a restart.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/digest.h"
#include "base/temp_dir.h"
#include "gtest/gtest.h"
#include "tests/support/cluster.h"

namespace pgxn::testing {
namespace {

constexpr char kUser[] = "alice";
constexpr char kPassword[] = "correct horse battery";

std::string Encode(const std::string& path) {
  std::string out;
  for (char c : path) out += c == ' ' ? std::string("%20") : std::string(1, c);
  return out;
}

// True if `got` holds everything `want` does: the same scalars, arrays of the
// same length whose items hold `want`'s, objects with at least `want`'s keys.
bool Holds(const nlohmann::json& got, const nlohmann::json& want) {
  if (want.is_object()) {
    if (!got.is_object()) return false;
    for (const auto& [key, value] : want.items()) {
      if (!got.contains(key) || !Holds(got[key], value)) return false;
    }
    return true;
  }
  if (want.is_array()) {
    if (!got.is_array() || got.size() != want.size()) return false;
    for (size_t i = 0; i < want.size(); ++i) {
      if (!Holds(got[i], want[i])) return false;
    }
    return true;
  }
  return got == want;
}

// Every file of the origin's tree is served by `node` with the same bytes,
// but an indexer's enriched JSON (PGXN's API documents), which must hold
// everything the origin's file does.
void ExpectSameTree(const Node& origin, const Node& node, const std::string& name,
                    bool is_indexer) {
  std::map<std::string, std::string> expected = origin.Tree();
  ASSERT_FALSE(expected.empty());
  // The digest each node keeps of its tree is the one the origin signed.
  const nlohmann::json origin_status = origin.Status();
  EXPECT_EQ(node.Status()["tree_digest"], origin_status["tree_digest"]) << name;
  EXPECT_EQ(node.Status()["origin_key"], origin_status["origin_key"]) << name;
  EXPECT_EQ(origin.Get("/meta/origin.pub").body.substr(0, 8), "ed25519:");
  EXPECT_EQ(node.Tree(), expected) << name << " holds a different tree";
  for (const auto& [path, sha256] : expected) {
    HttpResult want = origin.Get("/" + Encode(path));
    HttpResult got = node.Get("/" + Encode(path));
    ASSERT_EQ(want.status, 200) << "origin /" << path;
    ASSERT_EQ(got.status, 200) << name << " /" << path;
    EXPECT_EQ(base::Sha256Hex(want.body), sha256) << "origin /" << path;
    if (is_indexer && absl::EndsWith(path, ".json") && !absl::StartsWith(path, "stats/") &&
        !absl::StartsWith(path, "meta/")) {
      EXPECT_TRUE(Holds(nlohmann::json::parse(got.body, nullptr, false),
                        nlohmann::json::parse(want.body, nullptr, false)))
          << name << " /" << path << " does not hold the origin's file:\n"
          << got.body << "\norigin's:\n"
          << want.body;
      continue;
    }
    EXPECT_EQ(got.body, want.body) << name << " /" << path;
    EXPECT_EQ(got.Header("content-type"), want.Header("content-type")) << name << " /" << path;
    EXPECT_EQ(got.Header("etag"), "\"" + sha256 + "\"") << name << " /" << path;
  }
}

class NetworkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    origin_ = Node::Start("origin", dir_.path() + "/origin", {"--unsafe-no-fsync"});
    ASSERT_NE(origin_, nullptr);
    ASSERT_TRUE(AddUser(dir_.path() + "/origin", kUser, kPassword));
    mirror1_ =
        Node::Start("mirror", dir_.path() + "/mirror1", {"--upstream", origin_->grpc_address()});
    ASSERT_NE(mirror1_, nullptr);
    mirror2_ =
        Node::Start("mirror", dir_.path() + "/mirror2", {"--upstream", mirror1_->grpc_address()});
    ASSERT_NE(mirror2_, nullptr);
    indexer_ =
        Node::Start("indexer", dir_.path() + "/indexer", {"--upstream", mirror2_->grpc_address()});
    ASSERT_NE(indexer_, nullptr);
  }

  void Upload(const nlohmann::json& meta, const std::vector<DistFile>& files) {
    const std::string filename = absl::StrCat(meta["name"].get<std::string>(), "-",
                                              meta["version"].get<std::string>(), ".zip");
    UploadResult result = UploadWithCurl(origin_->url(), kUser, kPassword, MakeDistZip(meta, files),
                                         filename, dir_.path());
    ASSERT_EQ(result.status, 200) << filename << ": " << result.body;
    EXPECT_EQ(result.body, "Success");
  }

  void WaitForAll() {
    const uint64_t head = origin_->AppliedSeq();
    for (const Node* node : {mirror1_.get(), mirror2_.get(), indexer_.get()}) {
      ASSERT_TRUE(node->WaitForSeq(head))
          << node->dir() << " stuck at " << node->AppliedSeq() << " of " << head << "\n"
          << node->Log();
    }
  }

  // Parses `feed` with Python's XML parser and checks what RFC 4287 requires
  // of a feed and its entries (id, title, updated, an author for each entry,
  // ids unique), and the number of entries.
  void ExpectValidAtom(const std::string& feed, size_t entries) {
    const std::string file = dir_.path() + "/feed.atom";
    {
      std::ofstream out(file, std::ios::binary);
      out << feed;
    }
    static constexpr char kCheck[] = R"(
import sys, xml.etree.ElementTree as ET
A = '{http://www.w3.org/2005/Atom}'
feed = ET.parse(sys.argv[1]).getroot()
assert feed.tag == A + 'feed', feed.tag
for name in ('id', 'title', 'updated'):
    assert feed.find(A + name) is not None and feed.find(A + name).text, 'feed has no ' + name
ids = set()
entries = feed.findall(A + 'entry')
for entry in entries:
    for name in ('id', 'title', 'updated'):
        assert entry.find(A + name) is not None and entry.find(A + name).text, 'entry has no ' + name
    assert entry.find(A + 'author/' + A + 'name') is not None, 'entry has no author'
    assert entry.find(A + 'id').text not in ids, 'duplicate id'
    ids.add(entry.find(A + 'id').text)
print(len(entries))
)";
    RunResult check = RunProgram({"python3", "-c", kCheck, file});
    EXPECT_EQ(check.exit_code, 0) << check.output << "\n" << feed;
    EXPECT_EQ(check.output, absl::StrCat(entries, "\n")) << feed;
  }

  // A loopback port nothing listens on: one the kernel just gave and took back.
  static int ClosedPort() {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof(address);
    EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    EXPECT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size), 0);
    close(fd);
    return ntohs(address.sin_port);
  }

  RunResult Pgxn(std::vector<std::string> args, const Node& node) {
    // The client takes --mirror after the subcommand.
    args.insert(args.begin() + 1, {"--mirror", node.url() + "/"});
    args.insert(args.begin(), "pgxn");
    return RunProgram(args);
  }

  base::TempDir dir_;
  std::unique_ptr<Node> origin_, mirror1_, mirror2_, indexer_;
};

TEST_F(NetworkTest, ReleasesReachEveryNodeAndThePgxnClient) {
  Upload(MakeMeta("pair", "0.1.0", "A key/value pair data type"),
         {{"README.md", "pair\n====\nA key/value pair type for PostgreSQL.\n"},
          {"sql/pair.sql", "CREATE TYPE pair;\n"}});
  nlohmann::json widget = MakeMeta("widget", "1.0.0", "Widgets for your database");
  widget["tags"] = {"gadget", "key value"};
  widget["description"] = "Frobnicates widgets in PostgreSQL";
  Upload(widget, {{"README", "Widgets everywhere.\n"}, {"sql/widget.sql", "SELECT 1;\n"}});
  Upload(MakeMeta("pair", "0.1.1", "A key/value pair data type"),
         {{"sql/pair.sql", "CREATE TYPE pair; -- v2\n"}});
  WaitForAll();

  ExpectSameTree(*origin_, *mirror1_, "mirror1", false);
  ExpectSameTree(*origin_, *mirror2_, "mirror2", false);
  ExpectSameTree(*origin_, *indexer_, "indexer", true);

  auto status = mirror2_->Status();
  EXPECT_EQ(status["role"], "mirror");
  EXPECT_EQ(status["epoch"], origin_->Status()["epoch"]);
  EXPECT_EQ(status["lag_events"], 0);
  EXPECT_EQ(status["upstream"], mirror1_->grpc_address());
  HttpResult metrics = mirror2_->Get("/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_TRUE(absl::StrContains(metrics.body, "pgxn_events_applied_total{role=\"mirror\"}"))
      << metrics.body;
  EXPECT_TRUE(absl::StrContains(
      metrics.body, absl::StrCat("pgxn_applied_seq{role=\"mirror\"} ", origin_->AppliedSeq())))
      << metrics.body;
  EXPECT_TRUE(
      absl::StrContains(mirror1_->Get("/metrics").body, "pgxn_feed_streams{role=\"mirror\"} 1"))
      << "mirror2 follows mirror1";

  for (const Node* node : {mirror1_.get(), mirror2_.get(), indexer_.get()}) {
    RunResult info = Pgxn({"info", "pair"}, *node);
    EXPECT_EQ(info.exit_code, 0) << info.output;
    EXPECT_TRUE(absl::StrContains(info.output, "version: 0.1.1")) << info.output;
    RunResult versions = Pgxn({"info", "--versions", "pair"}, *node);
    EXPECT_EQ(versions.exit_code, 0) << versions.output;
    EXPECT_TRUE(absl::StrContains(versions.output, "pair 0.1.1 stable")) << versions.output;
    EXPECT_TRUE(absl::StrContains(versions.output, "pair 0.1.0 stable")) << versions.output;
    const std::string target = dir_.path() + "/download-" + std::to_string(node->http_port());
    std::filesystem::create_directories(target);
    RunResult download = Pgxn({"download", "--target", target, "widget"}, *node);
    EXPECT_EQ(download.exit_code, 0) << download.output;
    EXPECT_TRUE(std::filesystem::exists(target + "/widget-1.0.0.zip")) << download.output;
  }

  RunResult search = Pgxn({"search", "--dist", "widgets"}, *indexer_);
  EXPECT_EQ(search.exit_code, 0) << search.output;
  EXPECT_TRUE(absl::StrContains(search.output, "widget 1.0.0")) << search.output;
  RunResult by_extension = Pgxn({"search", "--ext", "pair"}, *indexer_);
  EXPECT_EQ(by_extension.exit_code, 0) << by_extension.output;
  EXPECT_TRUE(absl::StrContains(by_extension.output, "pair 0.1.1")) << by_extension.output;
  HttpResult index = indexer_->Get("/index.json");
  EXPECT_TRUE(absl::StrContains(index.body, "\"search\"")) << index.body;

  // The Atom feed of recent releases: the same on every node, newest first.
  const HttpResult atom = origin_->Get("/feeds/recent.atom");
  EXPECT_EQ(atom.status, 200);
  const size_t newest = atom.body.find("<title>pair 0.1.1</title>");
  EXPECT_NE(newest, std::string::npos) << atom.body;
  EXPECT_LT(newest, atom.body.find("<title>widget 1.0.0</title>")) << atom.body;
  EXPECT_LT(atom.body.find("<title>widget 1.0.0</title>"), atom.body.find("<title>pair 0.1.0"))
      << atom.body;
  EXPECT_TRUE(absl::StrContains(atom.body, "<summary>Widgets for your database</summary>"))
      << atom.body;
  for (const Node* node : {mirror1_.get(), mirror2_.get(), indexer_.get()}) {
    const HttpResult copy = node->Get("/feeds/recent.atom");
    EXPECT_EQ(copy.status, 200);
    EXPECT_EQ(copy.body, atom.body) << node->http_port();
  }

  // Per-topic feeds: valid Atom, the same on every node, an entry as in the
  // recent feed.
  // (The three releases may share a second, PGXN's dates' grain, so only a
  // dist's own versions have a known order.)
  const struct {
    std::string path;
    size_t entries;
    std::vector<std::string> titles;  // in this order
  } kTopics[] = {
      {"/feeds/dist/pair.atom", 2, {"pair 0.1.1", "pair 0.1.0"}},
      {absl::StrCat("/feeds/user/", kUser, ".atom"), 3, {"pair 0.1.1", "pair 0.1.0"}},
      {"/feeds/tag/key%20value.atom", 1, {"widget 1.0.0"}},
  };
  for (const auto& topic : kTopics) {
    const HttpResult feed = origin_->Get(topic.path);
    ASSERT_EQ(feed.status, 200) << topic.path << ": " << feed.body;
    ExpectValidAtom(feed.body, topic.entries);
    size_t at = 0;
    for (const std::string& title : topic.titles) {
      const size_t found = feed.body.find(absl::StrCat("<title>", title, "</title>"));
      EXPECT_NE(found, std::string::npos) << title << "\n" << feed.body;
      EXPECT_GT(found, at) << title << " in order\n" << feed.body;
      at = found;
    }
    const size_t entry = feed.body.find("  <entry>");
    ASSERT_NE(entry, std::string::npos);
    const std::string first = feed.body.substr(entry, feed.body.find("</entry>") + 9 - entry);
    EXPECT_TRUE(absl::StrContains(atom.body, first)) << first << "\n" << atom.body;
    for (const Node* node : {mirror1_.get(), mirror2_.get(), indexer_.get()}) {
      EXPECT_EQ(node->Get(topic.path).body, feed.body) << topic.path << " on " << node->http_port();
    }
  }
  EXPECT_EQ(mirror1_->Get("/feeds/tag/nothing.atom").status, 404);

  // The feed as a subscriber sees it. The nodes started on a log that already
  // held the origin's first events, so they bootstrapped from a snapshot and
  // serve events from there on; the origin serves them all.
  RunResult early =
      RunProgram({PgxndPath(), "tail", "--upstream", indexer_->grpc_address(), "--since", "0"});
  EXPECT_EQ(early.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(early.output, "bootstrap from a snapshot")) << early.output;
  absl::StatusOr<std::vector<nlohmann::json>> tailed = TailEvents(*origin_, 0);
  ASSERT_TRUE(tailed.ok()) << tailed.status();
  const std::vector<nlohmann::json>& events = *tailed;
  ASSERT_EQ(events.size(), origin_->AppliedSeq());
  for (size_t i = 0; i < events.size(); ++i) EXPECT_EQ(events[i]["seq"], i + 1);
  const nlohmann::json& last = events.back();
  EXPECT_EQ(last["kind"], "release");
  EXPECT_EQ(last["dist"], "pair");
  EXPECT_EQ(last["version"], "0.1.1");
  EXPECT_EQ(last["user"], kUser);
  EXPECT_TRUE(absl::EndsWith(last["time"].get<std::string>(), "Z")) << last;
  std::vector<std::string> paths = last["paths"];
  EXPECT_NE(std::find(paths.begin(), paths.end(), "dist/pair/0.1.1/pair-0.1.1.zip"), paths.end());
  EXPECT_NE(std::find(paths.begin(), paths.end(), "dist/pair.json"), paths.end());
  RunResult since = RunProgram({PgxndPath(), "tail", "--upstream", indexer_->grpc_address(),
                                "--since", std::to_string(events.size() - 1)});
  EXPECT_EQ(std::count(since.output.begin(), since.output.end(), '\n'), 1) << since.output;

  // Filters: every event is still checked, only those asked for are printed.
  const std::vector<std::string> tail = {PgxndPath(), "tail", "--upstream",
                                         origin_->grpc_address()};
  auto with = [&tail](std::vector<std::string> more) {
    std::vector<std::string> argv = tail;
    argv.insert(argv.end(), more.begin(), more.end());
    return RunProgram(argv);
  };
  RunResult tagged = with({"--kind", "release", "--tag", "Key Value", "--format", "text"});
  EXPECT_EQ(tagged.exit_code, 0) << tagged.output;
  const std::vector<std::string> tagged_lines =
      absl::StrSplit(absl::StripSuffix(tagged.output, "\n"), '\n');
  ASSERT_EQ(tagged_lines.size(), 1u) << tagged.output;
  EXPECT_TRUE(absl::StrContains(tagged_lines[0], " release widget 1.0.0 by alice at "))
      << tagged.output;
  RunResult pairs = with({"--dist", "PAIR", "--dist", "nothing", "--user", kUser});
  EXPECT_EQ(pairs.exit_code, 0) << pairs.output;
  size_t pair_events = 0;
  for (absl::string_view line : absl::StrSplit(pairs.output, '\n', absl::SkipEmpty())) {
    const nlohmann::json event = nlohmann::json::parse(line, nullptr, false);
    EXPECT_EQ(event.value("dist", ""), "pair") << line;
    ++pair_events;
  }
  EXPECT_EQ(pair_events, 2u) << pairs.output;
  RunResult none = with({"--kind", "release", "--user", "nobody"});
  EXPECT_EQ(none.exit_code, 0) << none.output;
  EXPECT_EQ(none.output, "");
  RunResult bad_kind = with({"--kind", "releases"});
  EXPECT_EQ(bad_kind.exit_code, 2) << bad_kind.output;
  EXPECT_TRUE(absl::StrContains(bad_kind.output, "unknown event kind \"releases\""))
      << bad_kind.output;

  // A key the events do not verify against, and a node that is not there:
  // exit 1 with the reason.
  const std::string key_file = dir_.path() + "/other.pub";
  {
    std::ofstream out(key_file);
    out << "ed25519:" << std::string(64, '1') << "\n";
  }
  RunResult wrong_key = with({"--origin-key", key_file});
  EXPECT_EQ(wrong_key.exit_code, 1) << wrong_key.output;
  // (A heartbeat or an event, whichever comes first, is refused as unsigned.)
  EXPECT_TRUE(absl::StrContains(wrong_key.output, "sign")) << wrong_key.output;
  const std::string nowhere = absl::StrCat("127.0.0.1:", ClosedPort());
  RunResult unreachable = RunProgram({PgxndPath(), "tail", "--upstream", nowhere});
  EXPECT_EQ(unreachable.exit_code, 1) << unreachable.output;
  EXPECT_TRUE(absl::StrContains(unreachable.output, nowhere)) << unreachable.output;
}

TEST_F(NetworkTest, MirrorKilledMidStreamCatchesUpAfterRestart) {
  Upload(MakeMeta("pair", "0.1.0", "A key/value pair data type"), {});
  WaitForAll();
  // The middle mirror dies without warning; a release goes out meanwhile.
  EXPECT_EQ(mirror1_->Stop(SIGKILL), 128 + SIGKILL);
  Upload(MakeMeta("pair", "0.2.0", "A key/value pair data type"), {});
  Upload(MakeMeta("other", "1.0.0", "Something else"), {});
  ASSERT_TRUE(mirror1_->Restart()) << mirror1_->Log();
  WaitForAll();
  ExpectSameTree(*origin_, *mirror1_, "mirror1", false);
  ExpectSameTree(*origin_, *mirror2_, "mirror2", false);
  ExpectSameTree(*origin_, *indexer_, "indexer", true);
  RunResult info = Pgxn({"info", "pair"}, *mirror2_);
  EXPECT_TRUE(absl::StrContains(info.output, "version: 0.2.0")) << info.output;
}

}  // namespace
}  // namespace pgxn::testing
