// Replication that survives crashes and faults (issue 4), through real
// processes: an origin on embedded Postgres and mirrors, all on port 0 in temp
// dirs.
//  - A mirror replaying a log of 2,000+ events is SIGKILLed at random moments
//    (a seeded PRNG, a new seed each run; the seed is printed, PGXN_TEST_SEED
//    replays one) at least 30 times while it catches up; it ends with the
//    origin's tree, digest and head, and its log holds every seq once.
//  - Network faults through tests/support/tcp_proxy.h: connections dropped
//    while events flow (once in the middle of a large event), a stall past the
//    staleness window, a delay on every chunk; the mirror reports stale,
//    resumes and converges with no gap.
//  - The origin process restarted (SIGTERM and SIGKILL), and its Postgres
//    restarted alone, under a subscribed mirror: nothing is lost.
//  - A fresh mirror bootstraps from a snapshot served by another mirror.
//  - A mirror pinned to another origin key refuses the origin's events; pinned
//    to the key the origin serves, it replicates.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "base/temp_dir.h"
#include "base/test_seed.h"
#include "feed/signing.h"
#include "gtest/gtest.h"
#include "tests/support/cluster.h"
#include "tests/support/tcp_proxy.h"
#include "tests/support/wait.h"

namespace pgxn::testing {
namespace {

constexpr char kUser[] = "alice";
constexpr char kPassword[] = "correct horse battery";

// A field of a node's /_status (null when the node does not answer).
nlohmann::json StatusField(const Node& node, const std::string& field) {
  nlohmann::json status = node.Status();
  return status.is_object() && status.contains(field) ? status[field] : nlohmann::json();
}

// `count` profile updates of `user` (each a `user` event: the account's
// published JSON changes), numbered from `first`, over `threads` connections.
absl::Status UpdateProfiles(const std::string& origin_url, const std::string& user,
                            const std::string& password, int first, int count, int threads) {
  std::atomic<int> next{first};
  absl::Mutex mu;
  absl::Status failure;
  auto work = [&] {
    for (int i = next++; i < first + count; i = next++) {
      HttpResult result =
          HttpPost(origin_url + "/account", absl::StrCat("full_name=Alice+", i),
                   {BasicAuthHeader(user, password),
                    "Content-Type: application/x-www-form-urlencoded", "Accept: application/json"});
      if (result.status != 200) {
        absl::MutexLock lock(&mu);
        failure.Update(absl::UnknownError(absl::StrCat("Profile update ", i, ": ", result.status,
                                                       " ", result.body, result.error)));
        return;
      }
    }
  };
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) workers.emplace_back(work);
  for (std::thread& worker : workers) worker.join();
  return failure;
}

// A release whose archive holds `bytes` of incompressible data, so that its
// event spans many network chunks.
UploadResult UploadLargeRelease(const Node& origin, const std::string& name, size_t bytes) {
  std::mt19937_64 random(bytes);
  std::string noise(bytes, '\0');
  for (char& c : noise) c = static_cast<char>(random());
  const std::string zip = MakeDistZip(MakeMeta(name, "1.0.0", "A large release"),
                                      {{"data/noise.bin", noise}, {"README.md", "Large.\n"}});
  return UploadZip(origin.url(), kUser, kPassword, zip, name + "-1.0.0.zip");
}

// Runs a publishing job on its own thread while the test breaks things.
class Publisher {
 public:
  explicit Publisher(std::function<absl::Status()> job)
      : thread_([this, job = std::move(job)] {
          absl::Status status = job();
          absl::MutexLock lock(&mu_);
          status_ = status;
          done_ = true;
        }) {}
  ~Publisher() {
    if (thread_.joinable()) thread_.join();
  }
  bool done() const {
    absl::MutexLock lock(&mu_);
    return done_;
  }
  absl::Status Join() {
    thread_.join();
    absl::MutexLock lock(&mu_);
    return status_;
  }

