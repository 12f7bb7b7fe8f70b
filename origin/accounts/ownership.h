// Shared ownership of extension names (docs/pgxn.md §3 "Ownership can be shared"):
// the owner of an extension (its first uploader) or an administrator may grant
// co-ownership to another account, revoke it, or transfer ownership. Owners
// and co-owners may release the extension (releases.cc checks that); nothing
// here touches the published tree, which does not show owners, so each change
// is a plain transaction and publishes no event.
//
// Rules, checked in this order, each failure changing nothing:
//   InvalidArgument   the nickname is not a valid nickname (nicknames are
//                     lower-cased first)
//   NotFound          Extension "E" does not exist
//   PermissionDenied  only the owner or an administrator may grant, revoke or
//                     transfer (a co-owner may give up their own co-ownership)
//   NotFound          User "U" does not exist
//   FailedPrecondition for a change that changes nothing, or an account that
//                     is not active (only active accounts can be given rights)
// A transfer leaves the previous owner with nothing (grant them co-ownership
// first to keep them releasing); a co-owner who becomes the owner stops being
// listed as a co-owner. Extension names are compared case-insensitively.
//
// Called by the Manager's HTTP handlers (ownership_http.cc). Each call runs on
// the caller's connection in its own transaction, locking the extension's row,
// so concurrent changes to one extension are serialised. Thread-compatible.
#ifndef PGXN_ORIGIN_ACCOUNTS_OWNERSHIP_H_
#define PGXN_ORIGIN_ACCOUNTS_OWNERSHIP_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "origin/accounts/caller.h"
#include "origin/pg/pg.h"

namespace pgxn::origin {

struct ExtensionOwners {
  std::string extension;  // lower case, as extension names are stored
  std::string owner;
  std::vector<std::string> coowners;  // by nickname

  friend bool operator==(const ExtensionOwners&, const ExtensionOwners&) = default;
};

// The owner and co-owners of `extension`. NotFound if nobody ever released it.
absl::StatusOr<ExtensionOwners> GetExtensionOwners(PgConnection& conn, absl::string_view extension);

// Makes `nickname` a co-owner of `extension`. FailedPrecondition when they
// already own it or already are a co-owner.
absl::Status GrantCoOwnership(PgConnection& conn, const Caller& caller, absl::string_view extension,
                              absl::string_view nickname);

// Removes `nickname`'s co-ownership of `extension`. Allowed to the owner, to
// an administrator, and to the co-owner themselves. FailedPrecondition when
// `nickname` is not a co-owner.
absl::Status RevokeCoOwnership(PgConnection& conn, const Caller& caller,
                               absl::string_view extension, absl::string_view nickname);

// Makes `nickname` the owner of `extension`. FailedPrecondition when they
// already own it.
absl::Status TransferOwnership(PgConnection& conn, const Caller& caller,
                               absl::string_view extension, absl::string_view nickname);

}  // namespace pgxn::origin

#endif  // PGXN_ORIGIN_ACCOUNTS_OWNERSHIP_H_
