// The Feed end to end inside one process: a FeedServer over one store, a
// feed::FeedClient applying into another, over real gRPC on a loopback port. The
// upstream stands for the origin (its events and heartbeats are signed by
// feed::TestChain's key); tampering logs stand for hostile relays.
#include <atomic>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "base/digest.h"
#include "base/temp_dir.h"
#include "feed/feed_client.h"
#include "feed/feed_service.h"
#include "feed/signing.h"
#include "feed/test_events.h"
#include "gtest/gtest.h"
#include "pgxn/feed/v1/feed.grpc.pb.h"
#include "replica/store.h"

namespace pgxn::replica {
namespace {

// Applies into a store, like a mirror; remembers the refusals.
class StoreSink final : public feed::EventSink {
 public:
  explicit StoreSink(Store* store) : store_(store) {}
  feed::ChainTip Tip() const override { return store_->Tip(); }
  feed::EventCheck Check(const v1::Event& event) const override {
    feed::EventCheck check;
    check.status = store_->CheckEvent(event, &check.key);
    return check;
  }
  absl::Status Apply(const v1::Event& event, const feed::EventCheck& check) override {
    absl::StatusOr<bool> applied =
        check.status.ok() ? store_->Apply(event, check.key) : absl::StatusOr<bool>(check.status);
    if (!applied.ok()) Refused(applied.status());
    return applied.status();
  }
  std::string OriginKey() const override { return store_->OriginKey(); }
  absl::Status PinOriginKey(absl::string_view key) override { return store_->PinOriginKey(key); }
  absl::Status RecordHeartbeat(const v1::Heartbeat& heartbeat) override {
    absl::Status s = store_->RecordHeartbeat(heartbeat);
    if (!s.ok()) Refused(s);
    return s;
  }
  absl::Status Bootstrap(const v1::Event& head,
                         const std::function<absl::StatusOr<v1::Op>()>& next) override {
    absl::Status s = store_->Bootstrap(head, next);
    if (!s.ok()) Refused(s);
    return s;
  }
  absl::Status Reset() override {
    absl::MutexLock lock(&mu_);
    ++resets_;
    return store_->Clear();
  }
  std::vector<absl::Status> refusals() const {
    absl::MutexLock lock(&mu_);
    return refusals_;
  }
  int resets() const {
    absl::MutexLock lock(&mu_);
    return resets_;
  }

 private:
  void Refused(const absl::Status& s) {
    absl::MutexLock lock(&mu_);
    refusals_.push_back(s);
  }
  Store* const store_;
  mutable absl::Mutex mu_;
  std::vector<absl::Status> refusals_;
  int resets_ = 0;
};

// Serves a store's log but alters what it sends, like a hostile relay.
class TamperingLog final : public feed::EventLog {
 public:
  using Tamper = std::function<void(std::vector<v1::Event>*)>;
  TamperingLog(const Store* store, Tamper tamper) : store_(store), tamper_(std::move(tamper)) {}
  absl::StatusOr<feed::ChainTip> Head() const override { return store_->Head(); }
  absl::StatusOr<std::vector<v1::Event>> ReadAfter(uint64_t after, size_t max_events,
                                                   size_t max_bytes,
                                                   bool include_content) const override {
    auto events = store_->ReadAfter(after, max_events, max_bytes, include_content);
    if (events.ok()) tamper_(&*events);
    return events;
  }
  uint64_t WaitForHeadAbove(uint64_t seq, absl::Time deadline) const override {
    return store_->WaitForHeadAbove(seq, deadline);
  }
  std::string OriginKey() const override { return store_->OriginKey(); }
  absl::optional<v1::Heartbeat> OriginHeartbeat() const override {
    return store_->OriginHeartbeat();
  }
  uint64_t LogStart() const override { return store_->LogStart(); }
  absl::StatusOr<std::unique_ptr<feed::SnapshotReader>> OpenSnapshot() const override {
    // Alters the first file's content, keeping its claimed sha256 consistent.
    class Altering final : public feed::SnapshotReader {
     public:
      explicit Altering(std::unique_ptr<feed::SnapshotReader> inner) : inner_(std::move(inner)) {}
      const v1::Event& head() const override { return inner_->head(); }
      absl::optional<uint64_t> NextFileBytes() const override { return inner_->NextFileBytes(); }
      absl::StatusOr<std::vector<v1::Op>> Next(uint64_t max_bytes) override {
        auto ops = inner_->Next(max_bytes);
        if (ops.ok() && !ops->empty() && std::exchange(first_, false)) {
          // Same size, so only the digest can tell.
          v1::Op& op = ops->front();
          std::string content = op.content();
          if (!content.empty()) content.back() ^= 1;
          op.set_content(content);
          op.set_sha256(base::Sha256(op.content()));
        }
        return ops;
      }

     private:
      std::unique_ptr<feed::SnapshotReader> inner_;
      bool first_ = true;
    };
    auto inner = store_->OpenSnapshot();
    if (!inner.ok()) return inner.status();
    return std::unique_ptr<feed::SnapshotReader>(new Altering(*std::move(inner)));
  }