 private:
  mutable absl::Mutex mu_;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status status_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

class ReplicationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Quiet streams carry a heartbeat every 200 ms, so a mirror with a short
    // --stale-after can tell a quiet origin from a stalled network.
    origin_ = Node::Start("origin", dir_.path() + "/origin",
                          {"--unsafe-no-fsync", "--heartbeat", "200ms"});
    ASSERT_NE(origin_, nullptr);
    ASSERT_TRUE(AddUser(dir_.path() + "/origin", kUser, kPassword));
  }

  std::unique_ptr<Node> StartMirror(const std::string& name, const std::string& upstream,
                                    std::vector<std::string> extra = {}) {
    extra.insert(extra.begin(), {"--upstream", upstream});
    std::unique_ptr<Node> node = Node::Start("mirror", dir_.path() + "/" + name, extra);
    EXPECT_NE(node, nullptr) << name << " did not start";
    return node;
  }

  void Publish(const std::string& prefix, int first, int count, int threads = 2) {
    absl::Status s =
        PublishReleases(origin_->url(), kUser, kPassword, prefix, first, count, threads);
    ASSERT_TRUE(s.ok()) << s;
  }

  // The mirror reaches the origin's head and then holds exactly what the
  // origin holds: the same head, digest and tree, and a log with every seq
  // after its start once, in order.
  void ExpectConverged(const Node& mirror, const std::string& name) {
    const uint64_t head = origin_->AppliedSeq();
    ASSERT_GT(head, 0u);
    ASSERT_TRUE(mirror.WaitForSeq(head)) << name << " stuck at " << mirror.AppliedSeq() << " of "
                                         << head << "; /_status " << mirror.Status().dump() << "\n"
                                         << mirror.Log();
    const nlohmann::json want = origin_->Status();
    const nlohmann::json got = mirror.Status();
    EXPECT_EQ(got["applied_seq"], want["applied_seq"]) << name;
    EXPECT_EQ(got["epoch"], want["epoch"]) << name;
    EXPECT_EQ(got["tree_digest"], want["tree_digest"]) << name;
    EXPECT_EQ(got["origin_key"], want["origin_key"]) << name;
    EXPECT_EQ(got["lag_events"], 0) << name;
    EXPECT_EQ(mirror.Tree(), origin_->Tree()) << name << " holds another tree than the origin";
    const uint64_t log_start = got.value("log_start", uint64_t{0});
    absl::StatusOr<std::vector<nlohmann::json>> events = TailEvents(mirror, log_start);
    ASSERT_TRUE(events.ok()) << name << ": " << events.status();
    std::vector<uint64_t> seqs, expected;
    for (const nlohmann::json& event : *events) seqs.push_back(event.value("seq", uint64_t{0}));
    for (uint64_t seq = log_start + 1; seq <= head; ++seq) expected.push_back(seq);
    EXPECT_EQ(seqs, expected) << name << ": pgxnd tail --since " << log_start;
  }

  base::TempDir dir_;
  std::unique_ptr<Node> origin_;
};

// ---------------------------------------------------------------------------
// Crash consistency.

