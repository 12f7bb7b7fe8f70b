#include "origin/accounts/caller.h"

#include "absl/strings/str_cat.h"

namespace pgxn::origin {

absl::Status RequireAdmin(const Caller& caller) {
  if (caller.is_admin) return absl::OkStatus();
  return absl::PermissionDeniedError(
      absl::StrCat("User \"", caller.nickname, "\" is not an administrator"));
}

}  // namespace pgxn::origin
