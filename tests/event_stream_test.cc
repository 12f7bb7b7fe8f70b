// GET /feed (Server-Sent Events) on real nodes: an origin and a mirror, real
// uploads, clients on plain sockets (tests/support/sse_client.h) reading as
// EventSource does.
#include <poll.h>
#include <sys/resource.h>

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/strings/ascii.h"
#include "base/digest.h"
#include "base/fd_limit.h"
#include "base/temp_dir.h"
#include "gtest/gtest.h"
#include "tests/support/cluster.h"
#include "tests/support/sse_client.h"
#include "tests/support/wait.h"

namespace pgxn::testing {
namespace {

constexpr char kUser[] = "theory";
constexpr char kPassword[] = "correct horse battery";

class EventStreamTest : public ::testing::Test {
 protected:
  void StartNodes(std::vector<std::string> mirror_flags = {}) {
    origin_ = Node::Start("origin", dir_.path() + "/origin", {"--unsafe-no-fsync"});
    ASSERT_NE(origin_, nullptr);
    ASSERT_TRUE(AddUser(dir_.path() + "/origin", kUser, kPassword));
    mirror_flags.insert(mirror_flags.begin(), {"--upstream", origin_->grpc_address()});
    mirror_ = Node::Start("mirror", dir_.path() + "/mirror", mirror_flags);
    ASSERT_NE(mirror_, nullptr);
  }

  void Upload(const std::string& name, const std::string& version,
              const std::string& abstract = "A test distribution") {
    UploadResult result =
        UploadZip(origin_->url(), kUser, kPassword,
                  MakeDistZip(MakeMeta(name, version, abstract), {{"README", "Read me.\n"}}),
                  absl::StrCat(name, "-", version, ".zip"));
    ASSERT_EQ(result.status, 200) << result.body;
  }

  // The next message of `client` that is an event (not a resume), parsed.
  static nlohmann::json NextEvent(SseClient& client, SseMessage* raw = nullptr) {
    absl::optional<SseMessage> message = client.Next();
    if (!message.has_value()) {
      ADD_FAILURE() << (client.ended() ? "the stream ended" : "no event in time");
      return nullptr;
    }
    if (raw != nullptr) *raw = *message;
    return nlohmann::json::parse(message->data, nullptr, false);
  }

  static std::unique_ptr<SseClient> Open(const Node& node, const std::string& target,
                                         const std::vector<std::string>& headers = {},
                                         int receive_buffer = 0) {
    auto client = SseClient::Open(node.http_port(), target, headers, receive_buffer);
    EXPECT_TRUE(client.ok()) << client.status();
    if (!client.ok()) return nullptr;
    EXPECT_EQ((*client)->status(), 200) << (*client)->header();
    return *std::move(client);
  }

