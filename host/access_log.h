// The per-request log a node writes with --access-log (docs/operating.md,
// "Logs"): one line per request answered, in the Combined Log Format that
// log tools read, with the handler's time appended:
//
//   ADDRESS - - [04/Dec/2026:08:15:00 +0000] "GET /dist/pair.json HTTP/1.1" 200 656
//     "REFERER" "USER-AGENT" 0.000123
//
// (one line). What a client sent (target, Referer, User-Agent) is escaped
// (quotes, backslashes, control and non-ASCII bytes as C escapes), so a line
// is always one line and its quoted fields always parse. No credentials and
// no query values beyond the target's are written. The byte count is the
// response body's ("-" for an event stream, whose length is open); the
// time is the handler's, not the sending's.
//
// Lines are buffered and written by a background thread at least once a
// second (and whenever 64 KiB are waiting), so a request never waits on the
// disk; Stop writes what is left. Reopen (SIGHUP) opens the path again, for
// logrotate. Thread-safe.
#ifndef PGXN_HOST_ACCESS_LOG_H_
#define PGXN_HOST_ACCESS_LOG_H_

#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "gateway/http.h"

namespace pgxn::host {

class AccessLog {
 public:
  // Opens `path` for appending (created 0640 if missing); "-" is stderr.
  // InvalidArgument naming the path if it cannot be opened.
  static absl::StatusOr<std::unique_ptr<AccessLog>> Open(const std::string& path);
  ~AccessLog();
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  void Record(const gateway::Request& request, const gateway::Response& response,
              absl::Duration took, absl::Time now);
  // Writes what is buffered now (tests; Stop).
  void Flush();
  // Opens the path again (after logrotate moved it); the old file is kept
  // open if the path cannot be opened, and the error returned.
  absl::Status Reopen();
  // Writes what is left and stops the writer thread. Record after Stop is
  // written at once. Call from one thread (the owner's).
  void Stop();

  // The line Record writes for this request, without its newline.
  static std::string Line(const gateway::Request& request, const gateway::Response& response,
                          absl::Duration took, absl::Time now);

 private:
  AccessLog(std::string path, int fd);
  void Run();
  // Writes `bytes` to the file; errors go to stderr once per burst.
  void Write(const std::string& bytes) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);

  const std::string path_;
  absl::Mutex write_mu_;  // the file; taken before mu_ (Flush)
  absl::Mutex mu_ ABSL_ACQUIRED_AFTER(write_mu_);  // the buffer, and stopping
  std::string buffer_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  int fd_ ABSL_GUARDED_BY(write_mu_);
  bool failing_ ABSL_GUARDED_BY(write_mu_) = false;
  std::thread writer_;
};

}  // namespace pgxn::host

#endif  // PGXN_HOST_ACCESS_LOG_H_
