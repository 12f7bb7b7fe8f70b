// The origin's own files, published by a `meta` event at start: index.json,
// meta/spec.txt, meta/origin.pub (the key events are signed with),
// meta/mirrors.json and the stats files. On a new log this is
// seq 1, so every node serves a complete (empty) tree from the first event;
// after an upgrade that changes one of them, only the changed files go out;
// when nothing changed, nothing is published.
#ifndef PGXN_ORIGIN_CATALOG_BOOTSTRAP_H_
#define PGXN_ORIGIN_CATALOG_BOOTSTRAP_H_

#include "absl/status/statusor.h"
#include "origin/pg/pg.h"
#include "origin/publishing/publisher.h"

namespace pgxn::origin {

// Returns the published event, or one with seq 0 when nothing changed.
absl::StatusOr<v1::Event> PublishMetaFiles(PgConnection& conn, const Publishing& publishing);

// The text served at /meta/spec.txt.
extern const char kMetaSpecText[];

}  // namespace pgxn::origin

#endif  // PGXN_ORIGIN_CATALOG_BOOTSTRAP_H_