TEST_F(ReplicationTest, MirrorKilledAtRandomWhileCatchingUpEndsWithTheOriginsTree) {
  constexpr uint64_t kMinEvents = 2000;
  constexpr int kMinKills = 30;
  // Releases grow the tree (archives, META, READMEs, extension and tag
  // documents); profile updates are quicker events that rewrite files.
  const absl::Time publishing = absl::Now();
  Publish("crash", 0, 300, 4);
  const uint64_t after_releases = origin_->AppliedSeq();
  ASSERT_GT(after_releases, 300u);
  if (after_releases < kMinEvents) {
    absl::Status s = UpdateProfiles(origin_->url(), kUser, kPassword, 0,
                                    static_cast<int>(kMinEvents - after_releases), 4);
    ASSERT_TRUE(s.ok()) << s;
  }
  uint64_t head = origin_->AppliedSeq();
  ASSERT_GE(head, kMinEvents);
  std::printf("Published %llu events in %s\n", static_cast<unsigned long long>(head),
              absl::FormatDuration(absl::Now() - publishing).c_str());

  // The kill schedule: a new one each run, unless PGXN_TEST_SEED replays one.
  std::mt19937_64 random(base::TestSeed(std::random_device()()));

  // --replay-log: an empty mirror would otherwise bootstrap from a snapshot
  // and have nothing to catch up on.
  const absl::Time catching_up = absl::Now();
  std::unique_ptr<Node> mirror = StartMirror("mirror", origin_->grpc_address(), {"--replay-log"});
  ASSERT_NE(mirror, nullptr);
  // Each life of the mirror lasts a random time after it is up, at most
  // `longest`; `longest` adapts so that the catch-up spreads over the kills
  // still wanted (the apply rate depends on the machine).
  absl::Duration longest = absl::Milliseconds(20);
  int kills = 0;
  uint64_t previous = 0;
  std::vector<uint64_t> seen_at_kills;
  int top_ups = 0;
  while (kills < kMinKills) {
    const absl::Duration life = longest * std::uniform_real_distribution<double>(0, 1)(random);
    absl::SleepFor(life);
    const uint64_t seen = mirror->AppliedSeq();
    ASSERT_EQ(mirror->Stop(SIGKILL), 128 + SIGKILL)
        << "the mirror exited on its own before the kill\n"
        << mirror->Log();
    if (seen >= head) {
      // Caught up before enough kills (a fast machine): while it is down,
      // give it more to catch up on, and let its lives be shorter.
      ASSERT_LT(++top_ups, 5) << "the mirror keeps catching up between kills";
      const uint64_t more = 50 * static_cast<uint64_t>(kMinKills - kills);
      absl::Status s = UpdateProfiles(origin_->url(), kUser, kPassword, static_cast<int>(head),
                                      static_cast<int>(more), 4);
      ASSERT_TRUE(s.ok()) << s;
      head = origin_->AppliedSeq();
      longest = std::max(longest / 2, absl::Milliseconds(1));
    } else {
      ++kills;
      seen_at_kills.push_back(seen);
      const uint64_t gained = seen - previous;
      const uint64_t wanted_per_life =
          std::max<uint64_t>(1, (head - seen) / (kMinKills - kills + 3));
      if (gained > wanted_per_life) {
        longest = std::max(longest * 0.6, absl::Milliseconds(1));
      } else if (gained * 2 < wanted_per_life) {
        longest = std::min(longest * 1.5, absl::Milliseconds(500));
      }
    }
    previous = seen;
    ASSERT_TRUE(mirror->Restart()) << "restart " << kills << " failed\n" << mirror->Log();
  }
  std::string progress;
  for (uint64_t seen : seen_at_kills) absl::StrAppend(&progress, seen, " ");
  std::printf(
      "%d kills while catching up on %llu events (%d top-ups) in %s; applied seq at each kill: "
      "%s\n",
      kills, static_cast<unsigned long long>(head), top_ups,
      absl::FormatDuration(absl::Now() - catching_up).c_str(), progress.c_str());
  // The mirror made progress across its lives, not all of it in one.
  const size_t lives_with_progress = std::count_if(seen_at_kills.begin(), seen_at_kills.end(),
                                                   [last = uint64_t{0}](uint64_t seen) mutable {
                                                     const bool grew = seen > last;
                                                     last = std::max(last, seen);
                                                     return grew;
                                                   });
  EXPECT_GE(lives_with_progress, 10u) << "applied seq at kills: " << progress;

  ExpectConverged(*mirror, "the killed mirror");
  EXPECT_EQ(StatusField(*mirror, "log_start"), 0) << "it replayed the log from the start";
  EXPECT_EQ(StatusField(*mirror, "last_error"), "");
}

// ---------------------------------------------------------------------------
// Network faults between the origin and a mirror.

class NetworkFaultTest : public ReplicationTest {
 protected:
  void SetUp() override {
    ReplicationTest::SetUp();
    if (HasFatalFailure()) return;
    const std::string target = origin_->grpc_address();
    proxy_ = TcpProxy::Start(std::stoi(target.substr(target.rfind(':') + 1)));
    ASSERT_NE(proxy_, nullptr);
    // Something to start from, so the mirror bootstraps and then streams.
    Publish("before", 0, 3);
  }

