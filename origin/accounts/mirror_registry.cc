#include "origin/accounts/mirror_registry.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "origin/catalog/catalog.h"

namespace pgxn::origin {
namespace {

constexpr const char* kRequired[] = {"uri",      "email",    "frequency", "organization",
                                     "location", "timezone", "bandwidth", "src"};
constexpr const char* kOptional[] = {"rsync", "notes"};
// An HTML form's submit button comes along with the fields.
constexpr char kSubmit[] = "submit";

// Columns in MirrorRow order, for SELECT and ReadMirror.
constexpr char kColumns[] =
    "uri, frequency, location, organization, timezone, email, bandwidth, src, rsync, notes";

bool IsKnownField(absl::string_view name) {
  for (const char* field : kRequired) {
    if (name == field) return true;
  }
  for (const char* field : kOptional) {
    if (name == field) return true;
  }
  return false;
}

std::string* FieldOf(MirrorRow& mirror, absl::string_view name) {
  if (name == "uri") return &mirror.uri;
  if (name == "email") return &mirror.email;
  if (name == "frequency") return &mirror.frequency;
  if (name == "organization") return &mirror.organization;
  if (name == "location") return &mirror.location;
  if (name == "timezone") return &mirror.timezone;
  if (name == "bandwidth") return &mirror.bandwidth;
  return &mirror.src;
}

bool HasControl(absl::string_view value, bool allow_line_breaks) {
  for (unsigned char c : value) {
    if (allow_line_breaks && (c == '\n' || c == '\r' || c == '\t')) continue;
    if (c < 0x20 || c == 0x7f) return true;
  }
  return false;
}

bool IsHttpUrl(absl::string_view value) {
  absl::string_view rest = value;
  if (!absl::ConsumePrefix(&rest, "http://") && !absl::ConsumePrefix(&rest, "https://")) {
    return false;
  }
  const absl::string_view host = rest.substr(0, rest.find('/'));
  return !host.empty() && !absl::StrContains(value, ' ');
}

bool IsEmail(absl::string_view value) {
  const size_t at = value.find('@');
  return at != absl::string_view::npos && at > 0 &&
         value.find('@', at + 1) == absl::string_view::npos &&
         value.find('.', at) != absl::string_view::npos && value.back() != '.' &&
         value.back() != '@' && !absl::StrContains(value, ' ');
}

// The problem with one value, or "".
std::string CheckValue(absl::string_view name, const std::string& value) {
  const std::string quoted = absl::StrCat("Invalid field \"", name, "\": ");
  if (value.size() > kMaxMirrorFieldBytes) {
    return absl::StrCat(quoted, "longer than ", kMaxMirrorFieldBytes, " bytes");
  }
  if (HasControl(value, /*allow_line_breaks=*/name == "notes")) {
    return absl::StrCat(quoted, "contains a control character");
  }
  if (name == "uri" && !IsHttpUrl(value)) {
    return absl::StrCat(quoted, "\"", value, "\" is not an http or https URL");
  }
  if (name == "email" && !IsEmail(value)) {
    return absl::StrCat(quoted, "\"", value, "\" is not an email address");
  }
  if (name == "rsync" && !absl::StartsWith(value, "rsync://")) {
    return absl::StrCat(quoted, "\"", value, "\" is not an rsync:// URL");
  }
  return "";
}

// Every unknown field of `fields`, as problem lines.
void CheckKnownFields(const MirrorFields& fields, std::vector<std::string>* problems) {
  for (const auto& [name, value] : fields) {
    if (!IsKnownField(name) && name != kSubmit) {
      problems->push_back(absl::StrCat("Unknown field \"", name, "\""));
    }
  }
}

// Sets `mirror`'s fields from `fields` (all of them or only those given) and
// checks the result.
absl::Status Apply(const MirrorFields& fields, bool only_given, MirrorRow* mirror) {
  std::vector<std::string> problems;
  for (const char* name : kRequired) {
    auto it = fields.find(name);
    if (it == fields.end() && only_given) continue;
    const std::string value =
        it == fields.end() ? "" : std::string(absl::StripAsciiWhitespace(it->second));
    if (value.empty()) {
      problems.push_back(absl::StrCat("Missing required field \"", name, "\""));
      continue;
    }
    if (std::string problem = CheckValue(name, value); !problem.empty()) {
      problems.push_back(std::move(problem));
      continue;
    }
    *FieldOf(*mirror, name) = value;
  }
  for (const char* name : kOptional) {
    auto it = fields.find(name);
    if (it == fields.end()) continue;  // absent: kept as it was
    const std::string value(absl::StripAsciiWhitespace(it->second));
    absl::optional<std::string>& target =
        name == absl::string_view("rsync") ? mirror->rsync : mirror->notes;
    if (value.empty()) {
      target.reset();
    } else if (std::string problem = CheckValue(name, value); !problem.empty()) {
      problems.push_back(std::move(problem));
    } else {
      target = value;
    }
  }
  CheckKnownFields(fields, &problems);
  if (!problems.empty()) return absl::InvalidArgumentError(absl::StrJoin(problems, "\n"));
  return absl::OkStatus();
}

absl::Status AlreadyExists(absl::string_view uri) {
  return absl::AlreadyExistsError(absl::StrCat("Mirror \"", uri, "\" already exists"));
}

absl::Status DoesNotExist(absl::string_view uri) {
  return absl::NotFoundError(absl::StrCat("Mirror \"", uri, "\" does not exist"));
}

MirrorRow ReadMirror(const PgResult& rows, int row) {
  MirrorRow mirror;
  mirror.uri = rows.GetString(row, 0);
  mirror.frequency = rows.GetString(row, 1);
  mirror.location = rows.GetString(row, 2);
  mirror.organization = rows.GetString(row, 3);
  mirror.timezone = rows.GetString(row, 4);
  mirror.email = rows.GetString(row, 5);
  mirror.bandwidth = rows.GetString(row, 6);
  mirror.src = rows.GetString(row, 7);
  if (!rows.IsNull(row, 8)) mirror.rsync = rows.GetString(row, 8);
  if (!rows.IsNull(row, 9)) mirror.notes = rows.GetString(row, 9);
  return mirror;
}

PgParams& BindOptional(PgParams& params, const absl::optional<std::string>& value) {
  return value.has_value() ? params.Text(*value) : params.Null();
}

// meta/mirrors.json. Its events change the stats, whose summary counts mirrors.
absl::StatusOr<std::vector<FileChange>> RegistryFiles(PgConnection& conn) {
  absl::StatusOr<FileChange> mirrors = RenderMirrorsFile(conn);
  if (!mirrors.ok()) return mirrors.status();
  return std::vector<FileChange>{*std::move(mirrors)};
}

EventHeader MirrorsHeader(absl::string_view actor) {
  EventHeader header{feed::EventKind::kMirrors, std::string(actor), "", ""};
  header.changes_stats = true;
  return header;
}

absl::StatusOr<bool> Exists(PgConnection& conn, absl::string_view uri) {
  auto row = conn.Exec("SELECT 1 FROM mirrors WHERE uri = $1", PgParams().Text(uri));
  if (!row.ok()) return row.status();
  return row->rows() > 0;
}

}  // namespace

absl::StatusOr<MirrorRow> ParseMirror(const MirrorFields& fields) {
  MirrorRow mirror;
  if (absl::Status s = Apply(fields, /*only_given=*/false, &mirror); !s.ok()) return s;
  return mirror;
}

absl::StatusOr<v1::Event> AddMirror(PgConnection& conn, absl::string_view actor,
                                    const MirrorFields& fields, const Publishing& publishing) {
  absl::StatusOr<MirrorRow> mirror = ParseMirror(fields);
  if (!mirror.ok()) return mirror.status();
  return Publish(
      conn, MirrorsHeader(actor),
      [&](absl::Time) -> absl::StatusOr<std::vector<FileChange>> {
        absl::StatusOr<bool> exists = Exists(conn, mirror->uri);
        if (!exists.ok()) return exists.status();
        if (*exists) return AlreadyExists(mirror->uri);
        PgParams params;
        params.Text(mirror->uri)
            .Text(mirror->frequency)
            .Text(mirror->location)
            .Text(mirror->organization)
            .Text(mirror->timezone)
            .Text(mirror->email)
            .Text(mirror->bandwidth)
            .Text(mirror->src);
        BindOptional(params, mirror->rsync);
        BindOptional(params, mirror->notes);
        params.Text(actor);
        auto inserted = conn.Exec(
            absl::StrCat("INSERT INTO mirrors (", kColumns,
                         ", created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"),
            params);
        // Another administrator may have added it since the check.
        if (absl::IsAlreadyExists(inserted.status())) return AlreadyExists(mirror->uri);
        if (!inserted.ok()) return inserted.status();
        return RegistryFiles(conn);
      },
      publishing);
}

absl::StatusOr<v1::Event> UpdateMirror(PgConnection& conn, absl::string_view actor,
                                       absl::string_view uri, const MirrorFields& changes,
                                       const Publishing& publishing) {
  bool any = false;
  for (const auto& [name, value] : changes) any = any || IsKnownField(name);
  if (!any) {
    std::vector<std::string> problems = {"No mirror field to update"};
    CheckKnownFields(changes, &problems);
    return absl::InvalidArgumentError(absl::StrJoin(problems, "\n"));
  }
  EventHeader header = MirrorsHeader(actor);
  header.skip_if_unchanged = true;
  return Publish(
      conn, header,
      [&](absl::Time) -> absl::StatusOr<std::vector<FileChange>> {
        auto row =
            conn.Exec(absl::StrCat("SELECT ", kColumns, " FROM mirrors WHERE uri = $1 FOR UPDATE"),
                      PgParams().Text(uri));
        if (!row.ok()) return row.status();
        if (row->rows() == 0) return DoesNotExist(uri);
        MirrorRow mirror = ReadMirror(*row, 0);
        if (absl::Status s = Apply(changes, /*only_given=*/true, &mirror); !s.ok()) return s;
        if (mirror.uri != uri) {
          absl::StatusOr<bool> taken = Exists(conn, mirror.uri);
          if (!taken.ok()) return taken.status();
          if (*taken) return AlreadyExists(mirror.uri);
        }
        PgParams params;
        params.Text(uri)
            .Text(mirror.uri)
            .Text(mirror.frequency)
            .Text(mirror.location)
            .Text(mirror.organization)
            .Text(mirror.timezone)
            .Text(mirror.email)
            .Text(mirror.bandwidth)
            .Text(mirror.src);
        BindOptional(params, mirror.rsync);
        BindOptional(params, mirror.notes);
        auto updated = conn.Exec(
            "UPDATE mirrors SET uri = $2, frequency = $3, location = $4, organization = $5,"
            " timezone = $6, email = $7, bandwidth = $8, src = $9, rsync = $10, notes = $11"
            " WHERE uri = $1",
            params);
        if (absl::IsAlreadyExists(updated.status())) return AlreadyExists(mirror.uri);
        if (!updated.ok()) return updated.status();
        return RegistryFiles(conn);
      },
      publishing);
}

absl::StatusOr<v1::Event> RemoveMirror(PgConnection& conn, absl::string_view actor,
                                       absl::string_view uri, const Publishing& publishing) {
  return Publish(
      conn, MirrorsHeader(actor),
      [&](absl::Time) -> absl::StatusOr<std::vector<FileChange>> {
        auto deleted = conn.Exec("DELETE FROM mirrors WHERE uri = $1", PgParams().Text(uri));
        if (!deleted.ok()) return deleted.status();
        if (deleted->affected() == 0) return DoesNotExist(uri);
        return RegistryFiles(conn);
      },
      publishing);
}

absl::StatusOr<std::vector<RegisteredMirror>> ListMirrors(PgConnection& conn) {
  auto rows = conn.Exec(absl::StrCat("SELECT ", kColumns, ", created_by, ", MicrosSql("created_at"),
                                     " FROM mirrors ORDER BY created_at, uri"));
  if (!rows.ok()) return rows.status();
  std::vector<RegisteredMirror> mirrors;
  for (int row = 0; row < rows->rows(); ++row) {
    mirrors.push_back(
        RegisteredMirror{ReadMirror(*rows, row), rows->GetString(row, 10), rows->GetInt(row, 11)});
  }
  return mirrors;
}

}  // namespace pgxn::origin
