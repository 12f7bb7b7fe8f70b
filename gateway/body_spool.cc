#include "gateway/body_spool.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"

namespace pgxn::gateway {
namespace {

std::string SpoolDir(const std::string& dir) {
  if (!dir.empty()) return dir;
  const char* tmp = std::getenv("TMPDIR");
  return tmp != nullptr && tmp[0] != '\0' ? tmp : "/tmp";
}

absl::Status SpoolError(absl::string_view what, const std::string& dir, int err) {
  return absl::UnavailableError(absl::StrCat("Cannot ", what, " a request body's temp file in ",
                                             dir, ": ", std::strerror(err)));
}

// A read-only mapping of a spooled body, unmapped with the last RequestBody
// that shares it (and with it the unlinked file's last reference).
class Mapping {
 public:
  Mapping(void* address, size_t size) : address_(address), size_(size) {}
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  ~Mapping() { munmap(address_, size_); }

  absl::string_view bytes() const {
    return absl::string_view(static_cast<const char*>(address_), size_);
  }

 private:
  void* const address_;
  const size_t size_;
};

}  // namespace

absl::StatusOr<int> OpenUnlinkedTempFile(const std::string& dir_option) {
  const std::string dir = SpoolDir(dir_option);
  int fd = open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0) return fd;
  // Kernels and file systems without O_TMPFILE say so in one of these ways;
  // anything else (no such directory, no permission) is the answer.
  if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL) {
    return SpoolError("create", dir, errno);
  }
  std::string name = absl::StrCat(dir, "/pgxnd-body-XXXXXX");
  fd = mkostemp(name.data(), O_CLOEXEC);
  if (fd < 0) return SpoolError("create", dir, errno);
  if (unlink(name.c_str()) != 0) {
    const int err = errno;
    close(fd);
    return SpoolError("unlink", dir, err);
  }
  return fd;
}

BodySpool::BodySpool(BodySpool&& other) noexcept
    : options_(std::move(other.options_)),
      expected_(other.expected_),
      memory_(std::move(other.memory_)),
      fd_(std::exchange(other.fd_, -1)),
      spooled_(std::exchange(other.spooled_, 0)),
      failed_(std::move(other.failed_)) {}

BodySpool& BodySpool::operator=(BodySpool&& other) noexcept {
  if (this != &other) {
    CloseFile();
    options_ = std::move(other.options_);
    expected_ = other.expected_;
    memory_ = std::move(other.memory_);
    fd_ = std::exchange(other.fd_, -1);
    spooled_ = std::exchange(other.spooled_, 0);
    failed_ = std::move(other.failed_);
  }
  return *this;
}

BodySpool::~BodySpool() { CloseFile(); }

void BodySpool::CloseFile() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
  spooled_ = 0;
}

absl::Status BodySpool::Append(absl::string_view bytes) {
  if (!failed_.ok()) return failed_;
  if (bytes.empty()) return absl::OkStatus();
  absl::Status written;
  if (fd_ < 0 &&
      (memory_.size() + bytes.size() > options_.threshold || expected_ > options_.threshold)) {
    written = StartFile();
  }
  if (written.ok() && fd_ < 0) {
    memory_.append(bytes.data(), bytes.size());
    return absl::OkStatus();
  }
  if (written.ok()) written = WriteToFile(bytes);
  if (!written.ok()) {
    failed_ = written;
    std::string().swap(memory_);
  }
  return written;
}

absl::Status BodySpool::StartFile() {
  absl::StatusOr<int> fd = OpenUnlinkedTempFile(options_.dir);
  if (!fd.ok()) return fd.status();
  fd_ = *fd;
  absl::Status moved = WriteToFile(memory_);
  // Give the memory back, not just empty it: the point is not to hold it.
  std::string().swap(memory_);
  return moved;
}

absl::Status BodySpool::WriteToFile(absl::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = write(fd_, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = n < 0 ? errno : ENOSPC;
      CloseFile();
      return SpoolError("write", SpoolDir(options_.dir), err);
    }
    bytes.remove_prefix(static_cast<size_t>(n));
    spooled_ += static_cast<uint64_t>(n);
  }
  return absl::OkStatus();
}

absl::StatusOr<RequestBody> BodySpool::Finish() {
  if (!failed_.ok()) return failed_;
  if (fd_ < 0) {
    RequestBody body(std::move(memory_));
    memory_.clear();
    return body;
  }
  const size_t size = static_cast<size_t>(spooled_);
  void* address = size == 0 ? MAP_FAILED : mmap(nullptr, size, PROT_READ, MAP_SHARED, fd_, 0);
  const int err = errno;
  CloseFile();
  if (size == 0) return RequestBody();
  if (address == MAP_FAILED) return SpoolError("map", SpoolDir(options_.dir), err);
  auto mapping = std::make_shared<const Mapping>(address, size);
  const absl::string_view bytes = mapping->bytes();
  return RequestBody::Shared(bytes, std::move(mapping));
}

}  // namespace pgxn::gateway