  // A mirror whose only way to the origin is the proxy; it reports stale and
  // reconnects after 2 s without a fresh heartbeat.
  std::unique_ptr<Node> StartProxiedMirror() {
    return StartMirror("mirror", proxy_->address(), {"--stale-after", "2s"});
  }

  std::unique_ptr<TcpProxy> proxy_;
};

TEST_F(NetworkFaultTest, ConnectionsDroppedWhileEventsFlowResumeWithNoGap) {
  std::unique_ptr<Node> mirror = StartProxiedMirror();
  ASSERT_NE(mirror, nullptr);
  ExpectConverged(*mirror, "mirror");

  // Drop every connection each time the mirror has applied a few more of the
  // events a publisher keeps adding.
  Publisher publisher(
      [&] { return PublishReleases(origin_->url(), kUser, kPassword, "flowing", 0, 120, 2); });
  int drops = 0;
  uint64_t last = mirror->AppliedSeq();
  while (!publisher.done()) {
    if (!WaitUntil([&] { return mirror->AppliedSeq() >= last + 10 || publisher.done(); })) {
      break;
    }
    if (publisher.done()) break;
    last = mirror->AppliedSeq();
    proxy_->DropAll();
    ++drops;
  }
  const absl::Status published = publisher.Join();
  ASSERT_TRUE(published.ok()) << published;
  EXPECT_GE(drops, 3) << "events flowed too fast to drop the connection while they did";
  ExpectConverged(*mirror, "mirror after drops while events flowed");
  // It came back after the drops and is following again. (A drop that lands
  // while the mirror is between connections finds nothing to drop, so the
  // proxy may count one connection fewer than the first plus one per drop.)
  auto following = [&] {
    return proxy_->accepted() >= drops && StatusField(*mirror, "connected") == true;
  };
  EXPECT_TRUE(WaitUntil(following))
      << proxy_->accepted() << " connections for " << drops << " drops";
  std::printf("Dropped the mirror's connection %d times while events flowed (%d accepted)\n", drops,
              proxy_->accepted());

  // A cut in the middle of one large event: the mirror holds nothing of it
  // until it arrives whole over the next connection.
  const uint64_t before = mirror->AppliedSeq();
  proxy_->DropAfter(256 << 10);
  UploadResult large = UploadLargeRelease(*origin_, "large", 2 << 20);
  ASSERT_EQ(large.status, 200) << large.body;
  EXPECT_TRUE(WaitUntil([&] { return proxy_->dropped_after(); }))
      << "the 2 MB event did not go through the proxy";
  ExpectConverged(*mirror, "mirror after a cut in the middle of an event");
  EXPECT_EQ(mirror->AppliedSeq(), before + 1);
  HttpResult archive = mirror->Get("/dist/large/1.0.0/large-1.0.0.zip");
  EXPECT_EQ(archive.status, 200);
  EXPECT_EQ(archive.body, origin_->Get("/dist/large/1.0.0/large-1.0.0.zip").body);
}

