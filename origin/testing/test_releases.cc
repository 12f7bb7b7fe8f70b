#include "origin/testing/test_releases.h"

#include "origin/testing/test_postgres.h"

#include "absl/strings/str_cat.h"
#include "archive/archive.h"
#include "origin/accounts/accounts.h"
#include "origin/intake/releases.h"

namespace pgxn::origin {

using archive::ArchiveEntry;
using archive::ArchiveLimits;
using archive::WriteZip;

absl::Status AddTestUser(PgConnection& conn, const std::string& nickname, bool admin) {
  NewAccount account;
  account.nickname = nickname;
  account.full_name = absl::StrCat("Test ", nickname);
  account.email = absl::StrCat(nickname, "@example.com");
  account.password = "a test password";
  account.admin = admin;
  return CreateActiveAccount(conn, account, TestPublishing()).status();
}

nlohmann::json TestMeta(const std::string& name, const std::string& version,
                        const std::vector<std::string>& extensions,
                        const std::vector<std::string>& tags, const std::string& status) {
  nlohmann::json provides = nlohmann::json::object();
  for (const std::string& extension : extensions) {
    provides[extension] = {{"file", absl::StrCat("sql/", extension, ".sql")},
                           {"version", version},
                           {"abstract", absl::StrCat("The ", extension, " extension")}};
  }
  nlohmann::json meta{
      {"name", name},
      {"version", version},
      {"abstract", absl::StrCat(name, " for tests")},
      {"maintainer", "Test Author <author@example.com>"},
      {"license", "postgresql"},
      {"provides", provides},
      {"release_status", status},
      {"meta-spec", {{"version", "1.0.0"}, {"url", "https://pgxn.org/meta/spec.txt"}}},
  };
  if (!tags.empty()) meta["tags"] = tags;
  return meta;
}

std::string TestDistZip(const nlohmann::json& meta,
                        const std::vector<std::pair<std::string, std::string>>& files) {
  const std::string top =
      absl::StrCat(meta.value("name", "dist"), "-", meta.value("version", "0.0.0"), "/");
  std::vector<ArchiveEntry> entries;
  auto add = [&](const std::string& path, const std::string& content) {
    ArchiveEntry entry;
    entry.path = top + path;
    entry.type = ArchiveEntry::Type::kFile;
    entry.data = content;
    entry.mtime = 1700000000;
    entry.mode = 0644;
    entries.push_back(std::move(entry));
  };
  add("META.json", meta.dump(2));
  for (const auto& [path, content] : files) add(path, content);
  absl::StatusOr<std::string> zip = WriteZip(entries);
  return zip.ok() ? *zip : "";
}

absl::StatusOr<v1::Event> PublishTestRelease(
    PgConnection& conn, const std::string& user, const nlohmann::json& meta,
    const std::vector<std::pair<std::string, std::string>>& files) {
  const std::string zip = TestDistZip(meta, files);
  return PublishRelease(conn, Upload{user, "test.zip", zip}, ArchiveLimits(), TestPublishing());
}

absl::StatusOr<v1::Event> PublishTestRelease(PgConnection& conn, const std::string& user,
                                             const nlohmann::json& meta,
                                             const Publishing& publishing) {
  return PublishRelease(conn, Upload{user, "test.zip", TestDistZip(meta)}, ArchiveLimits(),
                        publishing);
}

}  // namespace pgxn::origin
