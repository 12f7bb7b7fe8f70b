#include "replica/tree_export.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/digest.h"
#include "base/files.h"
#include "feed/event_chain.h"
#include "feed/tree_digest.h"

namespace pgxn::replica {
namespace {

namespace fs = std::filesystem;

constexpr mode_t kFileMode = 0644;
constexpr mode_t kDirMode = 0755;
// Events read from the log at a time.
constexpr size_t kEventsPerRead = 1000;

absl::Status ErrnoError(absl::string_view what, const std::string& path) {
  const int err = errno;
  return absl::InternalError(absl::StrCat(what, " ", path, ": ", std::strerror(err)));
}

// rsync's quick check skips a file whose size and mtime, in whole seconds,
// match its copy's: a file rewritten within the second it was last written
// with the same size would never be copied again. Its mtime is set past the
// old one's second instead (at most a second ahead of the clock). The new
// file's own mtime is what counts, not the clock: the kernel stamps files
// with a coarse clock that may still show the previous second.
absl::Status MoveMtimeOn(const std::string& path, time_t replaced_seconds) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return ErrnoError("Cannot stat", path);
  if (st.st_mtim.tv_sec > replaced_seconds) return absl::OkStatus();
  const struct timespec times[2] = {{0, UTIME_OMIT}, {replaced_seconds + 1, 0}};
  if (::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) {
    return ErrnoError("Cannot set the mtime of", path);
  }
  return absl::OkStatus();
}

// Writes into one export directory, counting what it changes.
class Exporter {
 public:
  Exporter(const Store& store, std::string to, const std::function<bool()>& cancelled)
      : store_(store), to_(std::move(to)), cancelled_(cancelled) {}

  // Makes `path` hold `file`: nothing if it already does.
  absl::Status Put(const std::string& path, const ExportFile& file) {
    if (absl::Status s = CheckCancelled(); !s.ok()) return s;
    absl::StatusOr<std::string> target = Target(path);
    if (!target.ok()) return target.status();
    const size_t slash = path.rfind('/');
    if (slash != std::string::npos) {
      if (absl::Status s = EnsureDirectory(path.substr(0, slash)); !s.ok()) return s;
    }
    struct stat st;
    absl::optional<time_t> replaced_mtime;
    if (::lstat(target->c_str(), &st) == 0) {
      if (S_ISREG(st.st_mode)) replaced_mtime = st.st_mtim.tv_sec;
      if (S_ISREG(st.st_mode) && static_cast<uint64_t>(st.st_size) == file.size) {
        absl::StatusOr<std::string> existing = base::ReadFile(*target);
        if (!existing.ok()) return existing.status();
        if (base::Sha256(*existing) == file.sha256) return absl::OkStatus();
      } else if (S_ISDIR(st.st_mode)) {
        // The tree had files below this path; none of them is in it now.
        std::error_code ec;
        fs::remove_all(*target, ec);
        if (ec)
          return absl::InternalError(absl::StrCat("Cannot remove ", *target, ": ", ec.message()));
      }
    } else if (errno != ENOENT) {
      return ErrnoError("Cannot stat", *target);
    }
    absl::StatusOr<std::string> content = store_.GetBlob(file.sha256, file.size);
    if (!content.ok()) return content.status();
    if (base::Sha256(*content) != file.sha256) {
      return absl::DataLossError(
          absl::StrCat("The node's content of \"", path, "\" does not match its sha256"));
    }
    if (absl::Status s = base::WriteFileAtomically(*target, *content, kFileMode); !s.ok()) return s;
    if (replaced_mtime.has_value()) {
      if (absl::Status s = MoveMtimeOn(*target, *replaced_mtime); !s.ok()) return s;
    }
    synced_dirs_.insert(fs::path(*target).parent_path().string());
    ++written_;
    return absl::OkStatus();
  }

  // Removes `path` if it is there, then its directories left empty.
  absl::Status Delete(const std::string& path) {
    if (absl::Status s = CheckCancelled(); !s.ok()) return s;
    absl::StatusOr<std::string> target = Target(path);
    if (!target.ok()) return target.status();
    std::error_code ec;
    const uintmax_t removed = fs::remove_all(*target, ec);
    if (ec) return absl::InternalError(absl::StrCat("Cannot remove ", *target, ": ", ec.message()));
    if (removed == 0) return absl::OkStatus();
    ++deleted_;
    // Up to, not including, the export's root; rmdir fails on the first
    // directory that still holds something.
    fs::path dir = fs::path(path).parent_path();
    for (; !dir.empty(); dir = dir.parent_path()) {
      const std::string full = (fs::path(to_) / dir).string();
      if (::rmdir(full.c_str()) != 0) break;
    }
    synced_dirs_.insert((fs::path(to_) / dir).string());
    return absl::OkStatus();
  }

