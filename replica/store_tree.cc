#include "replica/store_tree.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/digest.h"

namespace pgxn::replica {

namespace {

// What missing_ holds for each path the store does not have.
const std::shared_ptr<const HotFiles::File>& Missing() {
  static const auto* const missing =
      new std::shared_ptr<const HotFiles::File>(std::make_shared<const HotFiles::File>());
  return *missing;
}

gateway::TreeFile FromHot(const HotFiles::File& hot) {
  gateway::TreeFile tree_file;
  tree_file.content = hot.content;
  tree_file.sha256_hex = hot.sha256_hex;
  tree_file.media_type = hot.media_type;
  tree_file.modified_unix_seconds = hot.modified_unix_seconds;
  return tree_file;
}

}  // namespace

absl::StatusOr<gateway::TreeFile> StoreTree::ReadWhole(absl::string_view path,
                                                       const StoredFile& file,
                                                       uint64_t version) const {
  absl::StatusOr<std::string> content = store_->GetBlob(file.sha256, file.size);
  if (!content.ok()) return content.status();
  gateway::TreeFile tree_file;
  tree_file.content = *std::move(content);
  tree_file.sha256_hex = base::HexEncode(file.sha256);
  tree_file.media_type = file.media_type;
  tree_file.modified_unix_seconds = file.time_us / 1'000'000;
  if (file.size <= kStreamAbove) {
    hot_.Insert(path, version,
                std::make_shared<const HotFiles::File>(
                    HotFiles::File{tree_file.content, tree_file.sha256_hex, tree_file.media_type,
                                   tree_file.modified_unix_seconds}));
  }
  return tree_file;
}

absl::StatusOr<StoredFile> StoreTree::Lookup(absl::string_view path, uint64_t version) const {
  // No message: a 404 needs none, and building one costs an allocation.
  if (missing_.Find(path, version) != nullptr) return absl::Status(absl::StatusCode::kNotFound, "");
  absl::StatusOr<StoredFile> file = store_->GetFile(path);
  if (absl::IsNotFound(file.status())) missing_.Insert(path, version, Missing());
  return file;
}

absl::StatusOr<gateway::TreeFile> StoreTree::ReadFile(absl::string_view path) const {
  const uint64_t version = store_->FilesVersion();
  if (std::shared_ptr<const HotFiles::File> hot = hot_.Find(path, version)) return FromHot(*hot);
  absl::StatusOr<StoredFile> file = Lookup(path, version);
  if (!file.ok()) return file.status();
  return ReadWhole(path, *file, version);
}

absl::StatusOr<gateway::TreeFile> StoreTree::OpenFile(absl::string_view path) const {
  const uint64_t version = store_->FilesVersion();
  if (std::shared_ptr<const HotFiles::File> hot = hot_.Find(path, version)) return FromHot(*hot);
  absl::StatusOr<StoredFile> file = Lookup(path, version);
  if (!file.ok()) return file.status();
  if (file->size <= kStreamAbove) return ReadWhole(path, *file, version);
  gateway::TreeFile tree_file;
  tree_file.size = file->size;
  if (files_ != nullptr) tree_file.file = files_->Find(file->sha256, file->size);
  if (tree_file.file == nullptr) tree_file.read = [store = store_, sha256 = file->sha256](uint64_t offset, size_t length) {
    // To the end of the chunk at most, so that a range that does not start
    // on a chunk boundary still reads one chunk per piece.
    const size_t to_boundary = Store::kBlobChunkBytes - offset % Store::kBlobChunkBytes;
    return store->ReadBlobRange(sha256, offset, std::min(length, to_boundary));
  };
  tree_file.sha256_hex = base::HexEncode(file->sha256);
  tree_file.media_type = file->media_type;
  tree_file.modified_unix_seconds = file->time_us / 1'000'000;
  return tree_file;
}

absl::Status StoreTree::ForEachFile(
    const std::function<bool(absl::string_view path, absl::string_view sha256_hex)>& visit) const {
  return store_->ForEachFile([&visit](absl::string_view path, const StoredFile& file) {
    return visit(path, base::HexEncode(file.sha256));
  });
}

}  // namespace pgxn::replica
