#include "archive/symlinks.h"

#include <deque>
#include <string>
#include <utility>

#include "absl/algorithm/container.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "archive/entry_error.h"
#include "base/utf8.h"

namespace pgxn::archive {
namespace {

constexpr size_t kMaxPathBytes = 4096;
// Bytes of paths looked up over all of an archive's links: ample for
// thousands of ordinary links, few enough that a crafted archive of long,
// deep chains costs tens of milliseconds, not seconds.
constexpr size_t kMaxResolveBytes = size_t{32} << 20;

absl::string_view Parent(absl::string_view path) {
  const size_t slash = path.rfind('/');
  return slash == absl::string_view::npos ? absl::string_view() : path.substr(0, slash);
}

absl::string_view TopOf(absl::string_view path) {
  const size_t slash = path.find('/');
  return slash == absl::string_view::npos ? absl::string_view() : path.substr(0, slash);
}

bool Within(absl::string_view path, absl::string_view dir) {
  if (dir.empty()) return true;
  return path == dir ||
         (absl::StartsWith(path, dir) && path.size() > dir.size() && path[dir.size()] == '/');
}

class Resolver {
 public:
  Resolver(absl::string_view display_name, std::vector<ArchiveEntry>& entries)
      : display_name_(display_name), entries_(entries) {
    for (ArchiveEntry& e : entries_) {
      by_path_.emplace(e.path, &e);
      for (absl::string_view dir = Parent(e.path); !dir.empty(); dir = Parent(dir)) {
        if (!implied_dirs_.insert(dir).second) break;
      }
    }
  }

  // Resolves `link` as a POSIX system would once the archive is unpacked:
  // its target's segments are taken one at a time from the link's directory,
  // a link met on the way is replaced by its own target's segments, and ".."
  // climbs from wherever that led. No step may leave the link's top-level
  // directory, so renaming that directory (NormalizedZip) keeps every link
  // good.
  absl::Status Resolve(ArchiveEntry& link) {
    const absl::string_view top = TopOf(link.path);
    // Where the walk is, a directory: its path, and how many segments deep.
    std::string here(Parent(link.path));
    size_t depth = here.empty() ? 0 : absl::c_count(here, '/') + 1;
    auto up = [&] {
      const size_t slash = here.rfind('/');
      here.resize(slash == std::string::npos ? 0 : slash);
      --depth;
    };
    std::deque<std::string> pending;
    auto push_front_target = [&](absl::string_view target) {
      // "dir/" must name a directory, as on a real system: a trailing "."
      // makes a file there a path through a file.
      if (absl::EndsWith(target, "/")) pending.emplace_front(".");
      std::vector<absl::string_view> segments = absl::StrSplit(target, '/', absl::SkipEmpty());
      for (auto it = segments.rbegin(); it != segments.rend(); ++it) {
        pending.emplace_front(*it);
      }
    };
    push_front_target(link.link_target);
    int hops = 1;
    const ArchiveEntry* file = nullptr;  // set when the walk ends on a file
    while (!pending.empty()) {
      const std::string segment = std::move(pending.front());
      pending.pop_front();
      // Each step hashes the path walked so far: the work is counted in bytes.
      work_ += here.size() + segment.size() + 1;
      if (work_ > kMaxResolveBytes) {
        return absl::FailedPreconditionError(
            absl::StrCat(Quote(display_name_), " has symbolic links too deep to resolve"));
      }
      if (file != nullptr) return Dangling(link);  // a path through a file
      if (segment == ".") continue;
      if (segment == "..") {
        if (depth == 0 || (!top.empty() && depth == 1)) return Outside(link, top);
        up();
        continue;
      }
      if (!here.empty()) here += '/';
      here += segment;
      ++depth;
      auto found = by_path_.find(here);
      if (found == by_path_.end()) {
        if (!implied_dirs_.contains(here)) return Dangling(link);
        continue;
      }
      const ArchiveEntry* entry = found->second;
      switch (entry->type) {
        case ArchiveEntry::Type::kDirectory:
          break;
        case ArchiveEntry::Type::kFile:
          up();
          file = entry;
          break;
        case ArchiveEntry::Type::kSymlink:
          if (++hops > kMaxLinkHops) return Refuse(link, "is a symbolic link that loops");
          up();
          push_front_target(entry->link_target);
          break;
      }
    }
    if (file != nullptr) {
      link.resolved = file->path;
      link.resolves_to_directory = false;
      link.data = file->data;
      return absl::OkStatus();
    }
    if (Within(link.path, here)) {
      return Refuse(link, absl::StrCat("is a symbolic link to ", Quote(link.link_target),
                                       ", a directory that holds the link itself (a loop)"));
    }
    link.resolved = here;
    link.resolves_to_directory = true;
    return absl::OkStatus();
  }

 private:
  absl::Status Outside(const ArchiveEntry& link, absl::string_view top) {
    return Refuse(link,
                  absl::StrCat("is a symbolic link to ", Quote(link.link_target), ", outside ",
                               top.empty() ? std::string("the archive") : Quote(top)));
  }

  absl::Status Dangling(const ArchiveEntry& link) {
    return Refuse(link, absl::StrCat("is a symbolic link to ", Quote(link.link_target),
                                     ", which is not in the archive"));
  }

