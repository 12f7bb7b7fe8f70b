#include "tests/support/cluster.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "absl/algorithm/container.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "archive/archive.h"
#include "gtest/gtest.h"
#include "tests/support/wait.h"

namespace pgxn::testing {

std::string PgxndPath() { return PGXND_PATH; }

Node::Node(std::string role, std::string dir, std::vector<std::string> extra)
    : role_(std::move(role)), dir_(std::move(dir)), extra_(std::move(extra)) {}

Node::~Node() {
  if (process_ != nullptr) process_->Stop(SIGTERM);
}

Chain StartChain(const std::string& dir) {
  Chain chain;
  chain.origin = Node::Start("origin", dir + "/origin", {"--unsafe-no-fsync"});
  if (chain.origin == nullptr) return chain;
  chain.mirror =
      Node::Start("mirror", dir + "/mirror", {"--upstream", chain.origin->grpc_address()});
  if (chain.mirror == nullptr) return chain;
  chain.indexer =
      Node::Start("indexer", dir + "/indexer", {"--upstream", chain.mirror->grpc_address()});
  return chain;
}

std::unique_ptr<Node> Node::Start(const std::string& role, const std::string& dir,
                                  const std::vector<std::string>& extra) {
  auto node = std::unique_ptr<Node>(new Node(role, dir, extra));
  if (!node->Launch("127.0.0.1:0", "127.0.0.1:0", "")) return nullptr;
  return node;
}

namespace {

// Whether a listener could bind 127.0.0.1:`port` now (SO_REUSEADDR, as the
// nodes bind).
bool PortBindable(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool bound = ::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return bound;
}

// The port of "127.0.0.1:PORT" (0 when it is 0 or not that shape).
int PortOf(const std::string& address) {
  int port = 0;
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos || !absl::SimpleAtoi(address.substr(colon + 1), &port)) return 0;
  return port;
}

// The last `count` lines of `text`.
std::string LastLines(const std::string& text, size_t count) {
  std::vector<absl::string_view> lines = absl::StrSplit(text, '\n');
  if (lines.size() > count) lines.erase(lines.begin(), lines.end() - count);
  return absl::StrJoin(lines, "\n");
}

}  // namespace

bool Node::Launch(const std::string& http, const std::string& grpc, const std::string& site) {
  std::vector<std::string> argv = {PgxndPath(), role_, "--data-dir", dir_,
                                   "--http",    http,  "--grpc",     grpc};
  if (!site.empty()) argv.insert(argv.end(), {"--site", site});
  argv.insert(argv.end(), extra_.begin(), extra_.end());
  // Tests that count events or compare trees right after a change want the
  // aggregate files in the change's own event; tests of the deferred ones
  // say so.
  if (role_ == "origin" && absl::c_none_of(extra_, [](const std::string& arg) {
        return absl::StartsWith(arg, "--stats-delay") || absl::StartsWith(arg, "--aggregate-delay");
      })) {
    argv.push_back("--aggregate-delay=0");
  }
  const std::vector<int> fixed_ports = {PortOf(http), PortOf(grpc), PortOf(site)};
  const absl::Time deadline = absl::Now() + kWaitTimeout;
  for (;;) {
    std::filesystem::remove(dir_ + "/ports.json");
    const size_t log_before = Log().size();
    process_ = std::make_unique<Process>(argv, dir_ + ".log");
    bool listening = false;
    WaitUntil(
        [&] {
          const nlohmann::json ports =
              nlohmann::json::parse(ReadWholeFile(dir_ + "/ports.json"), nullptr, false);
          if (ports.is_object()) {
            http_port_ = ports.value("http", 0);
            grpc_port_ = ports.value("grpc", 0);
            site_port_ = ports.value("site", 0);
            listening = true;
          }
          return listening || !process_->Running();
        },
        std::max(deadline - absl::Now(), absl::ZeroDuration()));
    if (listening) return true;
    const std::string output = Log().substr(std::min(log_before, Log().size()));
    // A restart on the ports of an earlier life can find one of them taken
    // for a while by another process's connection (the kernel hands out
    // ports from the same range for outgoing connections once the node has
    // let go of them). Wait until the ports can be bound, then try again.
    if (!process_->Running() && absl::StrContains(output, "Address already in use") &&
        absl::Now() < deadline) {
      WaitUntil(
          [&] {
            return absl::c_all_of(fixed_ports,
                                  [](int port) { return port == 0 || PortBindable(port); });
          },
          std::max(deadline - absl::Now(), absl::ZeroDuration()));
      std::fprintf(stderr, "pgxnd %s: a port was in use; starting it again\n", role_.c_str());
      continue;
    }
    // The reason is at the end of this life's output; the whole log is in
    // the file (a CI summary may cut a long one short).
    std::fprintf(stderr, "pgxnd %s did not start (%s); the end of its output:\n%s\n(all of it: %s.log)\n",
                 role_.c_str(), process_->Running() ? "no ports.json in time" : "it exited",
                 LastLines(output, 30).c_str(), dir_.c_str());
    return false;
  }
}