 private:
  const Store* const store_;
  const Tamper tamper_;
};

// Serves a store's log, but its snapshot sends the real signed head and then
// file after file of junk, like a hostile upstream filling a disk; counts
// what it sent. Stops after `limit` files so that a failing test ends.
class EndlessSnapshotLog final : public feed::EventLog {
 public:
  EndlessSnapshotLog(const Store* store, int limit) : store_(store), limit_(limit) {}
  absl::StatusOr<feed::ChainTip> Head() const override { return store_->Head(); }
  absl::StatusOr<std::vector<v1::Event>> ReadAfter(uint64_t after, size_t max_events,
                                                   size_t max_bytes,
                                                   bool include_content) const override {
    return store_->ReadAfter(after, max_events, max_bytes, include_content);
  }
  uint64_t WaitForHeadAbove(uint64_t seq, absl::Time deadline) const override {
    return store_->WaitForHeadAbove(seq, deadline);
  }
  std::string OriginKey() const override { return store_->OriginKey(); }
  absl::optional<v1::Heartbeat> OriginHeartbeat() const override {
    return store_->OriginHeartbeat();
  }
  uint64_t LogStart() const override { return store_->LogStart(); }
  absl::StatusOr<std::unique_ptr<feed::SnapshotReader>> OpenSnapshot() const override {
    class Junk final : public feed::SnapshotReader {
     public:
      Junk(v1::Event head, const EndlessSnapshotLog* log) : head_(std::move(head)), log_(log) {}
      const v1::Event& head() const override { return head_; }
      absl::optional<uint64_t> NextFileBytes() const override {
        if (log_->sent_.load() >= log_->limit_) return absl::nullopt;
        return kJunkBytes;
      }
      absl::StatusOr<std::vector<v1::Op>> Next(uint64_t) override {
        std::vector<v1::Op> ops;
        if (!NextFileBytes().has_value()) return ops;
        const int n = log_->sent_++;
        ops.push_back(feed::PutOp(absl::StrCat("junk/", n), std::string(kJunkBytes, 'a' + n % 26),
                                  "application/octet-stream"));
        return ops;
      }

     private:
      const v1::Event head_;
      const EndlessSnapshotLog* const log_;
    };
    auto real = store_->OpenSnapshot();
    if (!real.ok()) return real.status();
    return std::unique_ptr<feed::SnapshotReader>(new Junk((*real)->head(), this));
  }
  int sent() const { return sent_.load(); }

  static constexpr uint64_t kJunkBytes = 64 << 10;

 private:
  const Store* const store_;
  const int limit_;
  mutable std::atomic<int> sent_{0};
};

uint64_t DiskBytes(const std::string& dir) {
  uint64_t bytes = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file()) bytes += entry.file_size();
  }
  return bytes;
}

std::unique_ptr<Store> OpenStore(const std::string& dir, bool pin = true) {
  auto store = Store::Open(dir);
  EXPECT_TRUE(store.ok()) << store.status();
  if (!store.ok()) return nullptr;
  if (pin) {
    EXPECT_TRUE((*store)->PinOriginKey(feed::TestChain::Key().public_key).ok());
  }
  return *std::move(store);
}

feed::FeedClientOptions ClientOptions(int port) {
  feed::FeedClientOptions options;
  options.upstreams = {"127.0.0.1:" + std::to_string(port)};
  options.min_backoff = absl::Milliseconds(20);
  options.max_backoff = absl::Milliseconds(200);
  return options;
}

