// GET /feed over a real HTTP server and an in-memory log: replay then live,
// resuming, filters, refusals, heartbeats and the cut-off of a client that
// falls behind.
#include "host/event_stream.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "feed/test_events.h"
#include "feed/test_log.h"
#include "gateway/http_server.h"
#include "gateway/http_test_client.h"
#include "gateway/router.h"
#include "gtest/gtest.h"

namespace pgxn::host {
namespace {

namespace v1 = ::pgxn::feed::v1;
using feed::PutOp;
using gateway::testing::Client;
namespace http = boost::beast::http;

class EventStreamTest : public ::testing::Test {
 protected:
  void Start(EventStreamOptions options = {}) {
    stream_ = std::make_unique<EventStream>(&log_, options, /*tls=*/false, "127.0.0.1:1",
                                            public_url_);
    stream_->Start();
    router_.Handle("GET", "/feed",
                   [this](const gateway::Request& request) { return stream_->Serve(request); });
    auto server = gateway::HttpServer::Start(
        {}, [this](const gateway::Request& request) { return router_.Dispatch(request); });
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }
  void TearDown() override {
    if (server_) server_->Stop();
    if (stream_) stream_->Stop();
  }

  void Release(const std::string& dist, const std::string& version, std::string tag = "") {
    std::vector<v1::Op> ops = {
        PutOp(absl::StrCat("dist/", dist, "/", version, "/META.json"),
              absl::StrCat(R"({"abstract":"About )", dist, R"("})")),
        PutOp(absl::StrCat("dist/", dist, "/", version, "/", dist, "-", version, ".zip"), "zip",
              "application/zip")};
    if (!tag.empty()) ops.push_back(PutOp(absl::StrCat("tag/", tag, ".json"), "{}"));
    v1::Event event = chain_.Next(std::move(ops), "release", dist, version);
    event.set_actor("theory");
    log_.Append(std::move(event));
  }

  // Opens GET target; returns the client after the response header.
  std::unique_ptr<Client> Open(const std::string& target,
                               std::vector<std::pair<std::string, std::string>> headers = {}) {
    auto client = std::make_unique<Client>(server_->port());
    client->Send(http::verb::get, target, "", std::move(headers));
    header_ = client->ReadHeaderBlock();
    return client;
  }

  // The data of the event with this id, read from `client`.
  static nlohmann::json ReadEvent(Client& client, uint64_t id) {
    const std::string start = absl::StrCat("id: ", id, "\n");
    client.ReadUntil(start);
    const std::string rest = client.ReadUntil("\n\n");
    const size_t data = rest.find("data: ");
    if (data == std::string::npos) return nullptr;
    return nlohmann::json::parse(rest.substr(data + 6, rest.size() - data - 8));
  }