  // Full export: removes everything under the root that `keep` does not
  // name as a regular file (directories are pruned by PruneEmptyDirectories).
  absl::Status DeleteAllBut(const absl::flat_hash_set<std::string>& keep) {
    std::vector<std::string> doomed;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(to_, ec); !ec && it != fs::end(it);
         it.increment(ec)) {
      const fs::file_type type = it->symlink_status(ec).type();
      if (ec) break;
      if (type == fs::file_type::directory) continue;
      const std::string relative = it->path().lexically_relative(to_).string();
      if (type == fs::file_type::regular && keep.contains(relative)) continue;
      doomed.push_back(it->path().string());
    }
    if (ec) return absl::InternalError(absl::StrCat("Cannot list ", to_, ": ", ec.message()));
    for (const std::string& path : doomed) {
      if (::unlink(path.c_str()) != 0 && errno != ENOENT) return ErrnoError("Cannot remove", path);
      synced_dirs_.insert(fs::path(path).parent_path().string());
      ++deleted_;
    }
    return absl::OkStatus();
  }

  // Removes the directories under the root that hold nothing, deepest first.
  absl::Status PruneEmptyDirectories() {
    std::vector<std::string> dirs;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(to_, ec); !ec && it != fs::end(it);
         it.increment(ec)) {
      if (it->symlink_status(ec).type() == fs::file_type::directory) {
        dirs.push_back(it->path().string());
      }
    }
    if (ec) return absl::InternalError(absl::StrCat("Cannot list ", to_, ": ", ec.message()));
    // A child's path is longer than its parent's.
    std::sort(dirs.begin(), dirs.end(),
              [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
    for (const std::string& dir : dirs) {
      if (::rmdir(dir.c_str()) == 0) synced_dirs_.insert(fs::path(dir).parent_path().string());
    }
    return absl::OkStatus();
  }

  // Makes every rename and unlink so far durable, before the caller records
  // the mark that says they happened.
  absl::Status Sync() {
    for (const std::string& dir : synced_dirs_) {
      const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (fd < 0) {
        if (errno == ENOENT) continue;  // pruned since
        return ErrnoError("Cannot open", dir);
      }
      const int synced = ::fsync(fd);
      ::close(fd);
      if (synced != 0) return ErrnoError("Cannot sync", dir);
    }
    synced_dirs_.clear();
    return absl::OkStatus();
  }

  uint64_t written() const { return written_; }
  uint64_t deleted() const { return deleted_; }

 private:
  absl::Status CheckCancelled() const {
    if (!cancelled_ || !cancelled_()) return absl::OkStatus();
    return absl::CancelledError(absl::StrCat("The export into ", to_, " was interrupted"));
  }

  // Where `path` goes under the root. Paths come from the node's verified
  // tree, but nothing is written outside the root even if one were not.
  absl::StatusOr<std::string> Target(const std::string& path) const {
    if (absl::Status s = feed::CheckTreePath(path); !s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("Refusing to export \"", path, "\": ", s.message()));
    }
    return absl::StrCat(to_, "/", path);
  }

  // Makes `dir` (relative to the root) a real directory: each component
  // missing is created 0755, and anything else in its place (a file the
  // tree no longer has, a symlink) is removed first.
  absl::Status EnsureDirectory(const std::string& dir) {
    if (ensured_.contains(dir)) return absl::OkStatus();
    std::string full = to_;
    for (absl::string_view segment : absl::StrSplit(dir, '/')) {
      absl::StrAppend(&full, "/", segment);
      struct stat st;
      if (::lstat(full.c_str(), &st) == 0) {
        if (S_ISDIR(st.st_mode)) continue;
        if (::unlink(full.c_str()) != 0) return ErrnoError("Cannot remove", full);
        ++deleted_;
      } else if (errno != ENOENT) {
        return ErrnoError("Cannot stat", full);
      }
      if (::mkdir(full.c_str(), kDirMode) != 0) return ErrnoError("Cannot create", full);
      // Whatever the umask: a web server must be able to read the tree.
      if (::chmod(full.c_str(), kDirMode) != 0) return ErrnoError("Cannot chmod", full);
      synced_dirs_.insert(fs::path(full).parent_path().string());
    }
    ensured_.insert(dir);
    return absl::OkStatus();
  }

  const Store& store_;
  const std::string to_;
  const std::function<bool()>& cancelled_;
  absl::flat_hash_set<std::string> ensured_;
  absl::flat_hash_set<std::string> synced_dirs_;
  uint64_t written_ = 0;
  uint64_t deleted_ = 0;
};

// The changes since `after` (exclusive) up to `head`, from the store's log.
absl::StatusOr<TreeDelta> ReadDelta(const Store& store, uint64_t after, uint64_t head) {
  TreeDelta delta;
  while (after < head) {
    absl::StatusOr<std::vector<v1::Event>> events =
        store.ReadAfter(after, kEventsPerRead, std::numeric_limits<size_t>::max(),
                        /*include_content=*/false);
    if (!events.ok()) return events.status();
    if (events->empty()) {
      return absl::DataLossError(
          absl::StrCat("The node's log ends at seq ", after, " before its head ", head));
    }
    for (const v1::Event& event : *events) {
      if (event.seq() > head) break;
      AddToDelta(event, &delta);
      after = event.seq();
    }
  }
  return delta;
}

