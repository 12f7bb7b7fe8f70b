#include "origin/accounts/ownership.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "origin/accounts/accounts.h"

namespace pgxn::origin {
namespace {

struct LockedExtension {
  std::string name;
  std::string owner;
};

// The extension's row, locked until the transaction ends so that two changes
// to one extension cannot interleave.
absl::StatusOr<LockedExtension> LockExtension(PgConnection& conn, absl::string_view extension) {
  auto row = conn.Exec("SELECT name, owner FROM extensions WHERE name = pgxn_lower($1) FOR UPDATE",
                       PgParams().Text(extension));
  if (!row.ok()) return row.status();
  if (row->rows() == 0) {
    return absl::NotFoundError(absl::StrCat("Extension \"", extension, "\" does not exist"));
  }
  return LockedExtension{row->GetString(0, 0), row->GetString(0, 1)};
}

// NotFound for an unknown account; with `require_active`, FailedPrecondition
// for one that is not active.
absl::Status CheckUser(PgConnection& conn, const std::string& nickname, bool require_active) {
  auto row = conn.Exec("SELECT status FROM users WHERE nickname = $1", PgParams().Text(nickname));
  if (!row.ok()) return row.status();
  if (row->rows() == 0) {
    return absl::NotFoundError(absl::StrCat("User \"", nickname, "\" does not exist"));
  }
  if (require_active && row->Get(0, 0) != "active") {
    return absl::FailedPreconditionError(
        absl::StrCat("User \"", nickname, "\" is not an active account"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> CheckedNickname(absl::string_view nickname) {
  std::string lower = absl::AsciiStrToLower(nickname);
  if (absl::Status s = CheckNickname(lower); !s.ok()) return s;
  return lower;
}

absl::Status AlreadyOwns(const std::string& nickname, const std::string& extension) {
  return absl::FailedPreconditionError(
      absl::StrCat("User \"", nickname, "\" already owns extension \"", extension, "\""));
}

}  // namespace

absl::StatusOr<ExtensionOwners> GetExtensionOwners(PgConnection& conn,
                                                   absl::string_view extension) {
  auto row = conn.Exec("SELECT name, owner FROM extensions WHERE name = pgxn_lower($1)",
                       PgParams().Text(extension));
  if (!row.ok()) return row.status();
  if (row->rows() == 0) {
    return absl::NotFoundError(absl::StrCat("Extension \"", extension, "\" does not exist"));
  }
  ExtensionOwners owners{row->GetString(0, 0), row->GetString(0, 1), {}};
  auto coowners = conn.Exec(
      "SELECT nickname FROM coowners WHERE extension = $1 ORDER BY nickname COLLATE \"C\"",
      PgParams().Text(owners.extension));
  if (!coowners.ok()) return coowners.status();
  for (int i = 0; i < coowners->rows(); ++i) owners.coowners.push_back(coowners->GetString(i, 0));
  return owners;
}

absl::Status GrantCoOwnership(PgConnection& conn, const Caller& caller, absl::string_view extension,
                              absl::string_view nickname) {
  absl::StatusOr<std::string> grantee = CheckedNickname(nickname);
  if (!grantee.ok()) return grantee.status();
  return conn.Transaction([&]() -> absl::Status {
    absl::StatusOr<LockedExtension> ext = LockExtension(conn, extension);
    if (!ext.ok()) return ext.status();
    if (!caller.is_admin && caller.nickname != ext->owner) {
      return absl::PermissionDeniedError(
          absl::StrCat("User \"", caller.nickname, "\" cannot grant co-ownership of extension \"",
                       ext->name, "\": only its owner or an administrator can"));
    }
    if (absl::Status s = CheckUser(conn, *grantee, /*require_active=*/true); !s.ok()) return s;
    if (*grantee == ext->owner) return AlreadyOwns(*grantee, ext->name);
    auto inserted = conn.Exec(
        "INSERT INTO coowners (extension, nickname) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        PgParams().Text(ext->name).Text(*grantee));
    if (!inserted.ok()) return inserted.status();
    if (inserted->affected() == 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          "User \"", *grantee, "\" is already a co-owner of extension \"", ext->name, "\""));
    }
    return absl::OkStatus();
  });
}

absl::Status RevokeCoOwnership(PgConnection& conn, const Caller& caller,
                               absl::string_view extension, absl::string_view nickname) {
  absl::StatusOr<std::string> coowner = CheckedNickname(nickname);
  if (!coowner.ok()) return coowner.status();
  return conn.Transaction([&]() -> absl::Status {
    absl::StatusOr<LockedExtension> ext = LockExtension(conn, extension);
    if (!ext.ok()) return ext.status();
    // Giving up one's own co-ownership needs nobody's permission.
    if (!caller.is_admin && caller.nickname != ext->owner && caller.nickname != *coowner) {
      return absl::PermissionDeniedError(
          absl::StrCat("User \"", caller.nickname, "\" cannot revoke co-ownership of extension \"",
                       ext->name, "\": only its owner or an administrator can"));
    }
    if (absl::Status s = CheckUser(conn, *coowner, /*require_active=*/false); !s.ok()) return s;
    auto deleted = conn.Exec("DELETE FROM coowners WHERE extension = $1 AND nickname = $2",
                             PgParams().Text(ext->name).Text(*coowner));
    if (!deleted.ok()) return deleted.status();
    if (deleted->affected() == 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          "User \"", *coowner, "\" is not a co-owner of extension \"", ext->name, "\""));
    }
    return absl::OkStatus();
  });
}

absl::Status TransferOwnership(PgConnection& conn, const Caller& caller,
                               absl::string_view extension, absl::string_view nickname) {
  absl::StatusOr<std::string> new_owner = CheckedNickname(nickname);
  if (!new_owner.ok()) return new_owner.status();
  return conn.Transaction([&]() -> absl::Status {
    absl::StatusOr<LockedExtension> ext = LockExtension(conn, extension);
    if (!ext.ok()) return ext.status();
    if (!caller.is_admin && caller.nickname != ext->owner) {
      return absl::PermissionDeniedError(
          absl::StrCat("User \"", caller.nickname, "\" cannot transfer ownership of extension \"",
                       ext->name, "\": only its owner or an administrator can"));
    }
    if (absl::Status s = CheckUser(conn, *new_owner, /*require_active=*/true); !s.ok()) return s;
    if (*new_owner == ext->owner) return AlreadyOwns(*new_owner, ext->name);
    // The owner is never also listed as a co-owner.
    auto deleted = conn.Exec("DELETE FROM coowners WHERE extension = $1 AND nickname = $2",
                             PgParams().Text(ext->name).Text(*new_owner));
    if (!deleted.ok()) return deleted.status();
    auto updated = conn.Exec("UPDATE extensions SET owner = $2 WHERE name = $1",
                             PgParams().Text(ext->name).Text(*new_owner));
    return updated.status();
  });
}

}  // namespace pgxn::origin
