// The Feed (gRPC) under abuse (issue 14), through real processes: one origin
// on embedded Postgres holding a release with a 45 MB archive, attacked by
// crowds of streams from this process, and real mirrors that must still
// bootstrap and follow while `pgxnd user add` must still work:
//  - 650 idle Subscribe streams from one address (600 allowed per address);
//  - 20 Subscribe streams that never read, positioned before the large event:
//    dropped after --feed-write-timeout, the origin's memory bounded;
//  - 230 Snapshot streams that never read: no Postgres connection held;
//  - a hostile upstream answering Snapshot with the origin's real signed head
//    and then endless junk: refused at the signed size, nothing left on disk.
// The attackers reach the origin through a proxy whose connections come from
// 127.0.0.2, so the origin tells them from the mirrors (127.0.0.1) as it would
// tell two hosts apart.
#include <grpcpp/grpcpp.h>
#include <sys/types.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "base/digest.h"
#include "base/temp_dir.h"
#include "gtest/gtest.h"
#include "pgxn/feed/v1/feed.grpc.pb.h"
#include "tests/support/cluster.h"
#include "tests/support/tcp_proxy.h"
#include "tests/support/wait.h"

namespace pgxn::testing {
namespace {

namespace v1 = ::pgxn::feed::v1;

constexpr char kUser[] = "alice";
constexpr char kPassword[] = "correct horse battery";
constexpr size_t kLargeBytes = 45 << 20;
constexpr char kAttackerAddress[] = "127.0.0.2";

// A field of /proc/PID/status in kB ("VmRSS", "VmHWM") or as a count
// ("Threads"); -1 if the process is gone.
int64_t ProcStatus(pid_t pid, const std::string& field) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    if (!absl::StartsWith(line, field + ":")) continue;
    int64_t value = -1;
    std::string number;
    for (char c : line.substr(field.size() + 1)) {
      if (c >= '0' && c <= '9') number += c;
    }
    if (absl::SimpleAtoi(number, &value)) return value;
  }
  return -1;
}

std::string Listing(const std::string& dir) {
  std::string out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    out += absl::StrCat(entry.path().filename().string(), " ",
                        entry.is_regular_file(ec) ? entry.file_size(ec) : 0, "\n");
  }
  return out;
}

// How many times `text` occurs in the node's log.
int LogCount(const Node& node, const std::string& text) {
  const std::string log = node.Log();
  int count = 0;
  for (size_t at = log.find(text); at != std::string::npos; at = log.find(text, at + 1)) ++count;
  return count;
}

std::string LogTail(const Node& node) {
  const std::string log = node.Log();
  return log.size() > 4000 ? log.substr(log.size() - 4000) : log;
}

uint64_t DiskBytes(const std::string& dir) {
  uint64_t bytes = 0;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    if (it->is_regular_file(ec)) bytes += it->file_size(ec);
  }
  return bytes;
}

std::shared_ptr<grpc::Channel> Channel(const std::string& address) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);
  // Each channel its own connection: the crowd does not share the mirror's.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
}

// One attacking stream: reads its first message (a heartbeat, or a
// snapshot's head) and then either goes on reading or never reads again.
template <typename Message>
class Attacker final : public grpc::ClientReadReactor<Message> {
 public:
  explicit Attacker(bool keep_reading) : keep_reading_(keep_reading) {}

  void Begin() {
    this->StartRead(&message_);
    this->StartCall();
  }
  void OnReadDone(bool ok) override {
    if (!ok) return;  // OnDone follows
    {
      absl::MutexLock lock(&mu_);
      ++messages_;
    }
    if (keep_reading_) this->StartRead(&message_);
  }
  void OnDone(const grpc::Status& status) override {
    absl::MutexLock lock(&mu_);
    done_ = true;
    status_ = status;
  }

  grpc::ClientContext context;
  // The request, which must live until the call starts.
  v1::SubscribeRequest subscribe;
  v1::SnapshotRequest snapshot;
  int messages() const {
    absl::MutexLock lock(&mu_);
    return messages_;
  }
  bool done() const {
    absl::MutexLock lock(&mu_);
    return done_;
  }
  grpc::Status status() const {
    absl::MutexLock lock(&mu_);
    return status_;
  }

