// HandleSearch: the HTTP face of SearchIndex, PGXN's search API
// `GET /search/{in}/?q=&o=&l=` (docs/pgxn.md §5), answered exactly as PGXN answers,
// plus `GET /search/all/?q=`, which searches every index and tags each hit with
// "in": "<index>" (an extension of PGXN's API).
//
// Called by the indexer's gateway router for every path under /search, on the
// server's I/O threads, concurrently: it keeps no state and is as thread-safe as
// SearchIndex::Search.
#ifndef PGXN_INDEXER_SEARCH_SEARCH_HANDLER_H_
#define PGXN_INDEXER_SEARCH_SEARCH_HANDLER_H_

#include "gateway/http.h"
#include "indexer/search/search_index.h"

namespace pgxn::indexer {

// `request.path` is the decoded path, `request.query` the raw query string.
//  - GET or HEAD; any other method: 405 with `Allow: GET, HEAD`.
//  - /search/{docs|dists|extensions|users|tags|all} with an optional trailing
//    slash; any other path: 404 `not found` (text/plain), as PGXN.
//  - `q` missing or exactly "", "*" or "?": 400
//    `Bad request: Invalid or missing "q" query param.`; a query the index
//    rejects (NUL byte, invalid UTF-8, too long): 400
//    `Bad request: invalid "q" query param: <why>.`
//  - `o` / `l` present, non-empty and not all digits (or too large for 64
//    bits): 400 `Bad request: invalid "o" query param.` (or "l").
//  - The query string is decoded by gateway::ParseQuery (`+` is a space); one
//    it rejects (an invalid percent-escape) is a 400 with its message.
//    Repeated parameters: the last one counts, as in PGXN.
//  - Success: 200, the index's JSON as application/json. Other errors of the
//    index (storage): gateway::ErrorResponse.
gateway::Response HandleSearch(const gateway::Request& request, const SearchIndex& index);

}  // namespace pgxn::indexer

#endif  // PGXN_INDEXER_SEARCH_SEARCH_HANDLER_H_