TEST_F(NetworkFaultTest, StallPastTheHeartbeatWindowIsReportedStaleThenRecovers) {
  std::unique_ptr<Node> mirror = StartProxiedMirror();
  ASSERT_NE(mirror, nullptr);
  ExpectConverged(*mirror, "mirror");
  ASSERT_TRUE(WaitUntil([&] { return StatusField(*mirror, "stale") == false; }))
      << mirror->Status().dump();

  // The window runs from the mirror's last fresh heartbeat, which came no
  // sooner than the last message the proxy passed on before the stall, once
  // that is a heartbeat: one sent after the mirror had every event.
  const absl::Time converged = absl::Now();
  ASSERT_TRUE(WaitUntil([&] { return proxy_->last_message_to_clients() > converged; }))
      << "no heartbeat went through the proxy";
  proxy_->Stall();
  const absl::Time last_heartbeat = proxy_->last_message_to_clients();
  const uint64_t before = mirror->AppliedSeq();
  Publish("stalled", 0, 3);  // the origin moves on; the mirror cannot see it
  // /_status turns stale, and says why the mirror is behind: first that the
  // upstream went silent, then why reconnecting fails.
  absl::Time stale_at = absl::InfiniteFuture();
  std::set<std::string> errors;
  auto said_silent = [&errors] {
    return std::any_of(errors.begin(), errors.end(),
                       [](const std::string& e) { return absl::StrContains(e, "silent"); });
  };
  WaitUntil([&] {
    const nlohmann::json status = mirror->Status();
    if (!status.is_object()) return false;
    errors.insert(status.value("last_error", ""));
    if (status["stale"] == true) stale_at = std::min(stale_at, absl::Now());
    return stale_at != absl::InfiniteFuture() && said_silent();
  });
  ASSERT_NE(stale_at, absl::InfiniteFuture()) << "never stale: " << mirror->Status().dump();
  // Stale only once the window (2 s) passed without a fresh heartbeat.
  EXPECT_GE(stale_at - last_heartbeat, absl::Seconds(2));
  EXPECT_TRUE(said_silent()) << "last_error said only: " << absl::StrJoin(errors, " | ") << "\n"
                             << mirror->Log();
  nlohmann::json status = mirror->Status();
  EXPECT_EQ(status["applied_seq"], before) << "nothing passes a stalled proxy";
  EXPECT_EQ(status["stale"], true);

  proxy_->Resume();
  EXPECT_TRUE(WaitUntil([&] { return StatusField(*mirror, "stale") == false; }))
      << mirror->Status().dump() << "\n"
      << mirror->Log();
  ExpectConverged(*mirror, "mirror after the stall");
  EXPECT_EQ(StatusField(*mirror, "last_error"), "");
}

TEST_F(NetworkFaultTest, DelayOnEveryChunkStillConverges) {
  constexpr absl::Duration kDelay = absl::Milliseconds(50);
  proxy_->SetDelay(kDelay);
  std::unique_ptr<Node> mirror = StartProxiedMirror();
  ASSERT_NE(mirror, nullptr);
  Publish("delayed", 0, 30, 2);
  ExpectConverged(*mirror, "mirror behind a delay");

  // A release reaches the mirror no sooner than the delay after the origin
  // made its event (the proxy cannot have read it earlier): the proxy is
  // really in the way.
  const uint64_t before = mirror->AppliedSeq();
  Publish("late", 0, 1);
  ASSERT_TRUE(mirror->WaitForSeq(before + 1));
  const absl::Time applied = absl::Now();
  absl::StatusOr<std::vector<nlohmann::json>> late = TailEvents(*origin_, before);
  ASSERT_TRUE(late.ok()) << late.status();
  ASSERT_FALSE(late->empty());
  EXPECT_GE(applied - EventTime(late->front()), kDelay);
  ExpectConverged(*mirror, "mirror behind a delay");
  // 50 ms per chunk is well inside the 2 s window.
  EXPECT_EQ(StatusField(*mirror, "stale"), false) << mirror->Status().dump();
}

// ---------------------------------------------------------------------------
// Restarts of the origin and of its Postgres under a subscribed mirror.

// The newest pg_ctl under /usr/lib/postgresql, as origin/embedded_postgres.cc
// picks it.
std::string PgCtl() {
  std::string best;
  int best_version = -1;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/usr/lib/postgresql", ec)) {
    int version = 0;
    if (absl::SimpleAtoi(entry.path().filename().string(), &version) && version > best_version &&
        std::filesystem::exists(entry.path() / "bin" / "pg_ctl")) {
      best_version = version;
      best = (entry.path() / "bin" / "pg_ctl").string();
    }
  }
  return best;
}

