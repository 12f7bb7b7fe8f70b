#include "origin/accounts/ownership.h"

#include <functional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "origin/accounts/accounts.h"
#include "origin/testing/test_postgres.h"
#include "origin/testing/test_releases.h"

namespace pgxn::origin {
namespace {

const Caller kBob{"bob", false};
const Caller kCarol{"carol", false};
const Caller kDave{"dave", false};
const Caller kAdmin{"root", true};

// One cluster for the suite; each test uses extensions of its own.
class OwnershipTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pg_ = new TestPostgres();
    if (!pg_->ok()) return;
    auto conn = pg_->Connect();
    for (const char* nick : {"bob", "carol", "dave"}) ASSERT_TRUE(AddTestUser(*conn, nick).ok());
    ASSERT_TRUE(AddTestUser(*conn, "root", /*admin=*/true).ok());
    ASSERT_TRUE(
        conn->Exec("INSERT INTO users (nickname, email) VALUES ('newbie', 'n@example.com')").ok());
  }
  static void TearDownTestSuite() {
    delete pg_;
    pg_ = nullptr;
  }
  void SetUp() override {
    ASSERT_TRUE(pg_->ok()) << pg_->error();
    conn_ = pg_->Connect();
    ASSERT_NE(conn_, nullptr);
  }

  // Publishes a release of `dist` providing `extension` as `user`.
  absl::Status Release(const std::string& user, const std::string& dist, const std::string& version,
                       const std::string& extension) {
    return PublishTestRelease(*conn_, user, TestMeta(dist, version, {extension})).status();
  }

  ExtensionOwners Owners(const std::string& extension) {
    absl::StatusOr<ExtensionOwners> owners = GetExtensionOwners(*conn_, extension);
    EXPECT_TRUE(owners.ok()) << owners.status();
    return owners.ok() ? *owners : ExtensionOwners{};
  }

  static TestPostgres* pg_;
  std::unique_ptr<PgConnection> conn_;
};

TestPostgres* OwnershipTest::pg_ = nullptr;

TEST_F(OwnershipTest, TheFirstUploaderOwnsAndCoOwnersMayRelease) {
  ASSERT_TRUE(Release("bob", "shared", "1.0.0", "shared").ok());
  EXPECT_EQ(Owners("Shared"), (ExtensionOwners{"shared", "bob", {}}));
  absl::Status refused = Release("carol", "shared", "1.1.0", "shared");
  EXPECT_EQ(refused.message(), "User \"carol\" does not own all provided extensions");

  ASSERT_TRUE(GrantCoOwnership(*conn_, kBob, "shared", "carol").ok());
  EXPECT_EQ(Owners("shared"), (ExtensionOwners{"shared", "bob", {"carol"}}));
  EXPECT_TRUE(Release("carol", "shared", "1.1.0", "shared").ok());

  ASSERT_TRUE(RevokeCoOwnership(*conn_, kBob, "shared", "carol").ok());
  EXPECT_EQ(Owners("shared"), (ExtensionOwners{"shared", "bob", {}}));
  refused = Release("carol", "shared", "1.2.0", "shared");
  EXPECT_EQ(refused.message(), "User \"carol\" does not own all provided extensions");
}

TEST_F(OwnershipTest, ADistributionIsReleasedOnlyByItsExtensionsOwners) {
  ASSERT_TRUE(Release("bob", "victim", "1.0.0", "victim").ok());
  // Carol's own new extension does not make bob's distribution hers.
  absl::Status refused = Release("carol", "victim", "2.0.0", "carols");
  EXPECT_TRUE(absl::IsPermissionDenied(refused)) << refused;
  EXPECT_EQ(refused.message(),
            "Distribution \"victim\" belongs to the owners of the extensions its latest release "
            "\"victim 1.0.0\" provides (victim: bob): user \"carol\" may not release it; an owner "
            "can make you a co-owner");
  EXPECT_TRUE(absl::IsNotFound(GetExtensionOwners(*conn_, "carols").status()));
  ASSERT_TRUE(GrantCoOwnership(*conn_, kBob, "victim", "dave").ok());
  refused = Release("carol", "victim", "2.0.0", "carols");
  EXPECT_TRUE(absl::StrContains(refused.message(), "(victim: bob, co-owners dave)")) << refused;
  // A co-owner may, and the new latest release's extensions decide from then on.
  ASSERT_TRUE(Release("dave", "victim", "2.0.0", "daves").ok());
  EXPECT_TRUE(Release("dave", "victim", "2.1.0", "daves").ok());
  refused = Release("bob", "victim", "3.0.0", "bobs");
  EXPECT_TRUE(absl::StrContains(refused.message(), "(daves: dave)")) << refused;
}

