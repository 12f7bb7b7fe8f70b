#include "base/fd_limit.h"

#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace pgxn::base {
namespace {

// The kernel's ceiling for RLIMIT_NOFILE when the hard limit is "unlimited".
uint64_t KernelMaxOpen() {
  std::ifstream in("/proc/sys/fs/nr_open");
  uint64_t value = 0;
  if (in >> value && value > 0) return value;
  return 1 << 20;
}

}  // namespace

absl::StatusOr<FdLimit> RaiseOpenFileLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return absl::InternalError(
        absl::StrCat("Cannot read the open-file limit: ", std::strerror(errno)));
  }
  FdLimit result;
  result.before = limit.rlim_cur;
  const uint64_t target = limit.rlim_max == RLIM_INFINITY ? KernelMaxOpen() : limit.rlim_max;
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < target) {
    rlimit raised = limit;
    raised.rlim_cur = target;
    // Failing leaves the old limit in force: the node still runs, with the
    // smaller budget its caps are then derived from.
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  result.soft = limit.rlim_cur == RLIM_INFINITY ? KernelMaxOpen() : limit.rlim_cur;
  result.hard = limit.rlim_max == RLIM_INFINITY ? KernelMaxOpen() : limit.rlim_max;
  return result;
}

size_t DefaultMaxConnections(uint64_t soft_limit, int listeners) {
  const uint64_t usable = soft_limit > kReservedDescriptors ? soft_limit - kReservedDescriptors : 0;
  const uint64_t each = usable / static_cast<uint64_t>(std::max(1, listeners));
  return static_cast<size_t>(std::clamp<uint64_t>(each, 64, 65536));
}

}  // namespace pgxn::base
