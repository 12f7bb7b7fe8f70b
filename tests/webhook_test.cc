// Webhooks from a real origin (embedded PostgreSQL, port 0) to a receiver
// run as a subprocess (tests/webhook_receiver.py) that verifies every
// signature with Python's own hmac and hashlib and logs each request. The
// receiver fails, answers slowly, hangs, redirects and goes away across a
// restart of the origin; the tests wait for conditions, never for time.
#include <csignal>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/temp_dir.h"
#include "gtest/gtest.h"
#include "tests/support/cluster.h"
#include "tests/support/http_client.h"
#include "tests/support/process.h"
#include "tests/support/wait.h"

namespace pgxn::testing {
namespace {

using Json = nlohmann::json;

constexpr char kUser[] = "theory";
constexpr char kPassword[] = "correct horse battery";

// The receiver subprocess and what it logged.
class Receiver {
 public:
  Receiver(const std::string& dir, int port = 0) : dir_(dir) { Start(port); }

  void Start(int port) {
    const std::string port_file = dir_ + "/receiver.port";
    std::remove(port_file.c_str());
    process_ = std::make_unique<Process>(
        std::vector<std::string>{"python3", WEBHOOK_RECEIVER, "--port", absl::StrCat(port),
                                 "--port-file", port_file, "--log", dir_ + "/receiver.jsonl"},
        dir_ + "/receiver.log");
    EXPECT_TRUE(WaitUntil([&] { return !ReadWholeFile(port_file).empty(); }))
        << ReadWholeFile(dir_ + "/receiver.log");
    EXPECT_TRUE(absl::SimpleAtoi(ReadWholeFile(port_file), &port_));
    // A new process knows no secrets: tell it those of the hooks so far.
    for (const auto& [path, secret] : secrets_) Control("/_secret?path=" + path, secret);
  }
  void SetSecret(const std::string& path, const std::string& secret) {
    secrets_[path] = secret;
    Control("/_secret?path=" + path, secret);
  }
  void Stop() { process_->Stop(SIGKILL); }

  std::string Url(const std::string& path) const {
    return absl::StrCat("http://127.0.0.1:", port_, path);
  }
  int port() const { return port_; }

  void Control(const std::string& target, const std::string& body = "") {
    HttpResult result = HttpPost(Url(target), body, {"Content-Type: text/plain"});
    ASSERT_EQ(result.status, 200) << target << ": " << result.error;
  }

  std::vector<Json> Entries() const {
    std::vector<Json> entries;
    for (absl::string_view line :
         absl::StrSplit(ReadWholeFile(dir_ + "/receiver.jsonl"), '\n', absl::SkipEmpty())) {
      Json entry = Json::parse(line, nullptr, false);
      if (entry.is_object()) entries.push_back(std::move(entry));
    }
    return entries;
  }
  // Answered requests (not "hang-start") to `path`.
  std::vector<Json> At(const std::string& path) const {
    std::vector<Json> at;
    for (Json& entry : Entries()) {
      if (entry["path"] == path && entry["status"] != "hang-start") at.push_back(std::move(entry));
    }
    return at;
  }
  // The dists of the releases `path` acknowledged with a 2xx, in arrival order.
  std::vector<std::string> Delivered(const std::string& path) const {
    std::vector<std::string> dists;
    for (const Json& entry : At(path)) {
      if (entry["status"] == 200 && entry["type"] == "release.published") {
        dists.push_back(entry["dist"]);
      }
    }
    return dists;
  }

 private:
  std::string dir_;
  std::map<std::string, std::string> secrets_;  // by path
  std::unique_ptr<Process> process_;
  int port_ = 0;
};

// Distinct values in first-arrival order: at-least-once delivery may repeat
// an event, never reorder it.
std::vector<std::string> Distinct(const std::vector<std::string>& values) {
  std::vector<std::string> out;
  for (const std::string& v : values) {
    if (out.empty() || out.back() != v) out.push_back(v);
  }
  return out;
}

class WebhookTest : public ::testing::Test {
 protected:
  void StartOrigin(const std::vector<std::string>& flags) {
    std::vector<std::string> all{"--unsafe-no-fsync"};
    all.insert(all.end(), flags.begin(), flags.end());
    origin_ = Node::Start("origin", dir_.path() + "/origin", all);
    ASSERT_NE(origin_, nullptr);
    ASSERT_TRUE(AddUser(dir_.path() + "/origin", kUser, kPassword));
  }

