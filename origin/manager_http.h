// The Manager's HTTP endpoints on the origin. For now: POST /upload exactly as
// pgxn-release and PGXN's web form call it (PGXN.md §3):
//   Basic auth (401 "Authorization required" with a Basic challenge),
//   multipart/form-data with the file in `archive` (400 "Bad request: no
//   archive parameter." without it), then 409 with the reason for any archive
//   or META problem, or on success 200 "Success" for XHR clients and 303 to
//   /distributions/NAME/VERSION for browsers.
// Thread-safe: handlers run concurrently on the HTTP server's threads.
#ifndef PGXN_ORIGIN_MANAGER_HTTP_H_
#define PGXN_ORIGIN_MANAGER_HTTP_H_

#include "gateway/router.h"
#include "origin/archive.h"
#include "origin/pg.h"
#include "origin/publisher.h"

namespace pgxn::origin {

class Manager {
 public:
  Manager(PgPool* pool, ArchiveLimits limits, CommitListener on_commit)
      : pool_(pool), limits_(limits), on_commit_(std::move(on_commit)) {}

  void AddRoutes(gateway::Router* router);
  gateway::Response HandleUpload(const gateway::Request& request) const;

 private:
  PgPool* const pool_;
  const ArchiveLimits limits_;
  const CommitListener on_commit_;
};

}  // namespace pgxn::origin

#endif  // PGXN_ORIGIN_MANAGER_HTTP_H_