int Node::Stop(int signal) { return process_->Stop(signal); }

pid_t Node::pid() const { return process_->pid(); }

bool Node::Restart() {
  // An indexer's site keeps its port too (its default follows --http's).
  const bool own_site = absl::c_any_of(
      extra_, [](const std::string& arg) { return absl::StartsWith(arg, "--site"); });
  return Launch(absl::StrCat("127.0.0.1:", http_port_), absl::StrCat("127.0.0.1:", grpc_port_),
                site_port_ == 0 || own_site ? "" : absl::StrCat("127.0.0.1:", site_port_));
}

std::string Node::url() const { return absl::StrCat("http://127.0.0.1:", http_port_); }
std::string Node::site_url() const {
  return site_port_ == 0 ? "" : absl::StrCat("http://127.0.0.1:", site_port_);
}
std::string Node::grpc_address() const { return absl::StrCat("127.0.0.1:", grpc_port_); }

nlohmann::json Node::Status() const {
  HttpResult result = Get("/_status");
  if (result.status != 200) return nlohmann::json();
  return nlohmann::json::parse(result.body, nullptr, false);
}

uint64_t Node::AppliedSeq() const {
  nlohmann::json status = Status();
  return status.is_object() ? status.value("applied_seq", uint64_t{0}) : 0;
}

bool Node::WaitForSeq(uint64_t seq) const {
  return WaitUntil([&] { return AppliedSeq() >= seq; });
}

nlohmann::json MakeMeta(const std::string& name, const std::string& version,
                        const std::string& abstract) {
  return nlohmann::json{
      {"name", name},
      {"version", version},
      {"abstract", abstract},
      {"maintainer", "Test Author <author@example.com>"},
      {"license", "postgresql"},
      {"provides",
       {{name, {{"file", "sql/" + name + ".sql"}, {"version", version}, {"abstract", abstract}}}}},
      {"meta-spec", {{"version", "1.0.0"}, {"url", "https://pgxn.org/meta/spec.txt"}}},
  };
}

std::string ZipOf(const std::vector<std::pair<std::string, std::string>>& files) {
  std::vector<archive::ArchiveEntry> entries;
  for (const auto& [path, content] : files) {
    archive::ArchiveEntry entry;
    entry.path = path;
    entry.type = archive::ArchiveEntry::Type::kFile;
    entry.data = content;
    entry.mtime = 1700000000;
    entry.mode = 0644;
    entries.push_back(std::move(entry));
  }
  absl::StatusOr<std::string> zip = archive::WriteZip(entries);
  return zip.ok() ? *zip : "";
}

std::string MakeDistZip(const nlohmann::json& meta, const std::vector<DistFile>& files) {
  const std::string top =
      absl::StrCat(meta.value("name", "dist"), "-", meta.value("version", "0.0.0"), "/");
  std::vector<std::pair<std::string, std::string>> entries = {{top + "META.json", meta.dump(2)}};
  for (const DistFile& file : files) entries.emplace_back(top + file.path, file.content);
  return ZipOf(entries);
}

std::map<std::string, std::string> Node::Tree() const {
  std::map<std::string, std::string> tree;
  HttpResult listing = Get("/_tree");
  EXPECT_EQ(listing.status, 200) << dir_ << "/_tree: " << listing.error;
  for (absl::string_view line : absl::StrSplit(listing.body, '\n', absl::SkipEmpty())) {
    std::pair<std::string, std::string> parts = absl::StrSplit(line, absl::MaxSplits("  ", 1));
    tree[parts.second] = parts.first;
  }
  return tree;
}

absl::StatusOr<std::vector<nlohmann::json>> TailEvents(const Node& node, uint64_t since) {
  RunResult tail = RunProgram(
      {PgxndPath(), "tail", "--upstream", node.grpc_address(), "--since", std::to_string(since)});
  if (tail.exit_code != 0) {
    return absl::UnknownError(
        absl::StrCat("pgxnd tail exited with ", tail.exit_code, ": ", tail.output));
  }
  std::vector<nlohmann::json> events;
  for (absl::string_view line : absl::StrSplit(tail.output, '\n', absl::SkipEmpty())) {
    nlohmann::json event = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!event.is_object()) {
      return absl::DataLossError(
          absl::StrCat("pgxnd tail printed a line that is not an event: ", line));
    }
    events.push_back(std::move(event));
  }
  return events;
}