// The root may be a symlink to a directory (a way to switch exports);
// below it, nothing is followed.
absl::Status MakeRoot(const std::string& to) {
  std::error_code ec;
  const fs::file_status status = fs::status(to, ec);
  if (fs::exists(status)) {
    if (!fs::is_directory(status)) {
      return absl::FailedPreconditionError(absl::StrCat(to, " is not a directory"));
    }
    return absl::OkStatus();
  }
  return base::MakeDirectories(to, kDirMode);
}

}  // namespace

absl::StatusOr<ExportMark> ReadExportMark(const std::string& file) {
  absl::StatusOr<std::string> text = base::ReadFile(file);
  if (!text.ok()) return text.status();
  auto invalid = [&file]() {
    return absl::InvalidArgumentError(
        absl::StrCat("Export state file ", file,
                     " is not {\"epoch\": HEX, \"seq\": N}; remove it to export all"));
  };
  nlohmann::json json = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object() || !json.contains("epoch") || !json["epoch"].is_string() ||
      !json.contains("seq") || !json["seq"].is_number_unsigned()) {
    return invalid();
  }
  absl::optional<std::string> epoch = base::HexDecode(json["epoch"].get<std::string>());
  if (!epoch.has_value()) return invalid();
  return ExportMark{*std::move(epoch), json["seq"].get<uint64_t>()};
}

absl::Status WriteExportMark(const std::string& file, const ExportMark& mark) {
  nlohmann::json json{{"epoch", base::HexEncode(mark.epoch)}, {"seq", mark.seq}};
  return base::WriteFileAtomically(file, json.dump() + "\n", kFileMode);
}

void AddToDelta(const v1::Event& event, TreeDelta* delta) {
  for (const v1::Op& op : event.ops()) {
    if (op.type() == v1::Op::PUT) {
      (*delta)[op.path()] = ExportFile{op.sha256(), op.size()};
    } else {
      (*delta)[op.path()] = absl::nullopt;
    }
  }
}

absl::StatusOr<ExportResult> ExportTree(const Store& store, const std::string& to,
                                        const absl::optional<ExportMark>& last,
                                        const std::function<bool()>& cancelled) {
  if (to.empty()) return absl::InvalidArgumentError("No directory to export to");
  const feed::ChainTip tip = store.Tip();
  // An empty store is a node that has not synced yet (or is starting a new
  // log): its empty tree would only delete a good export.
  if (tip.seq == 0) {
    return absl::FailedPreconditionError("The node holds no events yet; nothing to export");
  }
  std::error_code ec;
  const bool incremental = last.has_value() && last->epoch == tip.epoch && last->seq <= tip.seq &&
                           last->seq >= store.LogStart() && fs::is_directory(fs::status(to, ec));
  if (absl::Status s = MakeRoot(to); !s.ok()) return s;
  Exporter exporter(store, to, cancelled);
  if (incremental) {
    absl::StatusOr<TreeDelta> delta = ReadDelta(store, last->seq, tip.seq);
    if (!delta.ok()) return delta.status();
    // Deletes first: a path deleted may be a directory a new path needs.
    for (const auto& [path, file] : *delta) {
      if (file.has_value()) continue;
      if (absl::Status s = exporter.Delete(path); !s.ok()) return s;
    }
    for (const auto& [path, file] : *delta) {
      if (!file.has_value()) continue;
      if (absl::Status s = exporter.Put(path, *file); !s.ok()) return s;
    }
  } else {
    std::vector<std::pair<std::string, ExportFile>> files;
    feed::TreeDigest tree;
    absl::Status listed =
        store.ForEachFile([&files, &tree](absl::string_view path, const StoredFile& f) {
          files.emplace_back(std::string(path), ExportFile{f.sha256, f.size});
          tree.Add(path, f.sha256, f.media_type);
          return true;
        });
    if (!listed.ok()) return listed;
    // A store read beside its running node can be opened in a state the
    // node never had (a log file deleted between RocksDB's reads of the
    // manifest and of the logs): the files must add up to the tree the tip
    // signs, or nothing is exported from them.
    if (tree.Digest() != store.TreeDigestNow()) {
      return absl::UnavailableError(
          "The node's files do not add up to its tree digest (it wrote while the store was "
          "being opened); try again");
    }
    absl::flat_hash_set<std::string> keep;
    for (const auto& [path, file] : files) keep.insert(path);
    if (absl::Status s = exporter.DeleteAllBut(keep); !s.ok()) return s;
    for (const auto& [path, file] : files) {
      if (absl::Status s = exporter.Put(path, file); !s.ok()) return s;
    }
    if (absl::Status s = exporter.PruneEmptyDirectories(); !s.ok()) return s;
  }
  if (absl::Status s = exporter.Sync(); !s.ok()) return s;
  ExportResult result;
  result.seq = tip.seq;
  result.written = exporter.written();
  result.deleted = exporter.deleted();
  result.incremental = incremental;
  result.mark = ExportMark{tip.epoch, tip.seq};
  return result;
}

std::string ExportSummary(const ExportResult& result) {
  return absl::StrCat("Exported seq ", result.seq, ": ", result.written, " written, ",
                      result.deleted, " deleted (", result.incremental ? "incremental" : "full",
                      ")");
}

}  // namespace pgxn::replica