 private:
  const bool keep_reading_;
  Message message_;
  mutable absl::Mutex mu_;
  int messages_ = 0;
  bool done_ = false;
  grpc::Status status_;
};

// A crowd of attacking streams on one channel (one connection).
template <typename Message>
class Crowd {
 public:
  using Open = std::function<void(v1::Feed::Stub*, Attacker<Message>*)>;
  Crowd(const std::string& address, int count, bool keep_reading, const Open& open)
      : stub_(v1::Feed::NewStub(Channel(address))) {
    for (int i = 0; i < count; ++i) {
      attackers_.push_back(std::make_unique<Attacker<Message>>(keep_reading));
      open(stub_.get(), attackers_.back().get());
      attackers_.back()->Begin();
    }
  }
  // Cancels every stream and waits until each is done (its reactor must live
  // until then).
  ~Crowd() {
    for (auto& attacker : attackers_) attacker->context.TryCancel();
    EXPECT_TRUE(WaitUntil([&] { return Count([](const auto& a) { return a.done(); }) == size(); }))
        << "attacking streams did not end";
  }

  int size() const { return static_cast<int>(attackers_.size()); }
  // Streams the server accepted (their first message arrived).
  int accepted() const { return Count([](const auto& a) { return a.messages() > 0; }); }
  // Streams the server refused with RESOURCE_EXHAUSTED.
  int refused() const {
    return Count([](const auto& a) {
      return a.done() && a.status().error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED;
    });
  }
  // Accepted streams that have ended (the server dropped them), as far as a
  // client that reads can tell.
  int dropped() const {
    return Count([](const auto& a) { return a.messages() > 0 && a.done(); });
  }
  std::string AnyRefusal() const {
    for (const auto& attacker : attackers_) {
      if (attacker->done() && !attacker->status().ok()) return attacker->status().error_message();
    }
    return "";
  }

 private:
  int Count(const std::function<bool(const Attacker<Message>&)>& test) const {
    int n = 0;
    for (const auto& attacker : attackers_) n += test(*attacker) ? 1 : 0;
    return n;
  }
  std::unique_ptr<v1::Feed::Stub> stub_;
  std::vector<std::unique_ptr<Attacker<Message>>> attackers_;
};

// One origin for every case: starting it and publishing 45 MB is the slow part.
class FeedAbuseTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new base::TempDir();
    origin_ = Node::Start("origin", dir_->path() + "/origin",
                          {"--unsafe-no-fsync", "--feed-write-timeout", "2s",
                           "--feed-max-buffered", "64M", "--feed-max-streams-per-peer", "600",
                           "--feed-max-snapshots", "300", "--feed-max-snapshots-per-peer", "300"})
                  .release();
    if (origin_ == nullptr) return;
    if (!AddUser(origin_->dir(), kUser, kPassword)) return;
    std::mt19937_64 random(kLargeBytes);
    std::string noise(kLargeBytes, '\0');
    for (char& c : noise) c = static_cast<char>(random());
    const std::string zip = MakeDistZip(MakeMeta("huge", "1.0.0", "A large release"),
                                        {{"data/noise.bin", noise}, {"README.md", "Large.\n"}});
    before_large_ = origin_->AppliedSeq();
    UploadResult upload = UploadZip(origin_->url(), kUser, kPassword, zip, "huge-1.0.0.zip");
    if (upload.status != 200) {
      std::fprintf(stderr, "upload: %d %s\n", upload.status, upload.body.c_str());
      return;
    }
    ready_ = true;
  }
  static void TearDownTestSuite() {
    delete origin_;
    delete dir_;
  }
  void SetUp() override {
    ASSERT_NE(origin_, nullptr);
    ASSERT_TRUE(ready_) << "the origin could not be set up";
    const std::string grpc = origin_->grpc_address();
    proxy_ = TcpProxy::Start(std::stoi(grpc.substr(grpc.rfind(':') + 1)), kAttackerAddress);
    ASSERT_NE(proxy_, nullptr);
    // The origin is shared: the streams an earlier case opened must be gone
    // on its side too (its clients see them end first; under a sanitizer
    // the server can lag), or they count against this case's caps.
    ASSERT_TRUE(WaitUntil([] { return OriginFeedStreams() == 0; }))
        << OriginFeedStreams() << " Feed streams still open on the origin";
  }

  // The origin's pgxn_feed_streams gauge (-1 if /metrics does not say).
  static int OriginFeedStreams() {
    const HttpResult metrics = origin_->Get("/metrics");
    for (absl::string_view line : absl::StrSplit(metrics.body, '\n')) {
      if (!absl::StartsWith(line, "pgxn_feed_streams")) continue;
      double value = -1;
      if (absl::SimpleAtod(line.substr(line.rfind(' ') + 1), &value)) return static_cast<int>(value);
    }
    return -1;
  }

  // Publishes one small release and returns the origin's seq after it.
  uint64_t PublishSmall(const std::string& name) {
    const std::string zip =
        MakeDistZip(MakeMeta(name, "1.0.0", "A small release"), {{"README.md", "Small.\n"}});
    UploadResult upload = UploadZip(origin_->url(), kUser, kPassword, zip, name + "-1.0.0.zip");
    EXPECT_EQ(upload.status, 200) << upload.body;
    return origin_->AppliedSeq();
  }

  // A fresh mirror of the origin that bootstraps from its snapshot.
  std::unique_ptr<Node> StartMirror(const std::string& name) {
    return Node::Start("mirror", dir_->path() + "/" + name,
                       {"--upstream", origin_->grpc_address()});
  }

  int64_t OriginRssKb() const { return ProcStatus(origin_->pid(), "VmRSS"); }

  static base::TempDir* dir_;
  static Node* origin_;
  static uint64_t before_large_;  // the seq just before the large release's event
  static bool ready_;
  std::unique_ptr<TcpProxy> proxy_;
};

