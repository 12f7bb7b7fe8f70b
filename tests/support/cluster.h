// Test support: pgxnd nodes as real processes on port 0 in temp dirs, and the
// releases uploaded to them.
#ifndef PGXN_TESTS_SUPPORT_CLUSTER_H_
#define PGXN_TESTS_SUPPORT_CLUSTER_H_

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tests/support/http_client.h"
#include "tests/support/process.h"

namespace pgxn::testing {

// The pgxnd binary under test (set by CMake).
std::string PgxndPath();

class Node {
 public:
  // Starts `pgxnd ROLE --data-dir DIR --http 127.0.0.1:0 --grpc 127.0.0.1:0
  // EXTRA...` and waits for DIR/ports.json. The log goes to DIR.log.
  // Returns null (after printing the log) if it exits first or does not come
  // up within kWaitTimeout.
  static std::unique_ptr<Node> Start(const std::string& role, const std::string& dir,
                                     const std::vector<std::string>& extra);
  ~Node();

  // Stops the process with `signal` and returns its exit code.
  int Stop(int signal);
  // Starts it again with the same flags and the same ports, so nodes that
  // follow it find it where it was. If a port is briefly held by another
  // process's connection (the kernel reuses a freed listener's port for
  // outgoing connections), waits until it is free and starts it again.
  bool Restart();

  const std::string& dir() const { return dir_; }
  std::string url() const;           // http://127.0.0.1:PORT
  std::string grpc_address() const;  // 127.0.0.1:PORT
  int http_port() const { return http_port_; }
  pid_t pid() const;
  // The website's listener (an indexer's "site" in ports.json), e.g.
  // http://127.0.0.1:PORT; empty when the node serves no site.
  std::string site_url() const;

  HttpResult Get(const std::string& path) const { return HttpGet(url() + path); }
  nlohmann::json Status() const;
  // Path → sha256 hex, from /_tree (empty, with a test failure, if that fails).
  std::map<std::string, std::string> Tree() const;
  uint64_t AppliedSeq() const;
  // Waits (WaitUntil) until /_status shows applied_seq >= seq; false if it
  // does not within kWaitTimeout.
  bool WaitForSeq(uint64_t seq) const;
  std::string Log() const { return ReadWholeFile(dir_ + ".log"); }

 private:
  Node(std::string role, std::string dir, std::vector<std::string> extra);
  // `site` (HOST:PORT) is passed as --site unless empty.
  bool Launch(const std::string& http, const std::string& grpc, const std::string& site);

  std::string role_;
  std::string dir_;
  std::vector<std::string> extra_;
  std::unique_ptr<Process> process_;
  int http_port_ = 0;
  int grpc_port_ = 0;
  int site_port_ = 0;
};

// An origin (without fsync), a mirror following it and an indexer following
// the mirror, in DIR/origin, DIR/mirror and DIR/indexer: the network most
// multi-process tests need. From the first node that does not start, the
// members are null (its log was printed).
struct Chain {
  std::unique_ptr<Node> origin;
  std::unique_ptr<Node> mirror;
  std::unique_ptr<Node> indexer;
};
Chain StartChain(const std::string& dir);

// One file of a test distribution.
struct DistFile {
  std::string path;  // relative to the distribution's top directory
  std::string content;
};

// A zip laid out as PGXN expects: every file under NAME-VERSION/, with a
// META.json made from `meta` (name and version are taken from it).
std::string MakeDistZip(const nlohmann::json& meta, const std::vector<DistFile>& files);

// A zip holding exactly these (path, content) files.
std::string ZipOf(const std::vector<std::pair<std::string, std::string>>& files);

// A valid Meta Spec v1 document for one extension of the same name.
nlohmann::json MakeMeta(const std::string& name, const std::string& version,
                        const std::string& abstract);

// The events `pgxnd tail --upstream NODE --since SINCE` prints, parsed; an
// error with the tool's output if it fails or prints something else.
absl::StatusOr<std::vector<nlohmann::json>> TailEvents(const Node& node, uint64_t since);

// When the origin made an event (one of TailEvents'), by the origin's clock:
// before its transaction committed and before any node could receive it.
// InfinitePast, with a test failure, if it has no time.
absl::Time EventTime(const nlohmann::json& event);

// `pgxnd user add` on the origin's data dir; true on success.
bool AddUser(const std::string& data_dir, const std::string& nickname, const std::string& password);

struct UploadResult {
  int status = 0;
  std::string body;
};

// Uploads `zip` with the curl binary exactly as pgxn-release does:
// curl --user U:P -F 'submit=Release It!' -F archive=@FILE
//      -H 'X-Requested-With: XMLHttpRequest' ORIGIN/upload
UploadResult UploadWithCurl(const std::string& origin_url, const std::string& user,
                            const std::string& password, const std::string& zip,
                            const std::string& filename, const std::string& work_dir,
                            const std::vector<std::string>& extra_curl_args = {});

// Uploads `zip` as pgxn-release does, but from this process (a multipart
// POST with libcurl, no curl binary): quicker when a test publishes many.
UploadResult UploadZip(const std::string& origin_url, const std::string& user,
                       const std::string& password, const std::string& zip,
                       const std::string& filename);

// Publishes `count` releases, PREFIX<first> 1.0.0 to PREFIX<first+count-1>
// 1.0.0, each a small distribution of three files, over `threads` concurrent
// uploads; stops at the first refusal and returns it (e.g. "prefix7-1.0.0.zip:
// 409 ...").
absl::Status PublishReleases(const std::string& origin_url, const std::string& user,
                             const std::string& password, const std::string& prefix, int first,
                             int count, int threads);

}  // namespace pgxn::testing

#endif  // PGXN_TESTS_SUPPORT_CLUSTER_H_
