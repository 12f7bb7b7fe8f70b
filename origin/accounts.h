// Accounts on the origin. Each call runs on the caller's connection.
// Thread-compatible.
#ifndef PGXN_ORIGIN_ACCOUNTS_H_
#define PGXN_ORIGIN_ACCOUNTS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "origin/pg.h"
#include "origin/publisher.h"

namespace pgxn::origin {

struct NewAccount {
  std::string nickname;
  std::string full_name;
  std::string email;
  std::string uri;
  std::string twitter;
  std::string password;
  bool admin = false;
};

// InvalidArgument naming the field when a value breaks PGXN's rules.
absl::Status CheckNickname(absl::string_view nickname);
absl::Status CheckEmail(absl::string_view email);

// Creates an active account and publishes its user/NICK.json in a `user`
// event, in one transaction. AlreadyExists naming the nickname or email when
// taken; InvalidArgument for a bad field or password.
absl::StatusOr<v1::Event> CreateActiveAccount(PgConnection& conn, const NewAccount& account,
                                              const CommitListener& on_commit = nullptr);

}  // namespace pgxn::origin

#endif  // PGXN_ORIGIN_ACCOUNTS_H_
