#include "replica/hot_files.h"

#include <utility>

namespace pgxn::replica {

std::shared_ptr<const HotFiles::File> HotFiles::Find(absl::string_view path,
                                                     uint64_t version) const {
  absl::ReaderMutexLock lock(&mu_);
  if (version != version_) return nullptr;
  const auto found = files_.find(path);
  return found == files_.end() ? nullptr : found->second;
}

void HotFiles::Insert(absl::string_view path, uint64_t version,
                      std::shared_ptr<const File> file) {
  const uint64_t size = file->content.size() + path.size();
  if (size > max_bytes_) return;
  absl::MutexLock lock(&mu_);
  if (version < version_) return;
  if (version > version_ || bytes_ + size > max_bytes_) {
    files_.clear();
    bytes_ = 0;
    version_ = version;
  }
  const auto [where, inserted] = files_.try_emplace(path, std::move(file));
  if (inserted) bytes_ += size;
}

uint64_t HotFiles::bytes() const {
  absl::ReaderMutexLock lock(&mu_);
  return bytes_;
}

}  // namespace pgxn::replica
