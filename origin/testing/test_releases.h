// Test support: accounts and releases published through the real code paths
// (CreateActiveAccount, PublishRelease) on a TestPostgres, for the unit tests
// of modules that work on published releases. Not linked into pgxnd.
#ifndef PGXN_ORIGIN_TESTING_TEST_RELEASES_H_
#define PGXN_ORIGIN_TESTING_TEST_RELEASES_H_

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "origin/pg/pg.h"
#include "origin/publishing/publisher.h"

namespace pgxn::origin {

// An active account NICK with email NICK@example.com, published like
// `pgxnd user add` does.
absl::Status AddTestUser(PgConnection& conn, const std::string& nickname, bool admin = false);

// A valid Meta Spec v1 document providing `extensions` (each at `version`).
nlohmann::json TestMeta(const std::string& name, const std::string& version,
                        const std::vector<std::string>& extensions,
                        const std::vector<std::string>& tags = {},
                        const std::string& status = "stable");

// A zip of `meta` under NAME-VERSION/, plus `files` (path, content) there.
std::string TestDistZip(const nlohmann::json& meta,
                        const std::vector<std::pair<std::string, std::string>>& files = {});

// Uploads TestDistZip(meta, files) as `user`.
absl::StatusOr<v1::Event> PublishTestRelease(
    PgConnection& conn, const std::string& user, const nlohmann::json& meta,
    const std::vector<std::pair<std::string, std::string>>& files = {});
// The same with `publishing` (e.g. one that defers the aggregate files).
absl::StatusOr<v1::Event> PublishTestRelease(PgConnection& conn, const std::string& user,
                                             const nlohmann::json& meta,
                                             const Publishing& publishing);

}  // namespace pgxn::origin

#endif  // PGXN_ORIGIN_TESTING_TEST_RELEASES_H_
