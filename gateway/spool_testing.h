// Test support (header only, not part of any library): what a process holds
// of the files in a directory, from /proc, so that tests can show that a
// spooled request body's temp file (body_spool.h) is gone. An unlinked file
// still shows there, as "DIR/#123 (deleted)" or "DIR/name (deleted)", while
// a descriptor or a mapping keeps it.
#ifndef PGXN_GATEWAY_SPOOL_TESTING_H_
#define PGXN_GATEWAY_SPOOL_TESTING_H_

#include <dirent.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace pgxn::gateway::testing {

// Descriptors and mappings of process `pid` that refer to a file directly
// in or under `dir` (without a trailing slash); -1 when
// /proc cannot be read.
inline int FilesHeldIn(pid_t pid, const std::string& dir) {
  // /proc shows resolved paths: /tmp may be a link.
  char resolved[PATH_MAX];
  const std::string prefix = (realpath(dir.c_str(), resolved) ? resolved : dir) + std::string("/");
  const std::string fd_dir = absl::StrCat("/proc/", pid, "/fd");
  DIR* fds = opendir(fd_dir.c_str());
  if (fds == nullptr) return -1;
  int held = 0;
  while (const dirent* entry = readdir(fds)) {
    char target[4096];
    const ssize_t n =
        readlink(absl::StrCat(fd_dir, "/", entry->d_name).c_str(), target, sizeof(target));
    if (n > 0 && absl::StartsWith(std::string(target, static_cast<size_t>(n)), prefix)) ++held;
  }
  closedir(fds);
  std::ifstream maps(absl::StrCat("/proc/", pid, "/maps"));
  std::string line;
  while (std::getline(maps, line)) {
    if (absl::StrContains(line, " " + prefix)) ++held;
  }
  return held;
}

// Entries in `dir` other than . and ..; -1 when it cannot be read.
inline int EntriesIn(const std::string& dir) {
  DIR* listing = opendir(dir.c_str());
  if (listing == nullptr) return -1;
  int entries = 0;
  while (const dirent* entry = readdir(listing)) {
    const std::string name = entry->d_name;
    if (name != "." && name != "..") ++entries;
  }
  closedir(listing);
  return entries;
}

}  // namespace pgxn::gateway::testing

#endif  // PGXN_GATEWAY_SPOOL_TESTING_H_