TEST_F(OwnershipTest, RefusedChangesNameTheRuleAndChangeNothing) {
  ASSERT_TRUE(Release("bob", "rules", "1.0.0", "rules").ok());
  ASSERT_TRUE(GrantCoOwnership(*conn_, kBob, "rules", "dave").ok());
  const ExtensionOwners before{"rules", "bob", {"dave"}};
  using Op = std::function<absl::Status()>;
  const struct {
    std::string name;
    Op op;
    absl::StatusCode code;
    std::string message;
  } cases[] = {
      {"invalid nickname", [&] { return GrantCoOwnership(*conn_, kBob, "rules", "not valid!"); },
       // The accounts' rule, whose words are theirs.
       absl::StatusCode::kInvalidArgument, std::string(CheckNickname("not valid!").message())},
      {"unknown extension", [&] { return GrantCoOwnership(*conn_, kBob, "nosuch", "carol"); },
       absl::StatusCode::kNotFound, "Extension \"nosuch\" does not exist"},
      {"grant by a stranger", [&] { return GrantCoOwnership(*conn_, kCarol, "rules", "carol"); },
       absl::StatusCode::kPermissionDenied,
       "User \"carol\" cannot grant co-ownership of extension \"rules\": only its owner or an "
       "administrator can"},
      {"grant by a co-owner", [&] { return GrantCoOwnership(*conn_, kDave, "rules", "carol"); },
       absl::StatusCode::kPermissionDenied,
       "User \"dave\" cannot grant co-ownership of extension \"rules\": only its owner or an "
       "administrator can"},
      {"grant to an unknown user", [&] { return GrantCoOwnership(*conn_, kBob, "rules", "ghost"); },
       absl::StatusCode::kNotFound, "User \"ghost\" does not exist"},
      {"grant to an inactive user",
       [&] { return GrantCoOwnership(*conn_, kBob, "rules", "newbie"); },
       absl::StatusCode::kFailedPrecondition, "User \"newbie\" is not an active account"},
      {"grant to the owner", [&] { return GrantCoOwnership(*conn_, kAdmin, "rules", "bob"); },
       absl::StatusCode::kFailedPrecondition, "User \"bob\" already owns extension \"rules\""},
      {"grant twice", [&] { return GrantCoOwnership(*conn_, kBob, "rules", "Dave"); },
       absl::StatusCode::kFailedPrecondition,
       "User \"dave\" is already a co-owner of extension \"rules\""},
      {"revoke by a stranger", [&] { return RevokeCoOwnership(*conn_, kCarol, "rules", "dave"); },
       absl::StatusCode::kPermissionDenied,
       "User \"carol\" cannot revoke co-ownership of extension \"rules\": only its owner or an "
       "administrator can"},
      {"revoke from an unknown user",
       [&] { return RevokeCoOwnership(*conn_, kBob, "rules", "ghost"); },
       absl::StatusCode::kNotFound, "User \"ghost\" does not exist"},
      {"revoke from a non-co-owner",
       [&] { return RevokeCoOwnership(*conn_, kBob, "rules", "carol"); },
       absl::StatusCode::kFailedPrecondition,
       "User \"carol\" is not a co-owner of extension \"rules\""},
      {"revoke from the owner", [&] { return RevokeCoOwnership(*conn_, kBob, "rules", "bob"); },
       absl::StatusCode::kFailedPrecondition,
       "User \"bob\" is not a co-owner of extension \"rules\""},
      {"transfer by a co-owner", [&] { return TransferOwnership(*conn_, kDave, "rules", "dave"); },
       absl::StatusCode::kPermissionDenied,
       "User \"dave\" cannot transfer ownership of extension \"rules\": only its owner or an "
       "administrator can"},
      {"transfer to the owner", [&] { return TransferOwnership(*conn_, kBob, "RULES", "bob"); },
       absl::StatusCode::kFailedPrecondition, "User \"bob\" already owns extension \"rules\""},
      {"transfer to an unknown user",
       [&] { return TransferOwnership(*conn_, kBob, "rules", "ghost"); },
       absl::StatusCode::kNotFound, "User \"ghost\" does not exist"},
      {"transfer of an unknown extension",
       [&] { return TransferOwnership(*conn_, kAdmin, "nosuch", "bob"); },
       absl::StatusCode::kNotFound, "Extension \"nosuch\" does not exist"},
  };
  ASSERT_TRUE(absl::StrContains(cases[0].message, "\"not valid!\"")) << cases[0].message;
  for (const auto& c : cases) {
    absl::Status s = c.op();
    EXPECT_EQ(s.code(), c.code) << c.name << ": " << s;
    EXPECT_EQ(s.message(), c.message) << c.name;
    EXPECT_EQ(Owners("rules"), before) << c.name << " changed the owners";
  }
}