feed::FeedServiceOptions ServiceOptions() {
  feed::FeedServiceOptions options;
  options.role = "mirror";
  options.heartbeat_interval = absl::Milliseconds(100);
  return options;
}

// How long a wait lasts before the test fails instead of hanging: a safety
// net, far longer than replication inside one process takes on a loaded
// machine, not a bound on it.
constexpr absl::Duration kGiveUp = absl::Seconds(60);

absl::Time Deadline() { return absl::Now() + kGiveUp; }

// Waits (re-checking every 5 ms) until `done` holds; false if it does not
// within kGiveUp.
bool WaitUntil(const std::function<bool()>& done) {
  const absl::Time deadline = Deadline();
  while (!done()) {
    if (absl::Now() > deadline) return done();
    absl::SleepFor(absl::Milliseconds(5));
  }
  return true;
}

void ExpectSameLog(const Store& a, const Store& b) {
  auto sent = a.ReadAfter(a.LogStart(), 100000, SIZE_MAX, true);
  auto relayed = b.ReadAfter(a.LogStart(), 100000, SIZE_MAX, true);
  ASSERT_TRUE(sent.ok() && relayed.ok());
  ASSERT_EQ(sent->size(), relayed->size());
  for (size_t i = 0; i < sent->size(); ++i) {
    EXPECT_EQ((*sent)[i].SerializeAsString(), (*relayed)[i].SerializeAsString()) << i;
  }
}

TEST(FeedTest, ReplicatesBacklogThenLiveEventsAndRelaysHeartbeats) {
  base::TempDir dir;
  auto upstream = OpenStore(dir.path() + "/up");
  auto downstream = OpenStore(dir.path() + "/down");
  feed::TestChain chain;
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(
        upstream->Apply(chain.Next({feed::PutOp("f" + std::to_string(i % 5), std::to_string(i))}))
            .ok());
  }
  ASSERT_TRUE(upstream->RecordHeartbeat(chain.Heartbeat(absl::ToUnixMicros(absl::Now()))).ok());
  auto server =
      feed::FeedServer::Start(feed::GrpcServerOptions{}, ServiceOptions(), upstream.get());
  ASSERT_TRUE(server.ok()) << server.status();
  StoreSink sink(downstream.get());
  feed::FeedClientOptions options = ClientOptions((*server)->port());
  options.bootstrap_from_snapshot = false;  // replay the whole log
  feed::FeedClient client(options, &sink);
  client.Start();
  EXPECT_EQ(downstream->WaitForHeadAbove(19, Deadline()), 20u);

  // Live: an event applied upstream now reaches the subscriber.
  ASSERT_TRUE(upstream->Apply(chain.Next({feed::PutOp("live.json", "fresh")})).ok());
  EXPECT_EQ(downstream->WaitForHeadAbove(20, Deadline()), 21u);
  EXPECT_EQ(downstream->Tip().hash, upstream->Tip().hash);
  EXPECT_EQ(downstream->TreeDigestNow(), upstream->TreeDigestNow());
  auto file = downstream->GetFile("live.json");
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(*downstream->GetBlob(file->sha256), "fresh");
  ExpectSameLog(*upstream, *downstream);

  // The origin's heartbeat is passed on as it was signed.
  ASSERT_TRUE(WaitUntil([&] { return downstream->OriginHeartbeat().has_value(); }))
      << "no heartbeat was relayed";
  EXPECT_EQ(downstream->OriginHeartbeat()->SerializeAsString(),
            upstream->OriginHeartbeat()->SerializeAsString());
  ASSERT_TRUE(WaitUntil([&] { return client.State().head_seq >= 21; }))
      << "head seq " << client.State().head_seq;
  feed::UpstreamState state = client.State();
  EXPECT_TRUE(state.connected);
  EXPECT_EQ(state.head_seq, 21u);
  EXPECT_TRUE(sink.refusals().empty());
  client.Stop();
  (*server)->Shutdown();
}

