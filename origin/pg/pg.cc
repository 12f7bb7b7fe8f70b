#include "origin/pg/pg.h"

#include <libpq-fe.h>
#include <poll.h>

#include <cstring>
#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"

namespace pgxn::origin {
namespace {

// Type OIDs (pg_type.dat); stable across PostgreSQL versions.
constexpr Oid kByteaOid = 17;
constexpr Oid kInt8Oid = 20;
constexpr Oid kBoolOid = 16;
constexpr Oid kTextArrayOid = 1009;

// Enough for every statement the origin runs; past it, statements are sent
// unprepared rather than growing the server's memory without bound.
constexpr size_t kMaxPreparedStatements = 1000;

constexpr char kSqlStatePayload[] = "type.googleapis.com/pgxn.origin.SqlState";
constexpr char kConnectionState[] = "08000";

absl::Status WithSqlState(absl::Status status, absl::string_view sqlstate) {
  status.SetPayload(kSqlStatePayload, absl::Cord(sqlstate.empty() ? "XX000" : sqlstate));
  return status;
}

PGresult* AsResult(void* p) { return static_cast<PGresult*>(p); }
PGconn* AsConn(void* p) { return static_cast<PGconn*>(p); }

uint64_t DecodeBigEndian(absl::string_view bytes) {
  uint64_t value = 0;
  for (unsigned char c : bytes) value = (value << 8) | c;
  return value;
}

// A text[] literal: {"a","b"} with quotes and backslashes escaped.
std::string ArrayLiteral(const std::vector<std::string>& values) {
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    out += '"';
    for (char c : values[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  out += '}';
  return out;
}

}  // namespace

PgParams& PgParams::Text(absl::string_view value) {
  values_.push_back(Value{std::string(value), false, false, 0});
  return *this;
}

PgParams& PgParams::Int(int64_t value) {
  values_.push_back(Value{absl::StrCat(value), false, false, kInt8Oid});
  return *this;
}

PgParams& PgParams::Bool(bool value) {
  values_.push_back(Value{value ? "t" : "f", false, false, kBoolOid});
  return *this;
}

PgParams& PgParams::Bytes(absl::string_view value) {
  values_.push_back(Value{std::string(value), false, true, kByteaOid});
  return *this;
}

PgParams& PgParams::Null() {
  values_.push_back(Value{"", true, false, 0});
  return *this;
}

PgParams& PgParams::TextArray(const std::vector<std::string>& values) {
  values_.push_back(Value{ArrayLiteral(values), false, false, kTextArrayOid});
  return *this;
}

PgResult::PgResult(PgResult&& other) noexcept : result_(std::exchange(other.result_, nullptr)) {}

PgResult& PgResult::operator=(PgResult&& other) noexcept {
  if (this != &other) {
    if (result_ != nullptr) PQclear(AsResult(result_));
    result_ = std::exchange(other.result_, nullptr);
  }
  return *this;
}

PgResult::~PgResult() {
  if (result_ != nullptr) PQclear(AsResult(result_));
}

int PgResult::rows() const { return PQntuples(AsResult(result_)); }

bool PgResult::IsNull(int row, int column) const {
  return PQgetisnull(AsResult(result_), row, column) != 0;
}

absl::string_view PgResult::Get(int row, int column) const {
  if (IsNull(row, column)) return {};
  return absl::string_view(PQgetvalue(AsResult(result_), row, column),
                           static_cast<size_t>(PQgetlength(AsResult(result_), row, column)));
}

int64_t PgResult::GetInt(int row, int column) const {
  absl::string_view bytes = Get(row, column);
  uint64_t raw = DecodeBigEndian(bytes);
  // Sign-extend 2- and 4-byte integers.
  switch (bytes.size()) {
    case 2:
      return static_cast<int16_t>(raw);
    case 4:
      return static_cast<int32_t>(raw);
    default:
      return static_cast<int64_t>(raw);
  }
}

bool PgResult::GetBool(int row, int column) const {
  absl::string_view bytes = Get(row, column);
  return !bytes.empty() && bytes[0] != 0;
}

int64_t PgResult::affected() const {
  const char* tuples = PQcmdTuples(AsResult(result_));
  return tuples == nullptr || *tuples == '\0' ? 0 : std::strtoll(tuples, nullptr, 10);
}

absl::StatusOr<std::unique_ptr<PgConnection>> PgConnection::Connect(const std::string& dsn) {
  PGconn* conn = PQconnectdb(dsn.c_str());
  if (conn == nullptr) return absl::ResourceExhaustedError("Cannot allocate a Postgres connection");
  if (PQstatus(conn) != CONNECTION_OK) {
    // The DSN is not logged: it may carry a password.
    std::string message(absl::StripTrailingAsciiWhitespace(PQerrorMessage(conn)));
    PQfinish(conn);
    return WithSqlState(
        absl::UnavailableError(absl::StrCat("Cannot connect to Postgres: ", message)),
        kConnectionState);
  }
  // Quiet NOTICE messages (e.g. "relation already exists, skipping").
  PQsetNoticeProcessor(
      conn, [](void*, const char*) {}, nullptr);
  return std::unique_ptr<PgConnection>(new PgConnection(conn));
}

PgConnection::~PgConnection() { PQfinish(AsConn(conn_)); }

bool PgConnection::ok() const { return PQstatus(AsConn(conn_)) == CONNECTION_OK; }

bool PgConnection::CheckIdle() {
  // A server going away sends an error and then closes the socket; libpq
  // notices the close only on the read after the one that took the error.
  for (int reads = 0; reads < 4 && ok(); ++reads) {
    pollfd input{socket(), POLLIN, 0};
    if (::poll(&input, 1, 0) != 1) break;
    if (PQconsumeInput(AsConn(conn_)) == 0) break;
  }
  return ok();
}

absl::Status PgConnection::ResultStatus(void* result, absl::string_view sql) const {
  PGresult* res = AsResult(result);
  ExecStatusType status = res == nullptr ? PGRES_FATAL_ERROR : PQresultStatus(res);
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return absl::OkStatus();
  const char* state = res == nullptr ? nullptr : PQresultErrorField(res, PG_DIAG_SQLSTATE);
  std::string message(absl::StripTrailingAsciiWhitespace(
      res != nullptr ? PQresultErrorMessage(res) : PQerrorMessage(AsConn(conn_))));
  std::string sqlstate = state == nullptr ? "" : state;
  if (!ok()) {
    return WithSqlState(absl::UnavailableError(absl::StrCat("Postgres connection lost: ", message)),
                        kConnectionState);
  }
  absl::Status error;
  if (sqlstate == "23505") {
    error = absl::AlreadyExistsError(message);
  } else if (sqlstate == "40001" || sqlstate == "40P01") {
    error = absl::AbortedError(message);
  } else if (absl::StartsWith(sqlstate, "08") || sqlstate == "57P01" || sqlstate == "57P03") {
    error = absl::UnavailableError(message);
  } else if (absl::StartsWith(sqlstate, "22") || absl::StartsWith(sqlstate, "23")) {
    error = absl::InvalidArgumentError(message);
  } else {
    error =
        absl::InternalError(absl::StrCat(message, " [", sqlstate, "] in: ", sql.substr(0, 200)));
  }
  return WithSqlState(std::move(error), sqlstate);
}

absl::StatusOr<PgResult> PgConnection::Exec(absl::string_view sql, const PgParams& params) {
  return Run(sql, params, /*prepare=*/true);
}

absl::StatusOr<PgResult> PgConnection::ExecOnce(absl::string_view sql, const PgParams& params) {
  return Run(sql, params, /*prepare=*/false);
}

absl::StatusOr<PgResult> PgConnection::Run(absl::string_view sql, const PgParams& params,
                                           bool prepare) {
  const size_t n = params.values_.size();
  std::vector<const char*> values(n);
  std::vector<int> lengths(n), formats(n);
  std::vector<Oid> types(n);
  for (size_t i = 0; i < n; ++i) {
    const PgParams::Value& v = params.values_[i];
    values[i] = v.null ? nullptr : v.data.data();
    lengths[i] = static_cast<int>(v.data.size());
    formats[i] = v.binary ? 1 : 0;
    types[i] = v.type;
  }
  std::string key(sql);
  for (Oid type : types) absl::StrAppend(&key, "\0", type);
  auto prepared = prepared_.find(key);
  if (!prepare) prepared = prepared_.end();
  if (prepare && prepared == prepared_.end() && prepared_.size() < kMaxPreparedStatements) {
    const std::string name = absl::StrCat("pgxn_", prepared_.size() + 1);
    const std::string statement(sql);
    PgResult made(PQprepare(AsConn(conn_), name.c_str(), statement.c_str(), static_cast<int>(n),
                            types.data()));
    if (absl::Status s = ResultStatus(made.result_, sql); !s.ok()) return s;
    prepared = prepared_.emplace(std::move(key), name).first;
  }
  PGresult* result;
  if (prepared != prepared_.end()) {
    result = PQexecPrepared(AsConn(conn_), prepared->second.c_str(), static_cast<int>(n),
                            values.data(), lengths.data(), formats.data(), /*resultFormat=*/1);
  } else {
    const std::string statement(sql);
    result = PQexecParams(AsConn(conn_), statement.c_str(), static_cast<int>(n), types.data(),
                          values.data(), lengths.data(), formats.data(), /*resultFormat=*/1);
  }
  PgResult owned(result);
  if (absl::Status s = ResultStatus(result, sql); !s.ok()) return s;
  return owned;
}

absl::Status PgConnection::ExecScript(absl::string_view sql) {
  const std::string script(sql);
  PgResult owned(PQexec(AsConn(conn_), script.c_str()));
  return ResultStatus(owned.result_, sql);
}

absl::Status PgConnection::Transaction(const std::function<absl::Status()>& body) {
  // Every transaction of the origin is written for READ COMMITTED (the feed
  // head's row lock relies on it); an external database may default to more.
  if (absl::Status s = ExecScript("BEGIN ISOLATION LEVEL READ COMMITTED"); !s.ok()) return s;
  absl::Status result = body();
  if (result.ok()) result = ExecScript("COMMIT");
  if (!result.ok() && ok()) {
    // Best effort: a failed ROLLBACK leaves a broken connection the pool drops.
    (void)ExecScript("ROLLBACK");
  }
  return result;
}

absl::Status PgConnection::SnapshotTransaction(const std::function<absl::Status()>& body) {
  if (absl::Status s = ExecScript("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"); !s.ok()) {
    return s;
  }
  absl::Status result = body();
  // Nothing to keep: COMMIT and ROLLBACK end a read-only transaction alike.
  absl::Status ended = ExecScript(result.ok() ? "COMMIT" : "ROLLBACK");
  return result.ok() ? ended : result;
}

int PgConnection::socket() const { return PQsocket(AsConn(conn_)); }

absl::StatusOr<std::vector<std::string>> PgConnection::TakeNotifications() {
  if (PQconsumeInput(AsConn(conn_)) == 0) {
    return WithSqlState(absl::UnavailableError(absl::StrCat(
                            "Postgres connection lost: ",
                            absl::StripTrailingAsciiWhitespace(PQerrorMessage(AsConn(conn_))))),
                        kConnectionState);
  }
  std::vector<std::string> payloads;
  while (PGnotify* notify = PQnotifies(AsConn(conn_))) {
    payloads.emplace_back(notify->extra);
    PQfreemem(notify);
  }
  return payloads;
}

PgPool::Lease::~Lease() {
  if (conn_ != nullptr) pool_->Release(std::move(conn_));
}

absl::StatusOr<PgPool::Lease> PgPool::Acquire() {
  {
    absl::MutexLock lock(&mu_);
    auto available = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return !idle_.empty() || open_ < max_open_;
    };
    if (!mu_.AwaitWithTimeout(absl::Condition(&available), acquire_timeout_)) {
      return absl::UnavailableError(
          absl::StrCat("All ", max_open_, " database connections are busy; try again"));
    }
    while (!idle_.empty()) {
      std::unique_ptr<PgConnection> conn = std::move(idle_.back());
      idle_.pop_back();
      if (conn->CheckIdle()) return Lease(this, std::move(conn));
      --open_;
    }
    ++open_;  // reserved for the connection made below
  }
  absl::StatusOr<std::unique_ptr<PgConnection>> conn = PgConnection::Connect(dsn_);
  if (!conn.ok()) {
    absl::MutexLock lock(&mu_);
    --open_;
    return conn.status();
  }
  return Lease(this, *std::move(conn));
}

void PgPool::Release(std::unique_ptr<PgConnection> conn) {
  absl::MutexLock lock(&mu_);
  if (conn->ok()) {
    idle_.push_back(std::move(conn));
  } else {
    --open_;
  }
}

std::string SqlStateOf(const absl::Status& status) {
  absl::optional<absl::Cord> state = status.GetPayload(kSqlStatePayload);
  return state.has_value() ? std::string(*state) : std::string();
}

std::string PublicDatabaseMessage(const absl::Status& status) {
  const std::string state = SqlStateOf(status);
  if (state.empty()) return "";
  // SQLSTATE classes: Appendix A of the PostgreSQL manual.
  if (state == "22021" || state == "22P05") {
    return "Bad request: a value is not valid UTF-8 text or contains a NUL character";
  }
  if (absl::StartsWith(state, "22")) return "Bad request: a value is malformed or out of range";
  if (state == "23505") return "Conflict: that name or value is already taken";
  if (absl::StartsWith(state, "23")) return "Bad request: a value breaks a rule of the catalog";
  if (state == "40001" || state == "40P01") return "A concurrent change got in the way; try again";
  if (absl::StartsWith(state, "08") || absl::StartsWith(state, "57")) {
    return "The database is unavailable; try again shortly";
  }
  return "Internal error; the origin's log has the details";
}

std::string MicrosSql(absl::string_view column) {
  return absl::StrCat("(extract(epoch from ", column, ") * 1000000)::bigint");
}

}  // namespace pgxn::origin
