// Who asks for a change of the Manager's state: an authenticated, active
// account. The Manager's HTTP layer makes one from a request's credentials
// (manager_auth.h); the rules below it (ownership, moderation) take it
// without knowing of HTTP. A plain value; thread-compatible.
#ifndef PGXN_ORIGIN_ACCOUNTS_CALLER_H_
#define PGXN_ORIGIN_ACCOUNTS_CALLER_H_

#include <string>

#include "absl/status/status.h"

namespace pgxn::origin {

struct Caller {
  std::string nickname;
  bool is_admin = false;
};

// PermissionDenied unless the caller is an administrator.
absl::Status RequireAdmin(const Caller& caller);

}  // namespace pgxn::origin

#endif  // PGXN_ORIGIN_ACCOUNTS_CALLER_H_