base::TempDir* FeedAbuseTest::dir_ = nullptr;
Node* FeedAbuseTest::origin_ = nullptr;
uint64_t FeedAbuseTest::before_large_ = 0;
bool FeedAbuseTest::ready_ = false;

TEST_F(FeedAbuseTest, IdleSubscribersCostNoThreadAndAreCappedPerAddress) {
  const uint64_t head = origin_->AppliedSeq();
  const int64_t threads_before = ProcStatus(origin_->pid(), "Threads");
  Crowd<v1::FeedMessage> crowd(proxy_->address(), 650, /*keep_reading=*/true,
                               [&](v1::Feed::Stub* stub, Attacker<v1::FeedMessage>* a) {
                                 a->subscribe.set_after_seq(head);
                                 stub->async()->Subscribe(&a->context, &a->subscribe, a);
                               });
  ASSERT_TRUE(WaitUntil([&] { return crowd.accepted() + crowd.refused() == crowd.size(); }))
      << crowd.accepted() << " accepted, " << crowd.refused() << " refused";
  EXPECT_EQ(crowd.accepted(), 600);
  EXPECT_EQ(crowd.refused(), 50);
  EXPECT_NE(crowd.AnyRefusal().find("at most 600 streams at once to one address"),
            std::string::npos)
      << crowd.AnyRefusal();
  const int64_t threads = ProcStatus(origin_->pid(), "Threads");
  std::printf("figure: origin threads %lld before, %lld with 600 idle streams open\n",
              static_cast<long long>(threads_before), static_cast<long long>(threads));
  // A thread per stream would be 600 more.
  EXPECT_LT(threads - threads_before, 100);

  // A real mirror still bootstraps and follows, an operator still works.
  std::unique_ptr<Node> mirror = StartMirror("idle-mirror");
  ASSERT_NE(mirror, nullptr);
  ASSERT_TRUE(mirror->WaitForSeq(head)) << mirror->Log();
  EXPECT_TRUE(AddUser(origin_->dir(), "bob", kPassword)) << "pgxnd user add failed";
  const uint64_t after = PublishSmall("idlecheck");
  ASSERT_TRUE(mirror->WaitForSeq(after)) << "the mirror stopped following";
  EXPECT_EQ(crowd.dropped(), 0) << "idle subscribers that read are never dropped";
}

