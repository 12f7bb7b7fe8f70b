#include "origin/testing/test_postgres.h"

#include "origin/catalog/catalog.h"
#include "origin/pg/migrations.h"
#include "origin/publishing/origin_key.h"

namespace pgxn::origin {

TestPostgres::TestPostgres() {
  EmbeddedPostgresOptions options;
  options.dir = dir_.path() + "/postgres";
  options.unsafe_no_fsync = true;
  absl::StatusOr<std::unique_ptr<EmbeddedPostgres>> pg = EmbeddedPostgres::Start(options);
  if (!pg.ok()) {
    error_ = std::string(pg.status().message());
    return;
  }
  auto conn = PgConnection::Connect((*pg)->dsn());
  if (!conn.ok()) {
    error_ = std::string(conn.status().message());
    return;
  }
  absl::StatusOr<int> migrated = ApplyMigrations(**conn, EmbeddedMigrations());
  if (!migrated.ok()) {
    error_ = std::string(migrated.status().message());
    return;
  }
  if (absl::Status s = CheckOriginKey(**conn, *TestPublishing().key); !s.ok()) {
    error_ = std::string(s.message());
    return;
  }
  pg_ = *std::move(pg);
}

const Publishing& TestPublishing() {
  static const feed::KeyPair* key = new feed::KeyPair(feed::GenerateKeyPair());
  static const Publishing* publishing = [] {
    auto* made = new Publishing;
    made->key = key;
    made->render_stats = [](PgConnection& conn) { return RenderStatsFiles(conn); };
    return made;
  }();
  return *publishing;
}

std::unique_ptr<PgConnection> TestPostgres::Connect() const {
  auto conn = PgConnection::Connect(pg_->dsn());
  return conn.ok() ? *std::move(conn) : nullptr;
}

}  // namespace pgxn::origin