  std::string public_url_;
  feed::TestChain chain_;
  feed::MemoryLog log_;
  std::unique_ptr<EventStream> stream_;
  gateway::Router router_;
  std::unique_ptr<gateway::HttpServer> server_;
  std::string header_;
};

TEST_F(EventStreamTest, ReplaysFromSinceThenGoesLive) {
  Release("pair", "0.1.0");
  Release("pair", "0.1.1");
  Start();
  auto client = Open("/feed?since=0");
  EXPECT_NE(header_.find("Content-Type: text/event-stream"), std::string::npos) << header_;
  EXPECT_NE(header_.find("Access-Control-Allow-Origin: *"), std::string::npos) << header_;
  EXPECT_NE(header_.find("Cache-Control: no-store"), std::string::npos) << header_;
  nlohmann::json first = ReadEvent(*client, 1);
  EXPECT_EQ(first["version"], "0.1.0");
  EXPECT_EQ(first["abstract"], "About pair");
  EXPECT_EQ(first["zip_url"],
            absl::StrCat("http://127.0.0.1/dist/pair/0.1.0/pair-0.1.0.zip"));
  EXPECT_EQ(ReadEvent(*client, 2)["version"], "0.1.1");
  Release("widget", "1.0.0");
  nlohmann::json live = ReadEvent(*client, 3);
  EXPECT_EQ(live["dist"], "widget");
  EXPECT_EQ(live["seq"], 3);
}

TEST_F(EventStreamTest, APublicUrlIsTheBaseOfTheEventsUrls) {
  public_url_ = "https://pgxn.example.org/";
  Release("pair", "0.1.0");
  Start();
  auto client = Open("/feed?since=0");
  EXPECT_EQ(ReadEvent(*client, 1)["meta_url"],
            "https://pgxn.example.org/dist/pair/0.1.0/META.json");
}

TEST_F(EventStreamTest, WithoutAPlaceToResumeOnlyNewEventsCome) {
  Release("pair", "0.1.0");
  Start();
  auto client = Open("/feed");
  client->ReadUntil("retry: 3000\n\n");
  Release("pair", "0.1.1");
  const std::string next = client->ReadUntil("\n\n");
  EXPECT_NE(next.find("id: 2\nevent: release\n"), std::string::npos) << next;
}

TEST_F(EventStreamTest, LastEventIdWinsOverSince) {
  for (int i = 0; i < 4; ++i) Release("pair", absl::StrCat("0.1.", i));
  Start();
  auto client = Open("/feed?since=0", {{"Last-Event-ID", "2"}});
  client->ReadUntil("retry: 3000\n\n");
  const std::string next = client->ReadUntil("\n\n");
  EXPECT_NE(next.find("id: 3\n"), std::string::npos) << next;
  EXPECT_EQ(ReadEvent(*client, 4)["version"], "0.1.3");
}

TEST_F(EventStreamTest, FiltersPassOnlyWhatTheyName) {
  Release("pair", "0.1.0", "key");
  Release("widget", "1.0.0", "gadget");
  Release("pair", "0.1.1");
  log_.Append(chain_.Next({PutOp("stats/dist.json", "{}")}, "stats", "", ""));
  Release("widget", "1.0.1", "key");
  Start();
  {
    auto client = Open("/feed?since=0&dist=PAIR");
    EXPECT_EQ(ReadEvent(*client, 1)["version"], "0.1.0");
    const std::string next = client->ReadUntil("\n\n");
    EXPECT_NE(next.find("id: 3\n"), std::string::npos) << "dist filter passed " << next;
  }
  {
    auto client = Open("/feed?since=0&tag=key");
    EXPECT_EQ(ReadEvent(*client, 1)["dist"], "pair");
    const std::string next = client->ReadUntil("\n\n");
    EXPECT_NE(next.find("id: 5\n"), std::string::npos) << "tag filter passed " << next;
  }
  {
    auto client = Open("/feed?since=0&kind=stats&kind=delete");
    const std::string next = client->ReadUntil("\nevent:");
    EXPECT_NE(next.find("id: 4\n"), std::string::npos) << "kind filter passed " << next;
  }
}

TEST_F(EventStreamTest, BadRequestsAreRefusedNamingTheProblem) {
  Release("pair", "0.1.0");
  log_.SetLogStart(0);
  Start();
  Client client(server_->port());
  for (const auto& [target, want] : std::vector<std::pair<std::string, std::string>>{
           {"/feed?since=abc", "since must be an event's seq"},
           {"/feed?since=-1", "since must be an event's seq"},
           {"/feed?colour=red", "Unknown parameter \"colour\""},
           {"/feed?kind=bogus", "bogus"},
           {"/feed?dist=", "empty"},
       }) {
    auto response = client.Get(target);
    EXPECT_EQ(response.result_int(), 400) << target;
    EXPECT_NE(response.body().find(want), std::string::npos) << target << ": " << response.body();
    EXPECT_EQ(response["Access-Control-Allow-Origin"], "*");
  }
  auto response = client.Get("/feed", {{"Last-Event-ID", "x"}});
  EXPECT_EQ(response.result_int(), 400);
}

TEST(EventStreamPreflightTest, AllowsAnyOriginToResumeWithLastEventId) {
  const gateway::Response response = EventStream::Preflight();
  EXPECT_EQ(response.status, 204);
  EXPECT_EQ(response.Header("access-control-allow-origin"), "*");
  EXPECT_NE(response.Header("access-control-allow-headers").find("Last-Event-ID"),
            absl::string_view::npos);
  EXPECT_NE(response.Header("access-control-allow-methods").find("GET"),
            absl::string_view::npos);
}

TEST_F(EventStreamTest, ResumingBeforeTheLogStartIsGone) {
  log_.SetLogStart(5);
  Start();
  Client client(server_->port());
  auto response = client.Get("/feed?since=3");
  EXPECT_EQ(response.result_int(), 410);
  EXPECT_NE(response.body().find("starts after seq 5"), std::string::npos) << response.body();
  // At the log start is fine (HEAD: the stream itself would not end).
  client.Send(http::verb::head, "/feed?since=5");
  EXPECT_EQ(client.Read(/*head=*/true).result_int(), 200);
}

TEST_F(EventStreamTest, AQuietStreamGetsHeartbeats) {
  EventStreamOptions options;
  options.heartbeat = absl::Milliseconds(50);
  Start(options);
  auto client = Open("/feed");
  client->ReadUntil("retry: 3000\n\n");
  // Each heartbeat is a chunk of its own: "3\r\n:\n\n\r\n".
  EXPECT_EQ(client->ReadUntil("\n\n"), "\r\n3\r\n:\n\n");
  EXPECT_EQ(client->ReadUntil("\n\n"), "\r\n3\r\n:\n\n");
}

// A client whose receive buffer is tiny and which stops reading: the
// server's writes back up, the log moves on, and when the client reads again
// what was sent is followed by the resume event and the end.
// A stream is never idle, so the HTTP server's eviction never frees one:
// the event stream caps them itself, per address and in all.
TEST_F(EventStreamTest, StreamsFromOneAddressAreCapped) {
  EventStreamOptions options;
  options.max_clients_per_address = 2;
  Start(options);
  auto first = Open("/feed");
  auto second = Open("/feed");
  EXPECT_NE(header_.find("200 OK"), std::string::npos) << header_;
  {
    auto third = Open("/feed");
    EXPECT_NE(header_.find("503"), std::string::npos) << header_;
    EXPECT_NE(header_.find("Retry-After: 10"), std::string::npos) << header_;
  }
  first.reset();  // its slot comes back once the server has closed it
  bool admitted = false;
  for (int i = 0; i < 600 && !admitted; ++i) {
    auto next = Open("/feed");
    admitted = header_.find("200 OK") != std::string::npos;
    if (!admitted) absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_TRUE(admitted) << header_;
}

// A node whose log starts over (a new epoch from the origin) must not serve
// the old log's events from its cache under the new log's seqs: its streams
// end, and a new one reads the new log.
TEST_F(EventStreamTest, WhenTheLogStartsOverStreamsEndAndTheCacheIsForgotten) {
  Release("pair", "0.1.0");
  Release("pair", "0.1.1");
  Start();
  auto client = Open("/feed?since=0");
  EXPECT_EQ(ReadEvent(*client, 1)["dist"], "pair");
  EXPECT_EQ(ReadEvent(*client, 2)["dist"], "pair");  // both in the cache now

  log_.StartOver();
  chain_ = feed::TestChain("fedcba9876543210fedcba9876543210");
  for (const char* version : {"2.0.0", "2.0.1", "2.0.2"}) Release("widget", version);
  client->ReadUntil("0\r\n\r\n");  // the old stream ends

  auto fresh = Open("/feed?since=0");
  for (uint64_t seq = 1; seq <= 3; ++seq) {
    nlohmann::json event = ReadEvent(*fresh, seq);
    EXPECT_EQ(event["dist"], "widget") << seq;
    EXPECT_EQ(event["version"], absl::StrCat("2.0.", seq - 1)) << seq;
  }
}

TEST_F(EventStreamTest, AClientThatFallsBehindIsToldWhereToResumeAndClosed) {
  EventStreamOptions options;
  options.max_lag = 5;
  Start(options);
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  const int small = 4096;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
  timeval timeout{60, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(server_->port());
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  const std::string request = "GET /feed HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_EQ(write(fd, request.data(), request.size()), static_cast<ssize_t>(request.size()));
  std::string received;
  char buffer[65536];
  while (received.find("retry: 3000") == std::string::npos) {
    const ssize_t n = read(fd, buffer, sizeof(buffer));
    ASSERT_GT(n, 0);
    received.append(buffer, n);
  }
  // Large events (a thousand files each, about 150 KB of JSON) fill the
  // socket's buffers within a few events. The first one is read whole, so
  // the client has caught up once; then it stops reading while 19 more come.
  auto append = [&](int i) {
    std::vector<v1::Op> ops;
    for (int f = 0; f < 1000; ++f) {
      ops.push_back(PutOp(absl::StrFormat("dist/big/1.0.%d/file-%04d.txt", i, f), "x"));
    }
    log_.Append(chain_.Next(std::move(ops), "release", "big", absl::StrCat("1.0.", i)));
  };
  append(0);
  while (received.find("\"meta_url\"") == std::string::npos) {
    const ssize_t n = read(fd, buffer, sizeof(buffer));
    ASSERT_GT(n, 0);
    received.append(buffer, n);
  }
  for (int i = 1; i < 20; ++i) append(i);
  for (;;) {
    const ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n <= 0) break;
    received.append(buffer, n);
    if (received.find("0\r\n\r\n", received.size() - std::min<size_t>(received.size(), n + 5)) !=
        std::string::npos) {
      break;
    }
  }
  close(fd);
  const std::string marker = "\nevent: resume\ndata: {\"after\":";
  const size_t resume = received.find(marker);
  ASSERT_NE(resume, std::string::npos) << received.substr(0, 300);
  const uint64_t after = std::stoull(received.substr(resume + marker.size()));
  EXPECT_GE(after, 1u);
  EXPECT_LT(after, 20u);
  // Everything up to `after` was sent, nothing past it; the resume message
  // carries `after` as its id, for EventSource to resume from.
  EXPECT_NE(received.find(absl::StrCat("id: ", after, "\nevent: release")), std::string::npos);
  EXPECT_NE(received.find(absl::StrCat("id: ", after, "\nevent: resume")), std::string::npos);
  EXPECT_EQ(received.find(absl::StrCat("id: ", after + 1, "\n")), std::string::npos);
  EXPECT_EQ(stream_->cutoffs(), 1u);
}

}  // namespace
}  // namespace pgxn::host
