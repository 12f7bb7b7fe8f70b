// The libpq adapter: connections, parameterised statements, binary results,
// transactions, LISTEN/NOTIFY, and a small connection pool. Every SQL
// statement of the origin goes through Exec with $n parameters; values are
// never spliced into SQL text. PGresult and PGconn stay inside pg.cc.
//
// Thread-safety: a PgConnection is used by one thread at a time (the pool
// hands each out exclusively); PgPool is thread-safe.
#ifndef PGXN_ORIGIN_PG_PG_H_
#define PGXN_ORIGIN_PG_PG_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace pgxn::origin {

// Values bound to $1, $2, ... in order.
class PgParams {
 public:
  PgParams& Text(absl::string_view value);
  PgParams& Int(int64_t value);
  PgParams& Bool(bool value);
  PgParams& Bytes(absl::string_view value);  // bytea, sent in binary
  PgParams& Null();
  PgParams& TextArray(const std::vector<std::string>& values);  // text[]

  size_t size() const { return values_.size(); }

 private:
  friend class PgConnection;
  struct Value {
    std::string data;
    bool null = false;
    bool binary = false;
    unsigned int type = 0;  // 0: let the server infer it
  };
  std::vector<Value> values_;
};

// A result in binary format: text and bytea columns are the raw bytes, integer
// columns are decoded by GetInt. Columns are addressed by index.
class PgResult {
 public:
  PgResult(PgResult&&) noexcept;
  PgResult& operator=(PgResult&&) noexcept;
  ~PgResult();

  int rows() const;
  bool IsNull(int row, int column) const;
  absl::string_view Get(int row, int column) const;  // "" when NULL
  std::string GetString(int row, int column) const { return std::string(Get(row, column)); }
  // smallint, integer or bigint columns (0 when NULL).
  int64_t GetInt(int row, int column) const;
  bool GetBool(int row, int column) const;
  // Number of rows a command touched (INSERT/UPDATE/DELETE).
  int64_t affected() const;

 private:
  friend class PgConnection;
  explicit PgResult(void* result) : result_(result) {}
  void* result_;  // PGresult*
};

class PgConnection {
 public:
  // `dsn` is a libpq connection string. Unavailable if the server cannot be
  // reached.
  static absl::StatusOr<std::unique_ptr<PgConnection>> Connect(const std::string& dsn);
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // One statement with parameters, prepared on first use. Errors: AlreadyExists for a unique
  // violation, Aborted for a serialisation failure or deadlock, Unavailable
  // when the connection is lost, InvalidArgument for other data errors,
  // Internal otherwise; each message carries the server's text.
  absl::StatusOr<PgResult> Exec(absl::string_view sql, const PgParams& params = PgParams());
  // The same without preparing: for statements that cannot be prepared
  // (FETCH) or run once.
  absl::StatusOr<PgResult> ExecOnce(absl::string_view sql, const PgParams& params = PgParams());
  // Several statements without parameters (migrations, BEGIN/COMMIT).
  absl::Status ExecScript(absl::string_view sql);

  // Runs `body` in a READ COMMITTED transaction: commits if it returns OK,
  // rolls back otherwise (and when the commit fails), and returns its status.
  absl::Status Transaction(const std::function<absl::Status()>& body);
  // Runs `body` in a REPEATABLE READ READ ONLY transaction, so that all its
  // statements read one snapshot of the database (work done outside a lock
  // that is checked against the rows under the lock later), then ends it.
  absl::Status SnapshotTransaction(const std::function<absl::Status()>& body);

  bool ok() const;  // the connection is usable

  // For a connection that lay idle: reads what the server sent meanwhile (on
  // an idle connection only a notice, or the goodbye of a server that shut
  // down or restarted) and returns ok(), so a connection the server closed is
  // not handed out again. Never blocks.
  bool CheckIdle();

  // LISTEN support: the socket to poll, and the payloads of notifications
  // received since the last call (after reading input from the socket).
  int socket() const;
  absl::StatusOr<std::vector<std::string>> TakeNotifications();

 private:
  explicit PgConnection(void* conn) : conn_(conn) {}
  absl::Status ResultStatus(void* result, absl::string_view sql) const;
  absl::StatusOr<PgResult> Run(absl::string_view sql, const PgParams& params, bool prepare);
  void* conn_;  // PGconn*
  // Statements prepared on this connection, by SQL text and parameter types:
  // Postgres parses and plans each only once per connection.
  absl::flat_hash_map<std::string, std::string> prepared_;
};

// Connections to one database, created on demand and reused, at most
// `max_open` at a time: a caller finding them all in use waits up to
// `acquire_timeout`, then gets Unavailable, so a burst of requests queues
// instead of exhausting the server's connections.
class PgPool {
 public:
  PgPool(std::string dsn, size_t max_open, absl::Duration acquire_timeout = absl::Seconds(30))
      : dsn_(std::move(dsn)), max_open_(max_open), acquire_timeout_(acquire_timeout) {}

  class Lease {
   public:
    Lease(PgPool* pool, std::unique_ptr<PgConnection> conn) : pool_(pool), conn_(std::move(conn)) {}
    Lease(Lease&&) = default;
    ~Lease();
    PgConnection& operator*() const { return *conn_; }
    PgConnection* operator->() const { return conn_.get(); }

   private:
    PgPool* pool_;
    std::unique_ptr<PgConnection> conn_;
  };

  absl::StatusOr<Lease> Acquire();
  const std::string& dsn() const { return dsn_; }

 private:
  void Release(std::unique_ptr<PgConnection> conn);

  const std::string dsn_;
  const size_t max_open_;
  const absl::Duration acquire_timeout_;
  absl::Mutex mu_;
  size_t open_ ABSL_GUARDED_BY(mu_) = 0;  // leased plus idle
  std::vector<std::unique_ptr<PgConnection>> idle_ ABSL_GUARDED_BY(mu_);
};

// Errors that come from PostgreSQL or libpq keep the server's text in their
// message (for logs and operators) and carry the SQLSTATE ("22021"; "08000"
// when a connection could not be made or was lost) as a payload, so a layer
// that answers clients can tell them from its own messages and say less.
// The SQLSTATE of such an error; "" for any other status.
std::string SqlStateOf(const absl::Status& status);

// For a database error, a short message fit for a client that names the
// kind of problem and nothing of the server's text or the SQL, e.g. "Bad
// request: text that is not valid UTF-8"; "" for any other status.
std::string PublicDatabaseMessage(const absl::Status& status);

// Microseconds since the Unix epoch of a timestamptz, as SQL text to wrap a
// column in: "(extract(epoch from col) * 1000000)::bigint".
std::string MicrosSql(absl::string_view column);

}  // namespace pgxn::origin

#endif  // PGXN_ORIGIN_PG_PG_H_
