// The mirror registry (docs/pgxn.md §3 "Mirrors registry"): administrators add,
// update and remove the mirrors listed in meta/mirrors.json. Each change is
// one `mirrors` event rewriting meta/mirrors.json and the stats (the summary
// counts mirrors); a change that alters nothing publishes nothing.
//
// Fields, as a form gives them (name → value; surrounding whitespace is
// dropped): uri, email, frequency, organization, location, timezone,
// bandwidth and src are required; rsync and notes are optional, and an empty
// one is absent (left out of mirrors.json). uri is an http or https URL, email
// an address, rsync an rsync:// URL; no value may hold control characters (but
// notes may hold line breaks) or exceed kMaxMirrorFieldBytes. A field outside
// this list is refused, except `submit` (an HTML form's button).
//
// Errors: InvalidArgument listing every missing, invalid or unknown field, one
// per line ("Missing required field \"email\"", "Invalid field \"uri\": ...");
// AlreadyExists "Mirror \"URI\" already exists"; NotFound "Mirror \"URI\" does
// not exist". Nothing is written on any error.
//
// Called by the Manager's admin endpoints (mirrors_http.cc), which check that
// the caller is an administrator. Thread-compatible (one connection per call).
#ifndef PGXN_ORIGIN_ACCOUNTS_MIRROR_REGISTRY_H_
#define PGXN_ORIGIN_ACCOUNTS_MIRROR_REGISTRY_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "origin/catalog/tree_render.h"
#include "origin/pg/pg.h"
#include "origin/publishing/publisher.h"

namespace pgxn::origin {

using MirrorFields = std::map<std::string, std::string>;

inline constexpr size_t kMaxMirrorFieldBytes = 1024;

// A complete, valid mirror from `fields`, or InvalidArgument as above.
absl::StatusOr<MirrorRow> ParseMirror(const MirrorFields& fields);

// Registers a new mirror as `actor`; returns the committed event.
absl::StatusOr<v1::Event> AddMirror(PgConnection& conn, absl::string_view actor,
                                    const MirrorFields& fields, const Publishing& publishing);

// Replaces the fields given in `changes` of the mirror registered as `uri`
// (an empty optional field removes it; a new uri renames the mirror). Returns
// the committed event, or one with seq 0 when nothing changed. InvalidArgument
// also when `changes` names no field at all.
absl::StatusOr<v1::Event> UpdateMirror(PgConnection& conn, absl::string_view actor,
                                       absl::string_view uri, const MirrorFields& changes,
                                       const Publishing& publishing);

absl::StatusOr<v1::Event> RemoveMirror(PgConnection& conn, absl::string_view actor,
                                       absl::string_view uri, const Publishing& publishing);

struct RegisteredMirror {
  MirrorRow mirror;  // email as given, not as published
  std::string created_by;
  int64_t created_at_us = 0;
};

// Every mirror, in the order of meta/mirrors.json.
absl::StatusOr<std::vector<RegisteredMirror>> ListMirrors(PgConnection& conn);

}  // namespace pgxn::origin

#endif  // PGXN_ORIGIN_ACCOUNTS_MIRROR_REGISTRY_H_