TEST_F(FeedAbuseTest, SubscribersThatNeverReadAreDroppedAndMemoryStaysBounded) {
  const int64_t rss_before = OriginRssKb();
  ASSERT_GT(rss_before, 0);
  // A client that does not read does not learn either that the server
  // dropped it (its status waits behind the unread message): the origin's
  // log counts the drops.
  const std::string kDropped = "Feed: dropping a stream of ipv4:127.0.0.2";
  const int dropped_before = LogCount(*origin_, kDropped);
  Crowd<v1::FeedMessage> crowd(proxy_->address(), 20, /*keep_reading=*/false,
                               [&](v1::Feed::Stub* stub, Attacker<v1::FeedMessage>* a) {
                                 a->subscribe.set_after_seq(before_large_);
                                 a->subscribe.set_include_content(true);
                                 stub->async()->Subscribe(&a->context, &a->subscribe, a);
                               });
  // Each is dropped once its write of the large event has waited 2 s; 6 in
  // turn show the cycle (64 MiB of budget: one 45 MB event in flight).
  int64_t peak = rss_before;
  ASSERT_TRUE(WaitUntil([&] {
    peak = std::max(peak, OriginRssKb());
    return LogCount(*origin_, kDropped) - dropped_before >= 6;
  })) << LogCount(*origin_, kDropped) - dropped_before
      << " dropped; origin's log:\n"
      << LogTail(*origin_);
  EXPECT_EQ(crowd.refused(), 0) << crowd.AnyRefusal();
  // While they hog the feed, a real mirror still bootstraps (45 MB included)
  // and follows, and an operator still works.
  std::unique_ptr<Node> mirror = StartMirror("slow-reader-mirror");
  ASSERT_NE(mirror, nullptr);
  const uint64_t after = PublishSmall("slowcheck");
  ASSERT_TRUE(mirror->WaitForSeq(after)) << mirror->Log();
  EXPECT_TRUE(AddUser(origin_->dir(), "carol", kPassword)) << "pgxnd user add failed";
  peak = std::max(peak, OriginRssKb());
  std::printf("figure: origin RSS %lld MB before, peak %lld MB with 20 subscribers not reading\n",
              static_cast<long long>(rss_before >> 10), static_cast<long long>(peak >> 10));
  // 20 copies of the event and their serialised messages would be 1.8 GB.
  // Allowed: the 64 MiB budget (one 45 MB event, and its serialised copy),
  // the cache of recent events (64 MiB), the mirror's bootstrap of the same
  // file (read, copied, serialised) and slack for the allocator.
  EXPECT_LT(peak - rss_before, int64_t{640} << 10) << "the origin buffered for slow readers";
}

TEST_F(FeedAbuseTest, SnapshotsThatNeverReadHoldNoDatabaseConnection) {
  Crowd<v1::SnapshotChunk> crowd(proxy_->address(), 230, /*keep_reading=*/false,
                                 [&](v1::Feed::Stub* stub, Attacker<v1::SnapshotChunk>* a) {
                                   stub->async()->Snapshot(&a->context, &a->snapshot, a);
                                 });
  ASSERT_TRUE(WaitUntil([&] { return crowd.accepted() + crowd.refused() == crowd.size(); }))
      << crowd.accepted() << " accepted, " << crowd.refused() << " refused";
  EXPECT_EQ(crowd.accepted(), 230) << crowd.AnyRefusal();
  // The embedded Postgres takes 200 connections: a connection per stream
  // would leave none for the operator.
  EXPECT_TRUE(AddUser(origin_->dir(), "dave", kPassword)) << "pgxnd user add failed";
  std::unique_ptr<Node> mirror = StartMirror("snapshot-mirror");
  ASSERT_NE(mirror, nullptr);
  const uint64_t head = origin_->AppliedSeq();
  ASSERT_TRUE(mirror->WaitForSeq(head)) << mirror->Log();
  EXPECT_EQ(mirror->Tree(), origin_->Tree());
}

// An upstream answering Snapshot with the origin's real signed head and then
// file after file of junk (each with a correct sha256), at most `limit`.
class EndlessSnapshot final : public v1::Feed::Service {
 public:
  EndlessSnapshot(v1::Head head, v1::Event head_event, int limit)
      : head_(std::move(head)), head_event_(std::move(head_event)), limit_(limit) {}