// `pg_ctl restart -m fast` on the origin's embedded cluster, as the postgres
// user when the test runs as root (Postgres refuses root). The server keeps
// the options it was started with (postmaster.opts); -l keeps its output out
// of our pipe.
RunResult RestartPostgres(const std::string& origin_dir) {
  std::vector<std::string> argv;
  if (::geteuid() == 0) argv = {"runuser", "-u", "postgres", "--"};
  const std::string postgres = std::filesystem::absolute(origin_dir + "/postgres").string();
  argv.insert(argv.end(), {PgCtl(), "restart", "-m", "fast", "-w", "-t", "60", "-D",
                           postgres + "/data", "-l", postgres + "/server.log"});
  return RunProgram(argv);
}

TEST_F(ReplicationTest, MirrorResumesAcrossOriginAndPostgresRestarts) {
  Publish("first", 0, 3);
  std::unique_ptr<Node> mirror = StartMirror("mirror", origin_->grpc_address());
  ASSERT_NE(mirror, nullptr);
  ExpectConverged(*mirror, "mirror");
  const nlohmann::json epoch = origin_->Status()["epoch"];

  // An orderly restart: the origin stops its Postgres and starts it again.
  ASSERT_EQ(origin_->Stop(SIGTERM), 0) << origin_->Log();
  ASSERT_TRUE(origin_->Restart()) << origin_->Log();
  Publish("after-restart", 0, 3);
  ExpectConverged(*mirror, "mirror after the origin restarted");

  // A crash: Postgres is left running and the new origin adopts it.
  ASSERT_EQ(origin_->Stop(SIGKILL), 128 + SIGKILL);
  ASSERT_TRUE(origin_->Restart()) << origin_->Log();
  Publish("after-crash", 0, 3);
  ExpectConverged(*mirror, "mirror after the origin crashed");

  // Postgres alone restarts under the running origin, which has to reconnect
  // its pooled connections (uploads) and its LISTEN connection (events from
  // other processes, such as `pgxnd user add`, reach the streams by NOTIFY).
  RunResult restarted = RestartPostgres(origin_->dir());
  ASSERT_EQ(restarted.exit_code, 0) << restarted.output;
  Publish("after-postgres", 0, 3, 1);
  ExpectConverged(*mirror, "mirror after Postgres restarted");
  const uint64_t before = origin_->AppliedSeq();
  ASSERT_TRUE(AddUser(origin_->dir(), "bob", kPassword));
  // The origin learns of it by NOTIFY, a moment after the command returns.
  ASSERT_TRUE(origin_->WaitForSeq(before + 1)) << origin_->Log();
  EXPECT_EQ(origin_->AppliedSeq(), before + 1) << "pgxnd user add published one event";
  ExpectConverged(*mirror, "mirror after an event from another process");

  EXPECT_EQ(origin_->Status()["epoch"], epoch) << "restarts keep the log";
  EXPECT_EQ(StatusField(*mirror, "epoch"), epoch);
}

// ---------------------------------------------------------------------------
// Snapshot bootstrap from a relay.

TEST_F(ReplicationTest, FreshMirrorBootstrapsFromAMirrorsSnapshot) {
  // Mirror A replays the whole log, so it can serve the history and a
  // snapshot of the tree at any time.
  std::unique_ptr<Node> a = StartMirror("a", origin_->grpc_address(), {"--replay-log"});
  ASSERT_NE(a, nullptr);
  Publish("early", 0, 10);
  ExpectConverged(*a, "mirror A");
  EXPECT_EQ(StatusField(*a, "log_start"), 0);

  // B knows only A.
  const uint64_t head = origin_->AppliedSeq();
  std::unique_ptr<Node> b = StartMirror("b", a->grpc_address());
  ASSERT_NE(b, nullptr);
  ExpectConverged(*b, "mirror B");
  const nlohmann::json status = b->Status();
  EXPECT_EQ(status["log_start"], head) << "B bootstrapped from a snapshot at A's head";
  EXPECT_EQ(status["upstream"], a->grpc_address());
  EXPECT_TRUE(absl::StrContains(b->Log(), "Bootstrapping from a snapshot of " + a->grpc_address()))
      << b->Log();

  // Then it follows A live.
  Publish("late", 0, 5);
  ExpectConverged(*a, "mirror A");
  ExpectConverged(*b, "mirror B, live");
  EXPECT_EQ(StatusField(*b, "log_start"), head);
}