  base::TempDir dir_;
  std::unique_ptr<Node> origin_, mirror_;
};

TEST_F(EventStreamTest, AClientThatResumesGetsEveryLaterEventOnceAndInOrder) {
  ASSERT_NO_FATAL_FAILURE(StartNodes());
  Upload("pair", "0.1.0", "A key/value pair data type");
  Upload("widget", "1.0.0");
  ASSERT_TRUE(mirror_->WaitForSeq(origin_->AppliedSeq()));
  // The mirror bootstrapped from a snapshot when it started: its log holds
  // the events after that one, and says so.
  const uint64_t log_start = mirror_->Status()["log_start"];
  ASSERT_GT(log_start, 0u);
  auto too_early = SseClient::Open(mirror_->http_port(), "/feed?since=0");
  ASSERT_TRUE(too_early.ok()) << too_early.status();
  EXPECT_EQ((*too_early)->status(), 410) << (*too_early)->header();
  const std::string since = absl::StrCat("/feed?since=", log_start, "&kind=release");

  std::string last_id;
  {
    auto client = Open(*mirror_, since);
    ASSERT_NE(client, nullptr);
    EXPECT_TRUE(absl::StrContains(client->header(), "Access-Control-Allow-Origin: *"));
    SseMessage raw;
    nlohmann::json pair = NextEvent(*client, &raw);
    EXPECT_EQ(raw.event, "release");
    EXPECT_EQ(raw.id, absl::StrCat(pair["seq"].get<uint64_t>()));
    EXPECT_EQ(pair["dist"], "pair");
    EXPECT_EQ(pair["version"], "0.1.0");
    EXPECT_EQ(pair["user"], kUser);
    EXPECT_EQ(pair["abstract"], "A key/value pair data type");
    // The URLs are the mirror's, and serve what the event says.
    const std::string zip_url = pair["zip_url"];
    EXPECT_EQ(zip_url, mirror_->url() + "/dist/pair/0.1.0/pair-0.1.0.zip");
    HttpResult zip = HttpGet(zip_url);
    ASSERT_EQ(zip.status, 200);
    bool listed = false;
    for (const auto& file : pair["files"]) {
      if (file["path"] != "/dist/pair/0.1.0/pair-0.1.0.zip") continue;
      listed = true;
      EXPECT_EQ(file["sha256"], base::HexEncode(base::Sha256(zip.body)));
      EXPECT_EQ(file["size"], zip.body.size());
    }
    EXPECT_TRUE(listed) << pair.dump();
    EXPECT_EQ(HttpGet(pair["meta_url"]).status, 200);

    // The origin tells the same, but for its own URLs.
    auto at_origin = Open(*origin_, "/feed?since=0&kind=release");
    ASSERT_NE(at_origin, nullptr);
    nlohmann::json same = NextEvent(*at_origin);
    for (const char* url : {"meta_url", "zip_url"}) {
      EXPECT_TRUE(absl::StartsWith(same[url].get<std::string>(), origin_->url())) << same[url];
      same.erase(url);
      pair.erase(url);
    }
    EXPECT_EQ(same, pair);

    NextEvent(*client, &raw);  // widget
    last_id = raw.id;
  }
  // Gone for three releases.
  Upload("pair", "0.1.1");
  Upload("other", "2.0.0");
  Upload("pair", "0.2.0");
  ASSERT_TRUE(mirror_->WaitForSeq(origin_->AppliedSeq()));
  auto client = Open(*mirror_, since, {"Last-Event-ID: " + last_id});
  ASSERT_NE(client, nullptr);
  std::vector<std::string> got;
  for (int i = 0; i < 3; ++i) {
    nlohmann::json event = NextEvent(*client);
    got.push_back(absl::StrCat(event["dist"].get<std::string>(), "-",
                               event["version"].get<std::string>()));
  }
  EXPECT_EQ(got, (std::vector<std::string>{"pair-0.1.1", "other-2.0.0", "pair-0.2.0"}));
  // Then live, with a filter applied on the way.
  auto pairs_only = Open(*mirror_, "/feed?dist=pair");
  ASSERT_NE(pairs_only, nullptr);
  Upload("widget", "1.0.1");
  Upload("pair", "0.2.1");
  EXPECT_EQ(NextEvent(*client)["version"], "1.0.1");
  EXPECT_EQ(NextEvent(*client)["version"], "0.2.1");
  EXPECT_EQ(NextEvent(*pairs_only)["version"], "0.2.1");
}

TEST_F(EventStreamTest, AClientThatStopsReadingIsToldWhereToResumeAndLosesNothing) {
  ASSERT_NO_FATAL_FAILURE(StartNodes({"--sse-max-lag", "20"}));
  // Connected and caught up, then it reads nothing: its 4 KB receive buffer
  // and the mirror's 64 KiB send buffer fill within about a hundred events.
  auto client = Open(*mirror_, "/feed?kind=release", {}, 4096);
  ASSERT_NE(client, nullptr);
  const uint64_t start = origin_->AppliedSeq();
  // About 130 release events fill the buffers; 200 leave a margin past
  // --sse-max-lag. (Once they are full, the mirror's blocked write must be
  // taken within its 30 s write timeout, or the connection closes without
  // the resume event: the rest of the uploads must fit in that.)
  ASSERT_TRUE(PublishReleases(origin_->url(), kUser, kPassword, "slow", 0, 200, 4).ok());
  const uint64_t head = origin_->AppliedSeq();
  ASSERT_TRUE(mirror_->WaitForSeq(head));

  std::vector<uint64_t> seqs;
  std::string resume_after;
  while (absl::optional<SseMessage> message = client->Next()) {
    if (message->event == "resume") {
      nlohmann::json resume = nlohmann::json::parse(message->data);
      resume_after = absl::StrCat(resume["after"].get<uint64_t>());
      break;
    }
    seqs.push_back(std::stoull(message->id));
  }
  ASSERT_FALSE(resume_after.empty()) << "no resume event after " << seqs.size() << " events; "
                                     << (client->ended() ? "the stream ended" : "none came")
                                     << "\n" << mirror_->Log();
  EXPECT_FALSE(client->Next(absl::Seconds(30)).has_value());
  EXPECT_TRUE(client->ended()) << "the stream goes on after the resume event";
  ASSERT_FALSE(seqs.empty());
  // `after` is the cursor: the last release sent, or a later event the
  // filter passed over (a stats event).
  EXPECT_GE(std::stoull(resume_after), seqs.back());
  EXPECT_LT(seqs.back(), head) << "it was cut off before the end";
  HttpResult metrics = mirror_->Get("/metrics");
  EXPECT_TRUE(absl::StrContains(metrics.body, "pgxn_sse_cutoffs_total{role=\"mirror\"} 1"))
      << metrics.body;

  // Resuming where it was told: the rest, once each.
  auto again = Open(*mirror_, "/feed?kind=release", {"Last-Event-ID: " + resume_after});
  ASSERT_NE(again, nullptr);
  while (seqs.size() < 200) {
    absl::optional<SseMessage> message = again->Next();
    ASSERT_TRUE(message.has_value()) << "after " << seqs.size() << " events";
    seqs.push_back(std::stoull(message->id));
  }
  for (size_t i = 1; i < seqs.size(); ++i) ASSERT_LT(seqs[i - 1], seqs[i]) << i;
  EXPECT_GT(seqs.front(), start);
  EXPECT_LE(seqs.back(), head);
}

// Thread count of a process, from /proc.
int Threads(pid_t pid) {
  std::string status = ReadWholeFile(absl::StrCat("/proc/", pid, "/status"));
  for (absl::string_view line : absl::StrSplit(status, '\n')) {
    int threads = 0;
    if (absl::ConsumePrefix(&line, "Threads:") &&
        absl::SimpleAtoi(absl::StripAsciiWhitespace(line), &threads)) {
      return threads;
    }
  }
  return -1;
}

TEST_F(EventStreamTest, TwoThousandIdleClientsEachReceiveEveryEvent) {
  constexpr int kClients = 2000;
  constexpr int kReleases = 100;
  // This process holds the clients' sockets, the mirror their other ends.
  absl::StatusOr<base::FdLimit> fds = base::RaiseOpenFileLimit();
  ASSERT_TRUE(fds.ok()) << fds.status();
  if (fds->soft < kClients + 512) {
    GTEST_SKIP() << "this machine's open-file hard limit is " << fds->hard << "; " << kClients
                 << " clients need about " << kClients + 512
                 << " descriptors in the test and in the mirror";
  }
  ASSERT_NO_FATAL_FAILURE(StartNodes(
      {"--max-connections-per-address", "5000", "--sse-max-clients-per-address", "5000"}));
  const int threads_before = Threads(mirror_->pid());
  std::vector<std::unique_ptr<SseClient>> clients;
  for (int i = 0; i < kClients; ++i) {
    auto client = Open(*mirror_, "/feed?kind=release");
    ASSERT_NE(client, nullptr) << "client " << i;
    clients.push_back(std::move(client));
  }
  HttpResult metrics = mirror_->Get("/metrics");
  EXPECT_TRUE(absl::StrContains(metrics.body,
                                absl::StrCat("pgxn_sse_clients{role=\"mirror\"} ", kClients)))
      << metrics.body;
  // Idle clients cost no thread each.
  EXPECT_LT(Threads(mirror_->pid()), threads_before + 8) << "threads before: " << threads_before;

  absl::Status published;
  std::thread publisher([&] {
    published = PublishReleases(origin_->url(), kUser, kPassword, "swarm", 0, kReleases, 2);
  });
  std::vector<std::vector<uint64_t>> seqs(kClients);
  std::vector<pollfd> polled(kClients);
  for (int i = 0; i < kClients; ++i) polled[i] = pollfd{clients[i]->fd(), POLLIN, 0};
  int complete = 0;
  const bool all = WaitUntil(
      [&] {
        if (poll(polled.data(), polled.size(), 100) <= 0) return complete == kClients;
        for (int i = 0; i < kClients; ++i) {
          if ((polled[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
          if (!clients[i]->ReadAvailable()) polled[i].fd = -1;  // ended: poll it no more
          for (SseMessage& message : clients[i]->messages()) {
            seqs[i].push_back(std::stoull(message.id));
            if (seqs[i].size() == kReleases) ++complete;
          }
          clients[i]->messages().clear();
        }
        return complete == kClients;
      },
      absl::Minutes(5), absl::ZeroDuration());
  publisher.join();
  ASSERT_TRUE(published.ok()) << published;
  EXPECT_TRUE(all) << complete << " of " << kClients << " clients got all " << kReleases
                   << " releases";
  for (int i = 0; i < kClients; ++i) {
    ASSERT_EQ(seqs[i].size(), static_cast<size_t>(kReleases)) << "client " << i;
    ASSERT_EQ(seqs[i], seqs[0]) << "client " << i << " saw another sequence";
  }
  for (size_t i = 1; i < seqs[0].size(); ++i) ASSERT_LT(seqs[0][i - 1], seqs[0][i]);
  EXPECT_LT(Threads(mirror_->pid()), threads_before + 8);
}

}  // namespace
}  // namespace pgxn::testing