TEST(FeedTest, AnEmptyNodeTrustsTheKeyOnFirstUseAndBootstrapsFromASnapshot) {
  base::TempDir dir;
  auto upstream = OpenStore(dir.path() + "/up");
  auto downstream = OpenStore(dir.path() + "/down", /*pin=*/false);
  feed::TestChain chain;
  for (int i = 0; i < 30; ++i) {
    ASSERT_TRUE(upstream
                    ->Apply(chain.Next({feed::PutOp("dist/d" + std::to_string(i % 7) + ".json",
                                                    std::to_string(i))}))
                    .ok());
  }
  ASSERT_TRUE(upstream->Apply(chain.Next({feed::DeleteOp("dist/d0.json")})).ok());
  auto server =
      feed::FeedServer::Start(feed::GrpcServerOptions{}, ServiceOptions(), upstream.get());
  ASSERT_TRUE(server.ok());
  StoreSink sink(downstream.get());
  feed::FeedClient client(ClientOptions((*server)->port()), &sink);
  client.Start();
  EXPECT_EQ(downstream->WaitForHeadAbove(30, Deadline()), 31u);
  EXPECT_EQ(downstream->OriginKey(), feed::TestChain::Key().public_key);
  EXPECT_EQ(downstream->LogStart(), 31u) << "no earlier event was replayed";
  EXPECT_EQ(downstream->TreeDigestNow(), upstream->TreeDigestNow());
  EXPECT_TRUE(absl::IsNotFound(downstream->GetFile("dist/d0.json").status()));
  // And then it tails.
  ASSERT_TRUE(upstream->Apply(chain.Next({feed::PutOp("dist/new.json", "n")})).ok());
  EXPECT_EQ(downstream->WaitForHeadAbove(31, Deadline()), 32u);
  EXPECT_EQ(downstream->TreeDigestNow(), upstream->TreeDigestNow());
  // A node bootstrapped at 31 cannot serve what came before it.
  auto early = downstream->ReadAfter(0, 10, SIZE_MAX, false);
  EXPECT_TRUE(absl::IsFailedPrecondition(early.status())) << early.status();
  client.Stop();
}

TEST(FeedTest, ATamperedSnapshotIsRefusedWholeAndTheLogIsReplayedInstead) {
  base::TempDir dir;
  auto upstream = OpenStore(dir.path() + "/up");
  auto downstream = OpenStore(dir.path() + "/down");
  feed::TestChain chain;
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(upstream->Apply(chain.Next({feed::PutOp("f" + std::to_string(i), "x")})).ok());
  }
  TamperingLog hostile(upstream.get(), [](std::vector<v1::Event>*) {});
  auto server = feed::FeedServer::Start(feed::GrpcServerOptions{}, ServiceOptions(), &hostile);
  ASSERT_TRUE(server.ok());
  StoreSink sink(downstream.get());
  feed::FeedClient client(ClientOptions((*server)->port()), &sink);
  client.Start();
  // The snapshot is refused (its files do not add up to the signed digest);
  // the client retries and keeps refusing it.
  ASSERT_TRUE(WaitUntil([&] { return !sink.refusals().empty(); }))
      << "the snapshot was not refused";
  client.Stop();
  EXPECT_EQ(sink.refusals()[0].code(), absl::StatusCode::kDataLoss) << sink.refusals()[0];
  EXPECT_NE(sink.refusals()[0].message().find("add up to digest"), absl::string_view::npos)
      << sink.refusals()[0];
  EXPECT_EQ(downstream->Tip().seq, 0u);
  EXPECT_TRUE(absl::IsNotFound(downstream->GetFile("f0").status())) << "nothing was kept";
}