  HttpResult Api(const std::string& method, const std::string& path, const Json& body = nullptr) {
    std::vector<std::string> headers{BasicAuthHeader(kUser, kPassword), "Accept: application/json"};
    if (!body.is_null()) headers.push_back("Content-Type: application/json");
    return HttpRequest(method, origin_->url() + path, body.is_null() ? "" : body.dump(), headers);
  }

  // Registers a hook and tells the receiver its secret; returns its id.
  int64_t Register(Receiver& receiver, const std::string& path, Json filters = Json::object()) {
    filters["url"] = receiver.Url(path);
    HttpResult result = Api("POST", "/account/webhooks", filters);
    EXPECT_EQ(result.status, 201) << result.body;
    Json doc = Json::parse(result.body, nullptr, false);
    if (!doc.is_object() || !doc.contains("secret")) return 0;
    receiver.SetSecret(path, doc["secret"].get<std::string>());
    return doc["id"].get<int64_t>();
  }

  Json Hooks() {
    HttpResult result = Api("GET", "/account/webhooks");
    EXPECT_EQ(result.status, 200) << result.body;
    return Json::parse(result.body, nullptr, false);
  }
  Json Hook(int64_t id) {
    for (const Json& hook : Hooks()) {
      if (hook["id"] == id) return hook;
    }
    return nullptr;
  }

  void Upload(const std::string& name) {
    UploadResult result = UploadZip(
        origin_->url(), kUser, kPassword,
        MakeDistZip(MakeMeta(name, "1.0.0", "A test distribution"), {{"README", "Read me.\n"}}),
        name + "-1.0.0.zip");
    ASSERT_EQ(result.status, 200) << result.body;
  }