absl::Time EventTime(const nlohmann::json& event) {
  absl::Time time;
  std::string error;
  const std::string text = event.is_object() ? event.value("time", "") : "";
  if (absl::ParseTime(absl::RFC3339_full, text, &time, &error)) return time;
  ADD_FAILURE() << "no event time in " << event << ": " << error;
  return absl::InfinitePast();
}

bool AddUser(const std::string& data_dir, const std::string& nickname,
             const std::string& password) {
  RunResult result =
      RunProgram({PgxndPath(), "user", "add", "--data-dir", data_dir, nickname, "--email",
                  nickname + "@example.com", "--name", "Test " + nickname, "--password-stdin"},
                 password + "\n");
  if (result.exit_code != 0) {
    std::fprintf(stderr, "pgxnd user add failed: %s\n", result.output.c_str());
  }
  return result.exit_code == 0;
}

UploadResult UploadWithCurl(const std::string& origin_url, const std::string& user,
                            const std::string& password, const std::string& zip,
                            const std::string& filename, const std::string& work_dir,
                            const std::vector<std::string>& extra_curl_args) {
  const std::string file = work_dir + "/" + filename;
  const std::string body = work_dir + "/upload-response";
  WriteWholeFile(file, zip);
  std::vector<std::string> argv = {"curl", "-sS", "-o", body, "-w", "%{http_code}"};
  if (!user.empty()) {
    argv.push_back("--user");
    argv.push_back(user + ":" + password);
  }
  argv.insert(argv.end(), {"-F", "submit=Release It!", "-F", "archive=@" + file, "-H",
                           "X-Requested-With: XMLHttpRequest"});
  argv.insert(argv.end(), extra_curl_args.begin(), extra_curl_args.end());
  argv.push_back(origin_url + "/upload");
  RunResult result = RunProgram(argv);
  UploadResult upload;
  if (!absl::SimpleAtoi(result.output, &upload.status)) upload.status = -1;
  upload.body = ReadWholeFile(body);
  if (upload.status <= 0) upload.body = result.output;
  return upload;
}

UploadResult UploadZip(const std::string& origin_url, const std::string& user,
                       const std::string& password, const std::string& zip,
                       const std::string& filename) {
  // Archives are made by the tests; none holds this line.
  const std::string boundary = "pgxnd-test-boundary-6f1c2a9e0b7d";
  const std::string body = absl::StrCat(
      "--", boundary,
      "\r\nContent-Disposition: form-data; name=\"submit\"\r\n\r\nRelease It!\r\n--", boundary,
      "\r\nContent-Disposition: form-data; name=\"archive\"; filename=\"", filename,
      "\"\r\nContent-Type: application/zip\r\n\r\n", zip, "\r\n--", boundary, "--\r\n");
  HttpResult result = HttpPost(
      origin_url + "/upload", body,
      {BasicAuthHeader(user, password), "Content-Type: multipart/form-data; boundary=" + boundary,
       "X-Requested-With: XMLHttpRequest", "Expect:"});
  UploadResult upload;
  upload.status = static_cast<int>(result.status);
  upload.body = result.status == 0 ? result.error : result.body;
  return upload;
}

absl::Status PublishReleases(const std::string& origin_url, const std::string& user,
                             const std::string& password, const std::string& prefix, int first,
                             int count, int threads) {
  std::atomic<int> next{first};
  absl::Mutex mu;
  absl::Status failure;
  auto work = [&] {
    while (true) {
      const int i = next++;
      if (i >= first + count) return;
      {
        absl::MutexLock lock(&mu);
        if (!failure.ok()) return;
      }
      const std::string name = absl::StrCat(prefix, i);
      const std::string zip = MakeDistZip(
          MakeMeta(name, "1.0.0", absl::StrCat("Release ", i, " of ", prefix)),
          {{"README.md", absl::StrCat(name, "\n", std::string(name.size() + 1, '='), "\n")},
           {"sql/" + name + ".sql", absl::StrCat("SELECT ", i, ";\n")}});
      const std::string filename = name + "-1.0.0.zip";
      UploadResult result = UploadZip(origin_url, user, password, zip, filename);
      if (result.status != 200) {
        absl::MutexLock lock(&mu);
        if (failure.ok()) {
          failure =
              absl::UnknownError(absl::StrCat(filename, ": ", result.status, " ", result.body));
        }
        return;
      }
    }
  };
  std::vector<std::thread> workers;
  for (int t = 0; t < std::max(threads, 1); ++t) workers.emplace_back(work);
  for (std::thread& worker : workers) worker.join();
  return failure;
}

}  // namespace pgxn::testing
