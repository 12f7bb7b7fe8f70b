#include "origin/publishing/settings.h"

#include "absl/strings/str_cat.h"

namespace pgxn::origin {

absl::string_view SettingName(Setting setting) {
  switch (setting) {
    case Setting::kPublicUrl:
      return "public_url";
    case Setting::kOriginPublicKey:
      return "origin_public_key";
  }
  return "";
}

absl::Status PutSetting(PgConnection& conn, Setting setting, absl::string_view value) {
  auto result = conn.Exec(
      "INSERT INTO settings (name, value) VALUES ($1, $2)"
      " ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value, updated_at = now()",
      PgParams().Text(SettingName(setting)).Text(value));
  return result.status();
}

absl::StatusOr<std::string> GetSetting(PgConnection& conn, Setting setting) {
  auto result = conn.Exec("SELECT value FROM settings WHERE name = $1",
                          PgParams().Text(SettingName(setting)));
  if (!result.ok()) return result.status();
  if (result->rows() == 0) {
    return absl::NotFoundError(absl::StrCat("No setting ", SettingName(setting)));
  }
  return result->GetString(0, 0);
}

}  // namespace pgxn::origin