TEST(FeedTest, ASnapshotPastItsSignedSizeIsRefusedAndLeavesNothingOnDisk) {
  base::TempDir dir;
  auto upstream = OpenStore(dir.path() + "/up");
  auto downstream = OpenStore(dir.path() + "/down");
  feed::TestChain chain;
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(upstream->Apply(chain.Next({feed::PutOp("f" + std::to_string(i), "x")})).ok());
  }
  const uint64_t empty_bytes = DiskBytes(dir.path() + "/down");
  // 2,000 junk files are 128 MiB: a mirror that took them all would show it.
  EndlessSnapshotLog hostile(upstream.get(), 2000);
  auto server = feed::FeedServer::Start(feed::GrpcServerOptions{}, ServiceOptions(), &hostile);
  ASSERT_TRUE(server.ok());
  StoreSink sink(downstream.get());
  feed::FeedClientOptions options = ClientOptions((*server)->port());
  options.retry = [](const absl::Status&) { return false; };  // one attempt
  feed::FeedClient client(options, &sink);
  client.Start();
  ASSERT_TRUE(WaitUntil([&] { return !client.State().last_error.empty(); }));
  client.Stop();
  const std::string error = client.State().last_error;
  EXPECT_NE(error.find("more than the 5 files and 5 bytes the origin signed"), std::string::npos)
      << error;
  EXPECT_EQ(downstream->Tip().seq, 0u);
  // The first junk file is already past the signed size; what else went out
  // was in flight when the client hung up.
  EXPECT_LT(hostile.sent(), 200) << "the mirror kept reading junk";
  EXPECT_TRUE(absl::IsNotFound(downstream->GetFile("junk/0").status()));
  EXPECT_LT(DiskBytes(dir.path() + "/down"), empty_bytes + (4 << 20))
      << "the refused snapshot stayed on disk";
}

TEST(FeedTest, ResumesAfterTheUpstreamRestarts) {
  base::TempDir dir;
  auto upstream = OpenStore(dir.path() + "/up");
  auto downstream = OpenStore(dir.path() + "/down");
  feed::TestChain chain;
  ASSERT_TRUE(upstream->Apply(chain.Next({feed::PutOp("a", "1")})).ok());
  auto server =
      feed::FeedServer::Start(feed::GrpcServerOptions{}, ServiceOptions(), upstream.get());
  ASSERT_TRUE(server.ok());
  const int port = (*server)->port();
  StoreSink sink(downstream.get());
  feed::FeedClient client(ClientOptions(port), &sink);
  client.Start();
  EXPECT_EQ(downstream->WaitForHeadAbove(0, Deadline()), 1u);
  (*server)->Shutdown();
  ASSERT_TRUE(upstream->Apply(chain.Next({feed::PutOp("a", "2")})).ok());
  feed::GrpcServerOptions same_port;
  same_port.address = "127.0.0.1:" + std::to_string(port);
  auto restarted = feed::FeedServer::Start(same_port, ServiceOptions(), upstream.get());
  ASSERT_TRUE(restarted.ok()) << restarted.status();
  EXPECT_EQ(downstream->WaitForHeadAbove(1, Deadline()), 2u);
  client.Stop();
}

struct TamperCase {
  std::string name;
  TamperingLog::Tamper tamper;
  absl::StatusCode code;
  std::string message_part;
};

TEST(FeedTest, HostileRelaysAreCaughtAndNothingPastTheLastGoodEventIsApplied) {
  const TamperCase cases[] = {
      {"one byte of one file",
       [](std::vector<v1::Event>* events) {
         for (v1::Event& e : *events) {
           if (e.seq() == 4) (*e.mutable_ops(0)->mutable_content())[0] ^= 0x20;
         }
       },
       absl::StatusCode::kDataLoss, "does not match its sha256"},
      {"a dropped event",
       [](std::vector<v1::Event>* events) {
         events->erase(std::remove_if(events->begin(), events->end(),
                                      [](const v1::Event& e) { return e.seq() == 4; }),
                       events->end());
       },
       absl::StatusCode::kFailedPrecondition, "does not follow 3"},
      {"two events swapped",
       [](std::vector<v1::Event>* events) {
         for (size_t i = 0; i + 1 < events->size(); ++i) {
           if ((*events)[i].seq() == 4) std::swap((*events)[i], (*events)[i + 1]);
         }
       },
       absl::StatusCode::kFailedPrecondition, "does not follow 3"},
      {"a re-signed event",
       [](std::vector<v1::Event>* events) {
         const feed::KeyPair forger = feed::GenerateKeyPair();
         for (v1::Event& e : *events) {
           if (e.seq() != 4) continue;
           e.mutable_ops(0)->set_content("forged");
           e.mutable_ops(0)->set_size(6);
           e.mutable_ops(0)->set_sha256(base::Sha256("forged"));
           e.set_hash(feed::ComputeEventHash(e));
           feed::SignEvent(forger.secret_key, &e);
         }
       },
       absl::StatusCode::kPermissionDenied, "not signed by the origin"},
  };
  for (const TamperCase& c : cases) {
    base::TempDir dir;
    auto upstream = OpenStore(dir.path() + "/up");
    auto downstream = OpenStore(dir.path() + "/down");
    feed::TestChain chain;
    for (int i = 0; i < 6; ++i) {
      ASSERT_TRUE(upstream->Apply(chain.Next({feed::PutOp("f", std::to_string(i))})).ok());
    }
    TamperingLog hostile(upstream.get(), c.tamper);
    auto server = feed::FeedServer::Start(feed::GrpcServerOptions{}, ServiceOptions(), &hostile);
    ASSERT_TRUE(server.ok());
    StoreSink sink(downstream.get());
    feed::FeedClientOptions options = ClientOptions((*server)->port());
    options.bootstrap_from_snapshot = false;
    feed::FeedClient client(options, &sink);
    client.Start();
    // The client retries; wait for two refusals, then check it never went
    // past the last good seq.
    ASSERT_TRUE(WaitUntil([&] { return sink.refusals().size() >= 2; }))
        << c.name << ": " << sink.refusals().size() << " refusals";
    client.Stop();
    EXPECT_EQ(sink.refusals()[0].code(), c.code) << c.name << ": " << sink.refusals()[0];
    EXPECT_NE(sink.refusals()[0].message().find(c.message_part), absl::string_view::npos)
        << c.name << ": " << sink.refusals()[0];
    EXPECT_EQ(downstream->Tip().seq, 3u) << c.name;
    EXPECT_EQ(*downstream->GetBlob(downstream->GetFile("f")->sha256), "2") << c.name;
    EXPECT_NE(client.State().last_error.find("refused event"), std::string::npos)
        << c.name << ": " << client.State().last_error;
  }
}

