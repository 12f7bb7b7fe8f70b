#include "host/access_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/log.h"

namespace pgxn::host {
namespace {

constexpr size_t kFlushAt = 64 * 1024;
constexpr absl::Duration kFlushEvery = absl::Seconds(1);

// A field a client sent, quoted-safe: CEscape writes quotes, backslashes,
// control and non-ASCII bytes as escapes.
std::string Quoted(absl::string_view value) {
  if (value.empty()) return "-";
  return absl::CEscape(value);
}

absl::StatusOr<int> OpenPath(const std::string& path) {
  if (path == "-") return ::dup(STDERR_FILENO);
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("Cannot open the access log ", path, ": ", std::strerror(errno)));
  }
  return fd;
}

}  // namespace

std::string AccessLog::Line(const gateway::Request& request, const gateway::Response& response,
                            absl::Duration took, absl::Time now) {
  std::string bytes = "-";
  if (!response.push) {
    bytes = absl::StrCat(response.stream ? response.stream_size : response.body.size());
  }
  const absl::string_view address = request.RemoteIp();
  return absl::StrFormat(
      "%s - - [%s] \"%s %s HTTP/%d.%d\" %d %s \"%s\" \"%s\" %.6f",
      address.empty() ? "-" : absl::CEscape(address),
      absl::FormatTime("%d/%b/%Y:%H:%M:%S +0000", now, absl::UTCTimeZone()),
      absl::CEscape(request.method), absl::CEscape(request.target), request.version / 10,
      request.version % 10, response.status, bytes, Quoted(request.Header("referer")),
      Quoted(request.Header("user-agent")), absl::ToDoubleSeconds(took));
}

absl::StatusOr<std::unique_ptr<AccessLog>> AccessLog::Open(const std::string& path) {
  absl::StatusOr<int> fd = OpenPath(path);
  if (!fd.ok()) return fd.status();
  std::unique_ptr<AccessLog> log(new AccessLog(path, *fd));
  log->writer_ = std::thread([raw = log.get()] { raw->Run(); });
  return log;
}

AccessLog::AccessLog(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}

AccessLog::~AccessLog() {
  Stop();
  absl::MutexLock lock(&write_mu_);
  ::close(fd_);
}

void AccessLog::Record(const gateway::Request& request, const gateway::Response& response,
                       absl::Duration took, absl::Time now) {
  std::string line = Line(request, response, took, now);
  line.push_back('\n');
  bool flush = false;
  {
    absl::MutexLock lock(&mu_);
    buffer_.append(line);
    flush = stopping_ || buffer_.size() >= kFlushAt;
  }
  if (flush) Flush();
}

void AccessLog::Flush() {
  std::string out;
  absl::MutexLock write_lock(&write_mu_);
  {
    absl::MutexLock lock(&mu_);
    out.swap(buffer_);
  }
  if (!out.empty()) Write(out);
}

void AccessLog::Write(const std::string& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd_, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (!failing_) {
        base::LogError(absl::StrCat("Cannot write the access log ", path_, ": ",
                                    std::strerror(errno), "; lines are dropped until it works"));
      }
      failing_ = true;
      return;
    }
    done += static_cast<size_t>(n);
  }
  failing_ = false;
}

absl::Status AccessLog::Reopen() {
  absl::StatusOr<int> fd = OpenPath(path_);
  if (!fd.ok()) return fd.status();
  Flush();  // what was recorded before goes to the old file
  absl::MutexLock write_lock(&write_mu_);
  ::close(std::exchange(fd_, *fd));
  failing_ = false;
  return absl::OkStatus();
}

void AccessLog::Run() {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(&stopping_), kFlushEvery);
      if (stopping_) return;  // Stop flushes what is left
    }
    Flush();
  }
}

void AccessLog::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (writer_.joinable()) writer_.join();
  Flush();
}

}  // namespace pgxn::host