// ---------------------------------------------------------------------------
// Pinning the origin's key.

TEST_F(ReplicationTest, MirrorPinnedToAnotherKeyRefusesTheOriginsEvents) {
  Publish("signed", 0, 2);
  const std::string wrong_key = dir_.path() + "/wrong.pub";
  WriteWholeFile(wrong_key, feed::FormatPublicKey(feed::GenerateKeyPair().public_key));
  std::unique_ptr<Node> wrong =
      StartMirror("wrong", origin_->grpc_address(), {"--origin-key", wrong_key, "--replay-log"});
  ASSERT_NE(wrong, nullptr);
  ASSERT_TRUE(WaitUntil([&] { return StatusField(*wrong, "last_error") != ""; }))
      << wrong->Status().dump();
  EXPECT_TRUE(
      absl::StrContains(StatusField(*wrong, "last_error").dump(), "not signed by the origin"))
      << wrong->Status().dump();

  // The key the origin serves is the right one.
  HttpResult served = origin_->Get("/meta/origin.pub");
  ASSERT_EQ(served.status, 200);
  const std::string right_key = dir_.path() + "/origin.pub";
  WriteWholeFile(right_key, served.body);
  std::unique_ptr<Node> right =
      StartMirror("right", origin_->grpc_address(), {"--origin-key", right_key, "--replay-log"});
  ASSERT_NE(right, nullptr);
  ExpectConverged(*right, "mirror with the origin's key");

  // Meanwhile the other mirror kept refusing: nothing applied, nothing served.
  const nlohmann::json status = wrong->Status();
  EXPECT_EQ(status["applied_seq"], 0) << status.dump();
  EXPECT_NE(status["origin_key"], origin_->Status()["origin_key"]);
  EXPECT_TRUE(absl::StrContains(status["last_error"].dump(), "not signed by the origin"))
      << status.dump();
  EXPECT_EQ(wrong->Get("/index.json").status, 404);
}

// ---------------------------------------------------------------------------
// What an operator reads: a line per event published and applied, and with
// --access-log a line per request (issue 16, "Logs").

TEST_F(ReplicationTest, LogsNameEachEventAndTheAccessLogEachRequest) {
  const std::string access_log = dir_.path() + "/mirror-access.log";
  std::unique_ptr<Node> mirror =
      StartMirror("mirror", origin_->grpc_address(), {"--access-log", access_log});
  ASSERT_NE(mirror, nullptr);
  Publish("logged", 0, 2);
  const uint64_t head = origin_->AppliedSeq();
  ASSERT_TRUE(mirror->WaitForSeq(head));
  EXPECT_TRUE(absl::StrContains(origin_->Log(), "Published seq "))
      << origin_->Log();
  EXPECT_TRUE(absl::StrContains(origin_->Log(), " release logged1 1.0.0 by ")) << origin_->Log();
  EXPECT_TRUE(absl::StrContains(mirror->Log(), absl::StrCat("Applied seq ", head, " release ")))
      << mirror->Log();

  EXPECT_EQ(mirror->Get("/dist/logged0.json").status, 200);
  EXPECT_EQ(mirror->Get("/dist/nothing-here.json").status, 404);
  // Written within a second, and at the latest when the node stops.
  ASSERT_EQ(mirror->Stop(SIGTERM), 0);
  const std::string lines = ReadWholeFile(access_log);
  EXPECT_TRUE(absl::StrContains(lines, "\"GET /dist/logged0.json HTTP/1.1\" 200 ")) << lines;
  EXPECT_TRUE(absl::StrContains(lines, "\"GET /dist/nothing-here.json HTTP/1.1\" 404 ")) << lines;
  EXPECT_TRUE(absl::StartsWith(lines, "127.0.0.1 - - [")) << lines;
}

}  // namespace
}  // namespace pgxn::testing