TEST(FeedTest, AForgedHeartbeatIsRefused) {
  base::TempDir dir;
  auto store = OpenStore(dir.path());
  feed::TestChain chain;
  ASSERT_TRUE(store->Apply(chain.Next({feed::PutOp("a", "1")})).ok());
  v1::Heartbeat heartbeat = chain.Heartbeat(1);
  heartbeat.set_head_seq(99);  // a relay claiming the origin is further ahead
  EXPECT_TRUE(absl::IsPermissionDenied(store->RecordHeartbeat(heartbeat)));
  EXPECT_FALSE(store->OriginHeartbeat().has_value());
  EXPECT_TRUE(store->RecordHeartbeat(chain.Heartbeat(2)).ok());
  EXPECT_TRUE(store->RecordHeartbeat(chain.Heartbeat(1)).ok());  // older: kept the newer
  EXPECT_EQ(store->OriginHeartbeat()->time_us(), 2);
}

TEST(FeedTest, ANewEpochIsRefusedUnlessResettingIsAllowed) {
  for (bool reset : {false, true}) {
    base::TempDir dir;
    auto upstream = OpenStore(dir.path() + "/up");
    auto downstream = OpenStore(dir.path() + "/down");
    feed::TestChain chain("aaaa"), other("bbbb");
    ASSERT_TRUE(upstream->Apply(chain.Next({feed::PutOp("a", "1")})).ok());
    ASSERT_TRUE(downstream->Apply(other.Next({feed::PutOp("a", "x")})).ok());
    auto server =
        feed::FeedServer::Start(feed::GrpcServerOptions{}, ServiceOptions(), upstream.get());
    ASSERT_TRUE(server.ok());
    StoreSink sink(downstream.get());
    feed::FeedClientOptions options = ClientOptions((*server)->port());
    options.reset_on_new_epoch = reset;
    feed::FeedClient client(options, &sink);
    client.Start();
    if (reset) {
      ASSERT_TRUE(WaitUntil([&] { return downstream->Tip().epoch == "aaaa"; }))
          << "still at epoch " << downstream->Tip().epoch;
      EXPECT_EQ(sink.resets(), 1);
      EXPECT_EQ(downstream->Tip().hash, upstream->Tip().hash);
    } else {
      ASSERT_TRUE(WaitUntil([&] { return !client.State().last_error.empty(); }))
          << "the new epoch was not refused";
      EXPECT_NE(client.State().last_error.find("--reset-on-new-epoch"), std::string::npos)
          << client.State().last_error;
      EXPECT_EQ(downstream->Tip().epoch, "bbbb");
      EXPECT_EQ(sink.resets(), 0);
    }
    client.Stop();
  }
}

