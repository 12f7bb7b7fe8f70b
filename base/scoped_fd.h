// An open file descriptor that closes itself: what a response sending a file
// and the cache that opened it share (std::shared_ptr<const ScopedFd>), so a
// file stays readable for as long as anyone sends it, even after its name is
// gone. Not copyable; movable. Thread-compatible (the descriptor itself may be
// read from any thread with pread or sendfile).
#ifndef PGXN_BASE_SCOPED_FD_H_
#define PGXN_BASE_SCOPED_FD_H_

#include <unistd.h>

#include <utility>

namespace pgxn::base {

class ScopedFd {
 public:
  ScopedFd() = default;
  // Takes ownership of `fd` (-1: none).
  explicit ScopedFd(int fd) : fd_(fd) {}
  ~ScopedFd() { Reset(); }
  ScopedFd(ScopedFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  ScopedFd& operator=(ScopedFd&& other) noexcept {
    if (this != &other) {
      Reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  ScopedFd(const ScopedFd&) = delete;
  ScopedFd& operator=(const ScopedFd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // Closes the descriptor now, if any.
  void Reset() {
    if (fd_ >= 0) ::close(std::exchange(fd_, -1));
  }

 private:
  int fd_ = -1;
};

}  // namespace pgxn::base

#endif  // PGXN_BASE_SCOPED_FD_H_