  absl::Status Refuse(const ArchiveEntry& link, absl::string_view why) {
    return EntryError(display_name_, link.path, why);
  }

  const absl::string_view display_name_;
  std::vector<ArchiveEntry>& entries_;
  absl::flat_hash_map<absl::string_view, const ArchiveEntry*> by_path_;
  absl::flat_hash_set<absl::string_view> implied_dirs_;
  size_t work_ = 0;
};

// Links to directories may not make the tree infinite: a/l1 -> ../b with
// b/l2 -> ../a each resolve, but a/l1/l2/l1/... never ends for a recursive
// grep, cp -L or a crawler of /src/. The directories and the links between
// them form a graph (each directory to its subdirectories, and to where each
// link in it leads); a cycle in it is refused, naming a link on it.
absl::Status CheckNoDirectoryCycles(absl::string_view display_name,
                                    const std::vector<ArchiveEntry>& entries) {
  absl::flat_hash_map<absl::string_view, int> ids;
  std::vector<std::vector<std::pair<int, const ArchiveEntry*>>> edges;
  auto node = [&](absl::string_view dir) {
    auto [it, added] = ids.try_emplace(dir, static_cast<int>(edges.size()));
    if (added) edges.emplace_back();
    return it->second;
  };
  bool any = false;
  for (const ArchiveEntry& e : entries) {
    any = any || (e.type == ArchiveEntry::Type::kSymlink && e.resolves_to_directory);
  }
  if (!any) return absl::OkStatus();
  // Every directory under its parent, up to the root ("").
  for (const ArchiveEntry& e : entries) {
    absl::string_view dir =
        e.type == ArchiveEntry::Type::kDirectory ? absl::string_view(e.path) : Parent(e.path);
    while (!dir.empty() && !ids.contains(dir)) {
      const int child = node(dir);
      const absl::string_view parent = Parent(dir);
      edges[node(parent)].emplace_back(child, nullptr);
      dir = parent;
    }
  }
  for (const ArchiveEntry& e : entries) {
    if (e.type == ArchiveEntry::Type::kSymlink && e.resolves_to_directory) {
      const int from = node(Parent(e.path));
      edges[from].emplace_back(node(e.resolved), &e);
    }
  }
  // Depth first, iteratively: 0 unseen, 1 on the path being walked, 2 done.
  std::vector<int> state(edges.size(), 0);
  struct Frame {
    int node;
    size_t next = 0;
    const ArchiveEntry* via = nullptr;  // the link that led here, if any
  };
  for (int start = 0; start < static_cast<int>(edges.size()); ++start) {
    if (state[start] != 0) continue;
    std::vector<Frame> path = {Frame{start}};
    state[start] = 1;
    while (!path.empty()) {
      Frame& top = path.back();
      if (top.next == edges[top.node].size()) {
        state[top.node] = 2;
        path.pop_back();
        continue;
      }
      const auto [to, link] = edges[top.node][top.next++];
      if (state[to] == 1) {
        // Back on the path: the cycle holds this edge and those after `to`.
        const ArchiveEntry* named = link;
        for (auto it = path.rbegin(); named == nullptr && it != path.rend(); ++it) {
          named = it->via;
        }
        if (named != nullptr) {
          return EntryError(display_name, named->path,
                            absl::StrCat("is a symbolic link to ", Quote(named->link_target),
                                         ", which leads back to it (a loop)"));
        }
        continue;
      }
      if (state[to] == 0) {
        state[to] = 1;
        path.push_back(Frame{to, 0, link});
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckLinkTarget(absl::string_view target) {
  if (target.empty()) return absl::InvalidArgumentError("is a symbolic link without a target");
  if (target.size() > kMaxPathBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("is a symbolic link with a target longer than ", kMaxPathBytes, " bytes"));
  }
  if (!base::IsValidUtf8(target)) {
    return absl::InvalidArgumentError("is a symbolic link to a name that is not valid UTF-8");
  }
  for (char c : target) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) {
      return absl::InvalidArgumentError("is a symbolic link to a name with a control character");
    }
    if (c == '\\')
      return absl::InvalidArgumentError("is a symbolic link to a path with a backslash");
  }
  if (target[0] == '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("is a symbolic link to an absolute path, ", Quote(target)));
  }
  return absl::OkStatus();
}

absl::Status ResolveSymlinks(absl::string_view display_name, std::vector<ArchiveEntry>& entries,
                             const ArchiveLimits& limits, uint64_t* total_bytes) {
  bool any = false;
  for (const ArchiveEntry& e : entries) any = any || e.type == ArchiveEntry::Type::kSymlink;
  if (!any) return absl::OkStatus();
  Resolver resolver(display_name, entries);
  for (ArchiveEntry& e : entries) {
    if (e.type != ArchiveEntry::Type::kSymlink) continue;
    if (absl::Status s = resolver.Resolve(e); !s.ok()) return s;
    *total_bytes += e.data.size();
    if (*total_bytes > limits.max_total_bytes) {
      return absl::FailedPreconditionError(
          absl::StrCat(Quote(display_name), " unpacks to more than the limit of ",
                       limits.max_total_bytes, " bytes (at entry ", Quote(e.path), ")"));
    }
  }
  return CheckNoDirectoryCycles(display_name, entries);
}

}  // namespace pgxn::archive