  base::TempDir dir_;
  std::unique_ptr<Node> origin_;
};

TEST_F(WebhookTest, EveryEventArrivesSignedInOrderThroughFailuresAndARestart) {
  ASSERT_NO_FATAL_FAILURE(
      StartOrigin({"--webhook-allow-private", "--webhook-retry-base", "100ms"}));
  Receiver receiver(dir_.path());
  const int64_t ok = Register(receiver, "/ok");
  Register(receiver, "/flaky", Json{{"kind", {"release"}}});
  const int64_t slow = Register(receiver, "/slow", Json{{"kind", "release"}});
  Register(receiver, "/ok-pair", Json{{"dist", {"pair"}}});
  receiver.Control("/_fail?path=/flaky&count=3");

  for (const char* name : {"alpha", "pair", "gamma"}) ASSERT_NO_FATAL_FAILURE(Upload(name));
  const std::vector<std::string> first{"alpha", "pair", "gamma"};
  for (const char* path : {"/ok", "/flaky", "/slow"}) {
    ASSERT_TRUE(WaitUntil([&] { return Distinct(receiver.Delivered(path)) == first; }))
        << path << ": " << Json(receiver.At(path)).dump();
  }
  ASSERT_TRUE(WaitUntil([&] {
    return receiver.Delivered("/ok-pair") == std::vector<std::string>{"pair"};
  })) << Json(receiver.At("/ok-pair")).dump();

  // Every request carried a valid signature; a message keeps its id across
  // attempts, and each event has its own.
  std::map<std::string, std::set<std::string>> ids_by_dist;
  for (const Json& entry : receiver.Entries()) {
    EXPECT_TRUE(entry["valid"].get<bool>()) << entry.dump();
    EXPECT_TRUE(absl::StartsWith(entry["id"].get<std::string>(), "msg_")) << entry.dump();
    if (entry["path"] == "/flaky") ids_by_dist[entry["dist"]].insert(entry["id"]);
  }
  EXPECT_EQ(receiver.At("/flaky").size(), 6u) << Json(receiver.At("/flaky")).dump();
  for (const auto& [dist, ids] : ids_by_dist) EXPECT_EQ(ids.size(), 1u) << dist;
  // The failures are in the hook's history with the attempt that followed.
  Json flaky_history = Hooks()[1]["deliveries"];
  bool saw_500 = false;
  for (const Json& d : flaky_history) saw_500 = saw_500 || d["status"] == 500;
  EXPECT_TRUE(saw_500) << flaky_history.dump();
  EXPECT_EQ(Hook(ok)["deliveries"][0]["status"], 200);

  // The receiver goes away; events keep coming; the origin restarts; the
  // receiver comes back: nothing is lost.
  receiver.Stop();
  ASSERT_NO_FATAL_FAILURE(Upload("delta"));
  ASSERT_NO_FATAL_FAILURE(Upload("epsilon"));
  ASSERT_TRUE(WaitUntil([&] {
    Json hook = Hook(ok);
    return hook.is_object() && !hook["deliveries"].empty() &&
           hook["deliveries"][0]["status"].is_null() && hook["failures"].get<int>() > 0;
  })) << Hook(ok).dump();
  EXPECT_TRUE(
      absl::StrContains(Hook(ok)["deliveries"][0]["error"].get<std::string>(), "Cannot connect"))
      << Hook(ok).dump();
  ASSERT_EQ(origin_->Stop(SIGTERM), 0);
  receiver.Start(receiver.port());
  ASSERT_TRUE(origin_->Restart());
  const std::vector<std::string> all{"alpha", "pair", "gamma", "delta", "epsilon"};
  for (const char* path : {"/ok", "/flaky", "/slow"}) {
    ASSERT_TRUE(WaitUntil([&] { return Distinct(receiver.Delivered(path)) == all; }))
        << path << ": " << Json(receiver.At(path)).dump();
  }

  for (const Json& entry : receiver.Entries()) {
    EXPECT_TRUE(entry["valid"].get<bool>()) << entry.dump();
  }
  // What a hook acknowledged before the restart is not sent again: its
  // cursor was in its row.
  EXPECT_EQ(receiver.Delivered("/ok"), all);
  // The attempts at an event go on counting across the restart: the one
  // that got through is numbered after every failed one.
  Json history = Hook(ok)["deliveries"];
  bool retried = false;
  for (const Json& success : history) {
    if (success["status"] != 200) continue;
    int failed = 0;
    for (const Json& d : history) {
      if (d["message_id"] == success["message_id"] && d["status"].is_null()) ++failed;
    }
    if (failed == 0) continue;
    retried = true;
    EXPECT_EQ(success["attempt"].get<int>(), failed + 1) << history.dump();
  }
  EXPECT_TRUE(retried) << history.dump();

  // A test ping reaches the hook, signed.
  HttpResult ping = Api("POST", absl::StrCat("/account/webhooks/", ok, "/test"));
  EXPECT_EQ(ping.status, 202) << ping.body;
  ASSERT_TRUE(WaitUntil([&] {
    for (const Json& entry : receiver.At("/ok")) {
      if (entry["type"] == "webhook.ping") return entry["valid"].get<bool>();
    }
    return false;
  }));

  // A deleted hook gets nothing more.
  EXPECT_EQ(Api("DELETE", absl::StrCat("/account/webhooks/", slow)).status, 200);
  EXPECT_EQ(Api("DELETE", absl::StrCat("/account/webhooks/", slow)).status, 404);
  const size_t slow_before = receiver.At("/slow").size();
  ASSERT_NO_FATAL_FAILURE(Upload("zeta"));
  ASSERT_NO_FATAL_FAILURE(Upload("eta"));
  ASSERT_TRUE(
      WaitUntil([&] { return Distinct(receiver.Delivered("/flaky")).size() == all.size() + 2; }));
  ASSERT_TRUE(
      WaitUntil([&] { return Distinct(receiver.Delivered("/ok")).size() == all.size() + 2; }));
  EXPECT_EQ(receiver.At("/slow").size(), slow_before);

  // A redirect is an answer, not a hop: the hook records a failure and the
  // receiver never sees the target.
  const int64_t redirect = Register(receiver, "/redirect", Json{{"kind", "release"}});
  ASSERT_NO_FATAL_FAILURE(Upload("theta"));
  ASSERT_TRUE(WaitUntil([&] {
    Json hook = Hook(redirect);
    return hook.is_object() && !hook["deliveries"].empty();
  }));
  Json attempt = Hook(redirect)["deliveries"][0];
  EXPECT_EQ(attempt["status"], 302) << attempt.dump();
  EXPECT_TRUE(absl::StrContains(attempt["error"].get<std::string>(), "redirects are not followed"))
      << attempt.dump();
  EXPECT_TRUE(receiver.At("/redirected").empty());

  const std::string metrics = origin_->Get("/metrics").body;
  EXPECT_TRUE(absl::StrContains(metrics, "pgxn_webhook_deliveries_total{outcome=\"delivered\""))
      << metrics;
  EXPECT_TRUE(absl::StrContains(metrics, "pgxn_webhook_delivery_seconds_bucket")) << metrics;
}

TEST_F(WebhookTest, AHangingReceiverDelaysNeitherUploadsNorOtherHooks) {
  ASSERT_NO_FATAL_FAILURE(StartOrigin(
      {"--webhook-allow-private", "--webhook-workers", "2", "--webhook-timeout", "5m"}));
  Receiver receiver(dir_.path());
  const int64_t hang = Register(receiver, "/hang", Json{{"kind", "release"}});
  Register(receiver, "/ok", Json{{"kind", "release"}});

  ASSERT_NO_FATAL_FAILURE(Upload("one"));
  ASSERT_TRUE(WaitUntil([&] {
    for (const Json& entry : receiver.Entries()) {
      if (entry["status"] == "hang-start") return true;
    }
    return false;
  }));
  // While the receiver of /hang holds its delivery, uploads complete and
  // the other hook gets every event.
  for (const char* name : {"two", "three", "four"}) ASSERT_NO_FATAL_FAILURE(Upload(name));
  const std::vector<std::string> all{"one", "two", "three", "four"};
  ASSERT_TRUE(WaitUntil([&] { return Distinct(receiver.Delivered("/ok")) == all; }));
  EXPECT_TRUE(receiver.At("/hang").empty()) << "the hanging receiver answered";

  // Tests queue behind the delivery in flight, up to the cap.
  const std::string test_path = absl::StrCat("/account/webhooks/", hang, "/test");
  EXPECT_EQ(Api("POST", test_path).status, 202);
  EXPECT_EQ(Api("POST", test_path).status, 202);
  HttpResult third = Api("POST", test_path);
  EXPECT_EQ(third.status, 429) << third.body;
  EXPECT_TRUE(absl::StrContains(third.body, "test deliveries pending")) << third.body;

  receiver.Control("/_release");
  ASSERT_TRUE(WaitUntil([&] { return Distinct(receiver.Delivered("/hang")) == all; }))
      << Json(receiver.At("/hang")).dump();
}

TEST_F(WebhookTest, PrivateTargetsAreRefusedAndAFailingHookIsDisabledWithOneMail) {
  ASSERT_NO_FATAL_FAILURE(
      StartOrigin({"--webhook-disable-after", "1s", "--webhook-retry-base", "100ms"}));
  HttpResult refused = Api("POST", "/account/webhooks", Json{{"url", "http://127.0.0.1:9/hook"}});
  EXPECT_EQ(refused.status, 400) << refused.body;
  EXPECT_TRUE(absl::StrContains(refused.body,
                                "127.0.0.1 is a loopback address; webhooks go to public "
                                "addresses only"))
      << refused.body;
  HttpResult bad = Api("POST", "/account/webhooks", Json{{"url", "gopher://example.org/"}});
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_TRUE(absl::StrContains(bad.body, "is not http or https")) << bad.body;
  HttpResult unauthenticated = HttpGet(origin_->url() + "/account/webhooks");
  EXPECT_EQ(unauthenticated.status, 401);

  // Form bodies work too, each filter repeated (.invalid never resolves:
  // nothing leaves the machine).
  HttpResult form = HttpRequest(
      "POST", origin_->url() + "/account/webhooks",
      "url=https%3A%2F%2Fhooks.example.invalid%2Fpgxn&kind=mirrors&kind=delete&tag=json",
      {BasicAuthHeader(kUser, kPassword), "Accept: application/json",
       "Content-Type: application/x-www-form-urlencoded"});
  ASSERT_EQ(form.status, 201) << form.body;
  const Json by_form = Json::parse(form.body);
  EXPECT_EQ(by_form["url"], "https://hooks.example.invalid/pgxn");
  EXPECT_EQ(by_form["filters"]["kind"], Json({"mirrors", "delete"}));
  EXPECT_EQ(by_form["filters"]["tag"], Json({"json"}));
  EXPECT_EQ(Api("DELETE", absl::StrCat("/account/webhooks/", by_form["id"].get<int64_t>())).status,
            200);

  // A name is checked on what it resolves to, at each delivery.
  HttpResult created = Api("POST", "/account/webhooks", Json{{"url", "http://localhost:9/hook"}});
  ASSERT_EQ(created.status, 201) << created.body;
  const int64_t id = Json::parse(created.body)["id"];
  EXPECT_FALSE(absl::StrContains(Hooks().dump(), "whsec_")) << "a listing shows a secret";
  ASSERT_NO_FATAL_FAILURE(Upload("private"));
  ASSERT_TRUE(WaitUntil([&] {
    Json hook = Hook(id);
    return hook.is_object() && !hook["enabled"].get<bool>();
  })) << Hook(id).dump();
  Json hook = Hook(id);
  ASSERT_FALSE(hook["deliveries"].empty());
  const std::string error = hook["deliveries"][0]["error"];
  EXPECT_EQ(error, "localhost has no public address: webhooks go to public addresses only");
  EXPECT_TRUE(absl::StrContains(origin_->Log(), "Webhook target refused: localhost resolves to "))
      << "the operator's log names what it resolved to";

  RunResult mails = RunProgram({PgxndPath(), "mail", "list", "--data-dir", origin_->dir()});
  EXPECT_EQ(mails.exit_code, 0) << mails.output;
  size_t notices = 0;
  for (size_t at = mails.output.find("Your PGXN webhook was disabled"); at != std::string::npos;
       at = mails.output.find("Your PGXN webhook was disabled", at + 1)) {
    ++notices;
  }
  EXPECT_EQ(notices, 1u) << mails.output;
  const std::string metrics = origin_->Get("/metrics").body;
  EXPECT_TRUE(absl::StrContains(metrics, "pgxn_webhooks_disabled_total{role=\"origin\"} 1"))
      << metrics;
  EXPECT_TRUE(absl::StrContains(metrics, "outcome=\"refused\"")) << metrics;

  EXPECT_EQ(Api("POST", absl::StrCat("/account/webhooks/", id, "/test")).status, 409);
  EXPECT_EQ(Api("POST", absl::StrCat("/account/webhooks/", id, "/enable")).status, 200);
  EXPECT_TRUE(Hook(id)["enabled"].get<bool>());
  EXPECT_EQ(Api("POST", absl::StrCat("/account/webhooks/", id, "/enable")).status, 409)
      << "enabling an enabled hook would reset failures the dispatcher still counts";
  EXPECT_EQ(Api("POST", "/account/webhooks/999999/enable").status, 404);
}

}  // namespace
}  // namespace pgxn::testing
