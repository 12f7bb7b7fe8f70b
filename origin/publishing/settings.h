// Named values the origin records in its database (the settings table) for
// the processes that work beside it: the public URL that operator commands'
// mail must link to, and the public half of the key its events are signed
// with. Each call is one statement on the caller's connection.
// Thread-compatible.
#ifndef PGXN_ORIGIN_PUBLISHING_SETTINGS_H_
#define PGXN_ORIGIN_PUBLISHING_SETTINGS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "origin/pg/pg.h"

namespace pgxn::origin {

// Every setting there is; a name that is not here cannot be read or written.
enum class Setting {
  kPublicUrl,        // "public_url": where people reach the Manager
  kOriginPublicKey,  // "origin_public_key": hex of the signing key's public half
};

// The name the setting has in the table.
absl::string_view SettingName(Setting setting);

absl::Status PutSetting(PgConnection& conn, Setting setting, absl::string_view value);
// NotFound when it was never recorded.
absl::StatusOr<std::string> GetSetting(PgConnection& conn, Setting setting);

}  // namespace pgxn::origin

#endif  // PGXN_ORIGIN_PUBLISHING_SETTINGS_H_