  grpc::Status GetHead(grpc::ServerContext*, const v1::GetHeadRequest*, v1::Head* head) override {
    *head = head_;
    return grpc::Status::OK;
  }
  grpc::Status Subscribe(grpc::ServerContext*, const v1::SubscribeRequest*,
                         grpc::ServerWriter<v1::FeedMessage>*) override {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "no feed here");
  }
  grpc::Status Snapshot(grpc::ServerContext* context, const v1::SnapshotRequest*,
                        grpc::ServerWriter<v1::SnapshotChunk>* writer) override {
    // One hostile snapshot; later attempts find nothing.
    if (calls_++ > 0) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "gone");
    v1::SnapshotChunk chunk;
    *chunk.mutable_head() = head_event_;
    if (!writer->Write(chunk)) return grpc::Status::OK;
    // Large enough that a batch reaches the disk before the refusal.
    const std::string junk(4 << 20, 'j');
    for (int i = 0; i < limit_ && !context->IsCancelled(); ++i) {
      v1::Op* op = chunk.mutable_file();
      op->set_type(v1::Op::PUT);
      op->set_path(absl::StrCat("junk/", i, ".bin"));
      op->set_content(junk);
      op->set_size(junk.size());
      op->set_sha256(base::Sha256(junk));
      op->set_media_type("application/octet-stream");
      if (!writer->Write(chunk)) break;
      ++sent_;
    }
    return grpc::Status::OK;
  }
  int sent() const { return sent_.load(); }

 private:
  const v1::Head head_;
  const v1::Event head_event_;
  const int limit_;
  std::atomic<int> calls_{0};
  std::atomic<int> sent_{0};
};

TEST_F(FeedAbuseTest, AHostileSnapshotIsRefusedAtTheSignedSizeAndLeavesNothingOnDisk) {
  // The origin's real head, as a relay would have it.
  auto stub = v1::Feed::NewStub(Channel(origin_->grpc_address()));
  v1::Head head;
  {
    grpc::ClientContext context;
    ASSERT_TRUE(stub->GetHead(&context, v1::GetHeadRequest(), &head).ok());
  }
  v1::Event head_event;
  {
    grpc::ClientContext context;
    auto reader = stub->Snapshot(&context, v1::SnapshotRequest());
    v1::SnapshotChunk chunk;
    ASSERT_TRUE(reader->Read(&chunk));
    ASSERT_TRUE(chunk.has_head());
    head_event = chunk.head();
    context.TryCancel();
    (void)reader->Finish();
  }
  ASSERT_GT(head_event.tree_files(), 0u) << "the origin's head states no tree size";
  ASSERT_GT(head_event.tree_bytes(), kLargeBytes);
  // 8,000 MiB of junk at most: a mirror that took it all would show it.
  EndlessSnapshot hostile(head, head_event, 2000);
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.SetMaxSendMessageSize(-1);
  builder.RegisterService(&hostile);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);

  const std::string key_file = dir_->path() + "/origin.pub";
  std::ofstream(key_file) << origin_->Get("/meta/origin.pub").body;
  std::unique_ptr<Node> mirror =
      Node::Start("mirror", dir_->path() + "/hostile-mirror",
                  {"--upstream", absl::StrCat("127.0.0.1:", port), "--origin-key", key_file});
  ASSERT_NE(mirror, nullptr);
  ASSERT_TRUE(WaitUntil([&] {
    return absl::StrContains(mirror->Log(), "more than the");
  })) << mirror->Log();
  EXPECT_TRUE(absl::StrContains(mirror->Log(),
                                absl::StrCat("more than the ", head_event.tree_files(),
                                             " files and ", head_event.tree_bytes(), " bytes")))
      << mirror->Log();
  EXPECT_EQ(mirror->AppliedSeq(), 0u);
  const uint64_t signed_mib = head_event.tree_bytes() >> 20;
  std::printf("figure: hostile snapshot sent %d MiB of junk; the signed tree is %llu MiB\n",
              hostile.sent() * 4, static_cast<unsigned long long>(signed_mib));
  // Refused once past the signed size; what else went out was in flight.
  EXPECT_LT(hostile.sent() * 4, static_cast<int>(signed_mib) + 64)
      << "the mirror kept taking junk";
  // The refused files were deleted and compacted away.
  const uint64_t on_disk = DiskBytes(mirror->dir() + "/store");
  std::printf("figure: the mirror's store holds %llu MiB after refusing\n",
              static_cast<unsigned long long>(on_disk >> 20));
  EXPECT_LT(on_disk, uint64_t{16} << 20) << "the refused snapshot stayed on disk:\n"
                                         << Listing(mirror->dir() + "/store");
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
}

}  // namespace
}  // namespace pgxn::testing
