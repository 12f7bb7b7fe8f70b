#include "replica/file_cache.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/digest.h"
#include "base/files.h"
#include "base/log.h"

namespace pgxn::replica {
namespace {

// What the copier reads from the store at a time (its chunk size).
constexpr size_t kCopyChunk = 64 * 1024;
// After a failed copy (a full disk, a damaged blob), no new copies for this
// long: misses are then served from the store, and the log gets one line
// per failure, not one per request.
constexpr absl::Duration kPauseAfterFailure = absl::Minutes(1);

absl::Status ErrnoError(absl::string_view what, const std::string& path) {
  return absl::InternalError(absl::StrCat(what, " ", path, ": ", std::strerror(errno)));
}

absl::Status WriteAll(int fd, absl::string_view data, const std::string& path) {
  while (!data.empty()) {
    const ssize_t written = ::write(fd, data.data(), data.size());
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) return ErrnoError("cannot write", path);
    data.remove_prefix(static_cast<size_t>(written));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<FileCache>> FileCache::Open(std::string dir, uint64_t max_bytes,
                                                           Reader read) {
  if (max_bytes == 0) return absl::InvalidArgumentError("the file cache needs a size");
  if (absl::Status s = base::MakeDirectories(dir, 0700); !s.ok()) return s;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    std::filesystem::remove_all(entry.path(), ec);
    if (ec) {
      return absl::InternalError(
          absl::StrCat("Cannot empty the file cache ", dir, ": ", ec.message()));
    }
  }
  if (ec) {
    return absl::InternalError(absl::StrCat("Cannot list the file cache ", dir, ": ", ec.message()));
  }
  return std::unique_ptr<FileCache>(new FileCache(std::move(dir), max_bytes, std::move(read)));
}

FileCache::FileCache(std::string dir, uint64_t max_bytes, Reader read)
    : dir_(std::move(dir)), max_bytes_(max_bytes), read_(std::move(read)) {
  copier_ = std::thread([this] { Run(); });
}

FileCache::~FileCache() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  copier_.join();
}

std::shared_ptr<const base::ScopedFd> FileCache::Find(absl::string_view sha256, uint64_t size) {
  absl::MutexLock lock(&mu_);
  const auto found = entries_.find(sha256);
  if (found != entries_.end()) {
    if (found->second.size != size) return nullptr;  // not the content asked for
    lru_.splice(lru_.begin(), lru_, found->second.lru);
    return found->second.fd;
  }
  if (size == 0 || size > max_bytes_ || stopping_ || absl::Now() < paused_until_ ||
      queue_.size() >= kMaxQueued || queued_.contains(sha256)) {
    return nullptr;
  }
  queued_.insert(std::string(sha256));
  queue_.push_back(Job{std::string(sha256), size});
  return nullptr;
}

FileCache::Stats FileCache::stats() const {
  absl::MutexLock lock(&mu_);
  return Stats{bytes_, entries_.size(), copied_, failed_};
}

void FileCache::WaitIdle() const {
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](const FileCache* cache) ABSL_NO_THREAD_SAFETY_ANALYSIS {
        return cache->queued_.empty();
      },
      this));
}

void FileCache::Run() {
  for (;;) {
    Job job;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](FileCache* cache) ABSL_NO_THREAD_SAFETY_ANALYSIS {
            return cache->stopping_ || !cache->queue_.empty();
          },
          this));
      if (stopping_) return;
      job = std::move(queue_.front());
      queue_.pop_front();
      // The copy's room is taken before it is written: the disk used stays
      // within max_bytes_ even while copying.
      MakeRoom(job.size);
      bytes_ += job.size;
    }
    absl::StatusOr<base::ScopedFd> copied = Copy(job);
    absl::MutexLock lock(&mu_);
    queued_.erase(job.sha256);
    if (!copied.ok()) {
      bytes_ -= job.size;
      ++failed_;
      if (!stopping_) {
        paused_until_ = absl::Now() + kPauseAfterFailure;
        base::LogWarning(absl::StrCat("File cache: no copy of ", base::HexEncode(job.sha256),
                                      " (served from the store; copies pause for a minute): ",
                                      copied.status().ToString()));
      }
      continue;
    }
    ++copied_;
    lru_.push_front(job.sha256);
    entries_[job.sha256] = Entry{std::make_shared<const base::ScopedFd>(*std::move(copied)),
                                 job.size, lru_.begin()};
  }
}

absl::StatusOr<base::ScopedFd> FileCache::Copy(const Job& job) {
  const std::string hex = base::HexEncode(job.sha256);
  const std::string partial = absl::StrCat(dir_, "/.partial-", hex);
  const std::string named = absl::StrCat(dir_, "/", hex);
  base::ScopedFd out(::open(partial.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!out.valid()) return ErrnoError("cannot create", partial);
  const auto fail = [&partial](absl::Status status) {
    ::unlink(partial.c_str());
    return status;
  };
  base::Sha256Stream hash;
  uint64_t offset = 0;
  while (offset < job.size) {
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return fail(absl::CancelledError("the cache is closing"));
    }
    const size_t want = static_cast<size_t>(std::min<uint64_t>(kCopyChunk, job.size - offset));
    absl::StatusOr<std::string> piece = read_(job.sha256, offset, want);
    if (!piece.ok()) return fail(piece.status());
    if (piece->empty() || piece->size() > want) {
      return fail(absl::DataLossError(absl::StrCat("the store gave ", piece->size(),
                                                   " bytes at ", offset, " for ", want)));
    }
    hash.Update(*piece);
    if (absl::Status s = WriteAll(out.get(), *piece, partial); !s.ok()) return fail(s);
    offset += piece->size();
  }
  if (hash.Finish() != job.sha256) {
    return fail(absl::DataLossError("the store's content does not match its SHA-256"));
  }
  out.Reset();
  if (::rename(partial.c_str(), named.c_str()) != 0) return fail(ErrnoError("cannot name", named));
  base::ScopedFd in(::open(named.c_str(), O_RDONLY | O_CLOEXEC));
  if (!in.valid()) {
    const absl::Status status = ErrnoError("cannot open", named);
    ::unlink(named.c_str());
    return status;
  }
  return in;
}

void FileCache::MakeRoom(uint64_t room) {
  while (bytes_ + room > max_bytes_ && !lru_.empty()) {
    const auto victim = entries_.find(lru_.back());
    ::unlink(absl::StrCat(dir_, "/", base::HexEncode(victim->first)).c_str());
    bytes_ -= victim->second.size;
    entries_.erase(victim);
    lru_.pop_back();
  }
}

}  // namespace pgxn::replica
