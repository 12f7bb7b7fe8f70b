#include "indexer/docs/renderer.h"

#include <utility>

#include "absl/algorithm/container.h"
#include "absl/strings/str_cat.h"
#include "base/log.h"
#include "indexer/docs/tree_layout.h"

namespace pgxn::indexer {
namespace {

namespace v1 = ::pgxn::feed::v1;
using Json = nlohmann::json;

}  // namespace

ReleaseRenderer::ReleaseRenderer(ReadTreeFile read, const DocConverter* converter)
    : read_(std::move(read)), converter_(converter) {}

ReleaseRenderer::~ReleaseRenderer() { StopAhead(); }

ReleaseFiles ReleaseRenderer::Render(const std::string& dir, const Json& meta) const {
  if (!meta.is_object()) return ReleaseFiles();
  const std::string zip_path = ZipPath(dir, meta);
  const std::string zip = read_(zip_path);
  if (zip.empty()) return ReleaseFiles();
  absl::StatusOr<ReleaseFiles> files = ReadReleaseFiles(meta, zip, converter_);
  if (!files.ok()) {
    // The origin accepted this archive, so this is a bug or a damaged blob;
    // the release is still served and searchable, without its docs.
    base::LogWarning(
        absl::StrCat("Cannot read the docs of ", zip_path, ": ", files.status().message()));
    return ReleaseFiles();
  }
  return *std::move(files);
}

void ReleaseRenderer::Prerender(const v1::Event& event) {
  for (const v1::Op& op : event.ops()) {
    if (op.type() != v1::Op::PUT || !IsReleaseMeta(op.path())) continue;
    {
      absl::MutexLock lock(&mu_);
      const bool room = mu_.AwaitWithTimeout(
          absl::Condition(
              +[](ReleaseRenderer* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->mu_) {
                return self->prerendered_.size() < kMaxWaiting;
              },
              this),
          kRoomWait);
      if (!room) return;  // the indexing thread renders these itself
    }
    const Json meta = Json::parse(op.content(), nullptr, /*allow_exceptions=*/false);
    if (!meta.is_object()) continue;
    const std::string dir = ReleaseDirOf(op.path());
    const std::string zip_path = ZipPath(dir, meta);
    auto zip = absl::c_find_if(event.ops(), [&](const v1::Op& o) { return o.path() == zip_path; });
    if (zip == event.ops().end() || zip->content().empty()) continue;
    absl::StatusOr<ReleaseFiles> files = ReadReleaseFiles(meta, zip->content(), converter_);
    if (!files.ok()) continue;  // rendered again when taken, and logged then
    absl::MutexLock lock(&mu_);
    prerendered_[dir] = Prerendered{event.seq(), *std::move(files)};
  }
}

ReleaseFiles ReleaseRenderer::TakePrerendered(const std::string& dir, const Json& meta,
                                              uint64_t seq) {
  {
    absl::MutexLock lock(&mu_);
    if (auto it = prerendered_.find(dir); it != prerendered_.end() && it->second.seq == seq) {
      ReleaseFiles files = std::move(it->second.files);
      prerendered_.erase(it);
      return files;
    }
  }
  return Render(dir, meta);
}

void ReleaseRenderer::ForgetPrerenderedUpTo(uint64_t seq) {
  absl::MutexLock lock(&mu_);
  absl::erase_if(prerendered_, [seq](const auto& entry) { return entry.second.seq <= seq; });
}

void ReleaseRenderer::ForgetPrerendered() {
  absl::MutexLock lock(&mu_);
  prerendered_.clear();
}

void ReleaseRenderer::StartAhead(std::vector<std::string> meta_paths) {
  StopAhead();
  {
    absl::MutexLock lock(&mu_);
    ahead_.clear();
    rendering_ahead_ = true;
  }
  ahead_thread_ = std::thread([this, paths = std::move(meta_paths)] {
    for (const std::string& path : paths) {
      const std::string dir = ReleaseDirOf(path);
      const Json meta = Json::parse(read_(path), nullptr, /*allow_exceptions=*/false);
      ReleaseFiles files = meta.is_object() ? Render(dir, meta) : ReleaseFiles();
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](ReleaseRenderer* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->mu_) {
            return !self->rendering_ahead_ || self->ahead_.size() < kMaxWaiting;
          },
          this));
      if (!rendering_ahead_) return;
      ahead_[dir] = std::move(files);
    }
    // Done: a release taken now that is not here was not on the list.
    absl::MutexLock lock(&mu_);
    rendering_ahead_ = false;
  });
}

ReleaseFiles ReleaseRenderer::TakeAhead(const std::string& dir, const Json& meta) {
  {
    // The thread goes through the releases in the taker's order, so the
    // next one is coming unless it stopped.
    absl::MutexLock lock(&mu_);
    struct Waiting {
      ReleaseRenderer* self;
      const std::string* dir;
    } waiting{this, &dir};
    mu_.Await(absl::Condition(
        +[](Waiting* w) ABSL_EXCLUSIVE_LOCKS_REQUIRED(w->self->mu_) {
          return !w->self->rendering_ahead_ || w->self->ahead_.contains(*w->dir);
        },
        &waiting));
    if (auto it = ahead_.find(dir); it != ahead_.end()) {
      ReleaseFiles files = std::move(it->second);
      ahead_.erase(it);
      return files;
    }
  }
  return Render(dir, meta);
}

void ReleaseRenderer::StopAhead() {
  {
    absl::MutexLock lock(&mu_);
    rendering_ahead_ = false;
  }
  if (ahead_thread_.joinable()) ahead_thread_.join();
  absl::MutexLock lock(&mu_);
  ahead_.clear();
}

}  // namespace pgxn::indexer