TEST_F(OwnershipTest, AdministratorsMayChangeAnyExtension) {
  ASSERT_TRUE(Release("bob", "adminned", "1.0.0", "adminned").ok());
  ASSERT_TRUE(GrantCoOwnership(*conn_, kAdmin, "adminned", "carol").ok());
  ASSERT_TRUE(GrantCoOwnership(*conn_, kAdmin, "adminned", "dave").ok());
  EXPECT_EQ(Owners("adminned"), (ExtensionOwners{"adminned", "bob", {"carol", "dave"}}));
  ASSERT_TRUE(RevokeCoOwnership(*conn_, kAdmin, "adminned", "carol").ok());
  ASSERT_TRUE(TransferOwnership(*conn_, kAdmin, "adminned", "carol").ok());
  EXPECT_EQ(Owners("adminned"), (ExtensionOwners{"adminned", "carol", {"dave"}}));
}

TEST_F(OwnershipTest, CoOwnersMayGiveUpTheirOwnCoOwnership) {
  ASSERT_TRUE(Release("bob", "leaving", "1.0.0", "leaving").ok());
  ASSERT_TRUE(GrantCoOwnership(*conn_, kBob, "leaving", "dave").ok());
  ASSERT_TRUE(GrantCoOwnership(*conn_, kBob, "leaving", "carol").ok());
  ASSERT_TRUE(RevokeCoOwnership(*conn_, kDave, "leaving", "dave").ok());
  EXPECT_EQ(Owners("leaving"), (ExtensionOwners{"leaving", "bob", {"carol"}}));
}

TEST_F(OwnershipTest, TransferLeavesThePreviousOwnerNothing) {
  ASSERT_TRUE(Release("bob", "moving", "1.0.0", "moving").ok());
  ASSERT_TRUE(GrantCoOwnership(*conn_, kBob, "moving", "carol").ok());
  ASSERT_TRUE(TransferOwnership(*conn_, kBob, "moving", "carol").ok());
  // The new owner is no longer listed as a co-owner.
  EXPECT_EQ(Owners("moving"), (ExtensionOwners{"moving", "carol", {}}));
  EXPECT_EQ(Release("bob", "moving", "1.1.0", "moving").message(),
            "User \"bob\" does not own all provided extensions");
  EXPECT_EQ(GrantCoOwnership(*conn_, kBob, "moving", "dave").message(),
            "User \"bob\" cannot grant co-ownership of extension \"moving\": only its owner or an "
            "administrator can");
  EXPECT_TRUE(Release("carol", "moving", "1.1.0", "moving").ok());
  ASSERT_TRUE(GrantCoOwnership(*conn_, kCarol, "moving", "bob").ok());
  EXPECT_TRUE(Release("bob", "moving", "1.2.0", "moving").ok());
}

TEST_F(OwnershipTest, UnknownExtensionHasNoOwners) {
  absl::StatusOr<ExtensionOwners> owners = GetExtensionOwners(*conn_, "never");
  EXPECT_TRUE(absl::IsNotFound(owners.status())) << owners.status();
  EXPECT_EQ(owners.status().message(), "Extension \"never\" does not exist");
}

}  // namespace
}  // namespace pgxn::origin