TEST(FeedTest, LightSubscribersGetPathsAndHashesThatStillVerify) {
  base::TempDir dir;
  auto upstream = OpenStore(dir.path() + "/up");
  feed::TestChain chain;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(
        upstream->Apply(chain.Next({feed::PutOp("f" + std::to_string(i), "content")})).ok());
  }
  auto server =
      feed::FeedServer::Start(feed::GrpcServerOptions{}, ServiceOptions(), upstream.get());
  ASSERT_TRUE(server.ok());
  auto feed = v1::Feed::NewStub(grpc::CreateChannel(
      "127.0.0.1:" + std::to_string((*server)->port()), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  v1::SubscribeRequest request;
  request.set_include_content(false);
  auto reader = feed->Subscribe(&context, request);
  feed::ChainTip tip;
  v1::FeedMessage message;
  while (tip.seq < 3 && reader->Read(&message)) {
    if (!message.has_event()) continue;
    const v1::Event& event = message.event();
    ASSERT_EQ(event.ops_size(), 1);
    EXPECT_TRUE(event.ops(0).content().empty());
    EXPECT_EQ(event.ops(0).size(), 7u);
    absl::Status s =
        feed::VerifyEvent(event, tip, /*require_content=*/false, feed::TestChain::Key().public_key);
    EXPECT_TRUE(s.ok()) << s;
    tip = feed::TipAfter(event);
  }
  EXPECT_EQ(tip.seq, 3u);
  context.TryCancel();
  reader->Finish();
}

TEST(FeedTest, StreamsPastAPeersCapAreRefusedAtOnce) {
  base::TempDir dir;
  auto upstream = OpenStore(dir.path() + "/up");
  feed::TestChain chain;
  ASSERT_TRUE(upstream->Apply(chain.Next({feed::PutOp("a", "1")})).ok());
  feed::GrpcServerOptions options;
  options.limits.max_streams_per_peer = 2;
  auto server = feed::FeedServer::Start(options, ServiceOptions(), upstream.get());
  ASSERT_TRUE(server.ok());
  auto feed = v1::Feed::NewStub(grpc::CreateChannel(
      "127.0.0.1:" + std::to_string((*server)->port()), grpc::InsecureChannelCredentials()));
  struct Call {
    grpc::ClientContext context;
    std::unique_ptr<grpc::ClientReader<v1::FeedMessage>> reader;
    v1::FeedMessage message;
  };
  Call calls[4];
  auto open = [&](Call& call) {
    call.reader = feed->Subscribe(&call.context, v1::SubscribeRequest());
    return call.reader->Read(&call.message);
  };
  ASSERT_TRUE(open(calls[0]));
  ASSERT_TRUE(open(calls[1]));
  EXPECT_FALSE(open(calls[2])) << "a third stream from one address was served";
  grpc::Status refused = calls[2].reader->Finish();
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(refused.error_message(),
            "This feed server serves at most 2 streams at once to one address; try again later");
  // A stream that ends makes room.
  calls[0].context.TryCancel();
  (void)calls[0].reader->Finish();
  ASSERT_TRUE(WaitUntil([&] { return (*server)->active_streams() == 1; }));
  EXPECT_TRUE(open(calls[3]));
  for (int i : {1, 3}) {
    calls[i].context.TryCancel();
    (void)calls[i].reader->Finish();
  }
}

TEST(FeedTest, ASubscriberThatDoesNotReadIsDroppedAfterTheWriteTimeout) {
  base::TempDir dir;
  auto upstream = OpenStore(dir.path() + "/up");
  feed::TestChain chain;
  // Far more than HTTP/2's windows let through to a client that does not read.
  ASSERT_TRUE(upstream->Apply(chain.Next({feed::PutOp("big", std::string(48 << 20, 'b'))})).ok());
  feed::GrpcServerOptions options;
  options.limits.write_timeout = absl::Milliseconds(300);
  auto server = feed::FeedServer::Start(options, ServiceOptions(), upstream.get());
  ASSERT_TRUE(server.ok());
  auto feed = v1::Feed::NewStub(grpc::CreateChannel(
      "127.0.0.1:" + std::to_string((*server)->port()), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  v1::SubscribeRequest request;
  request.set_include_content(true);
  auto reader = feed->Subscribe(&context, request);
  ASSERT_TRUE(WaitUntil([&] { return (*server)->active_streams() == 1; }));
  // Never read: the server must give up on the stream rather than hold it.
  EXPECT_TRUE(WaitUntil([&] { return (*server)->active_streams() == 0; }))
      << "the stream that does not read is still open";
  context.TryCancel();
  (void)reader->Finish();
}

// Keeps what the Feed server hands it.
class CollectingSink final : public feed::ReportSink {
 public:
  void Accept(std::vector<v1::NodeReport> reports) override {
    absl::MutexLock lock(&mu_);
    for (v1::NodeReport& report : reports) reports_.push_back(std::move(report));
  }
  std::vector<v1::NodeReport> reports() {
    absl::MutexLock lock(&mu_);
    return reports_;
  }

 private:
  absl::Mutex mu_;
  std::vector<v1::NodeReport> reports_ ABSL_GUARDED_BY(mu_);
};

TEST(FeedTest, ReportsReachTheSinkAndHostileOnesAreRefused) {
  base::TempDir dir;
  auto store = OpenStore(dir.path() + "/up");
  CollectingSink sink;
  feed::FeedServiceOptions service = ServiceOptions();
  service.reports = &sink;
  feed::GrpcServerOptions grpc;
  grpc.limits.max_reports_per_peer = 3;
  auto server = feed::FeedServer::Start(grpc, service, store.get());
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string address = absl::StrCat("127.0.0.1:", (*server)->port());

  v1::ReportRequest good;
  v1::NodeReport* report = good.add_reports();
  report->set_node_id("0123456789abcdef");
  report->set_role("mirror");
  report->set_applied_seq(4);
  absl::Status sent = feed::SendReports(address, good, absl::Seconds(30));
  ASSERT_TRUE(sent.ok()) << sent;
  ASSERT_EQ(sink.reports().size(), 1u);
  EXPECT_EQ(sink.reports()[0].applied_seq(), 4u);

  v1::ReportRequest bad = good;
  bad.mutable_reports(0)->set_node_id("../../etc");
  sent = feed::SendReports(address, bad, absl::Seconds(30));
  EXPECT_TRUE(absl::IsInvalidArgument(sent)) << sent;
  v1::ReportRequest crowd;
  for (int i = 0; i < 257; ++i) *crowd.add_reports() = good.reports(0);
  sent = feed::SendReports(address, crowd, absl::Seconds(30));
  EXPECT_TRUE(absl::IsInvalidArgument(sent)) << sent;
  // The fourth call this minute from this address, well-formed or not.
  sent = feed::SendReports(address, good, absl::Seconds(30));
  EXPECT_TRUE(absl::IsResourceExhausted(sent)) << sent;
  EXPECT_EQ(sink.reports().size(), 1u);

  // A server with no sink (a node that takes no reports) says so.
  auto plain = feed::FeedServer::Start(feed::GrpcServerOptions{}, ServiceOptions(), store.get());
  ASSERT_TRUE(plain.ok()) << plain.status();
  sent = feed::SendReports(absl::StrCat("127.0.0.1:", (*plain)->port()), good, absl::Seconds(30));
  EXPECT_TRUE(absl::IsUnimplemented(sent)) << sent;
}

TEST(FeedTest, AnOversizedReportCallIsRefusedBeforeItIsChecked) {
  base::TempDir dir;
  auto store = OpenStore(dir.path() + "/up");
  CollectingSink sink;
  feed::FeedServiceOptions service = ServiceOptions();
  service.reports = &sink;
  auto server = feed::FeedServer::Start(feed::GrpcServerOptions{}, service, store.get());
  ASSERT_TRUE(server.ok()) << server.status();
  v1::ReportRequest huge;
  huge.add_reports()->set_node_id("0123456789abcdef");
  huge.mutable_reports(0)->set_version(std::string(2 << 20, 'x'));
  absl::Status sent = feed::SendReports(absl::StrCat("127.0.0.1:", (*server)->port()), huge,
                                        absl::Seconds(30));
  EXPECT_TRUE(absl::IsResourceExhausted(sent)) << sent;
  EXPECT_TRUE(sink.reports().empty());
}

}  // namespace
}  // namespace pgxn::replica
