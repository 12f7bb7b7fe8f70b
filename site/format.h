// How the site shows values a person reads: dates, sizes, licenses,
// maintainers, and the URLs of pages (every segment percent-encoded).
// Pure functions; thread-safe.
#ifndef PGXN_SITE_FORMAT_H_
#define PGXN_SITE_FORMAT_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace pgxn::site {

// {"iso": "2010-10-29T22:44:42Z", "human": "29 Oct 2010"} for a date as
// PGXN writes it (RFC 3339, UTC); a value it cannot read is shown as given
// with "iso" empty, so templates leave out <time datetime>.
nlohmann::json DateValue(absl::string_view rfc3339);

// "1.2 MB", "340 KB", "512 bytes" (powers of 1,000, as file managers show).
std::string HumanSize(uint64_t bytes);

// Meta Spec licenses (docs/pgxn.md): "postgresql" → {"name": "The
// PostgreSQL License", "url": "https://..."}; an unknown key keeps its
// text without a url. `license` may be a string, an array of them, or an
// object {name: url}; the result is an array of {name, url?}.
nlohmann::json LicenseList(const nlohmann::json& license);

// "David E. Wheeler <david@justatheory.com>" → {"name": "David E. Wheeler",
// "email": "david@justatheory.com"}; without an address, only "name". A
// string or an array of them; the result is an array.
nlohmann::json MaintainerList(const nlohmann::json& maintainer);

// Whether `url` is an http or https address (either case): only those
// become links; anything else an author wrote (javascript:, data:) stays text.
bool IsWebUrl(absl::string_view url);

// A path segment percent-encoded for a URL (every byte but unreserved ones).
std::string UrlSegment(absl::string_view segment);

// A query value form-encoded ("a b&c" → "a+b%26c").
std::string QueryValue(absl::string_view value);

// The site's page URLs, every segment encoded; a docpath's slashes stay
// path separators ("/dist/pair/0.1.0/doc/pair.html").
std::string DistUrl(absl::string_view dist);
std::string ReleaseUrl(absl::string_view dist, absl::string_view version);
std::string DocUrl(absl::string_view dist, absl::string_view version, absl::string_view docpath);
std::string UserUrl(absl::string_view nickname);
std::string TagUrl(absl::string_view tag);  // by the tag's tree name
std::string ExtensionUrl(absl::string_view extension);
// The archive's top directory under /src/ ("/src/pair/pair-0.1.0/").
std::string SourceUrl(absl::string_view dist, absl::string_view version);

// Lower case, ASCII letters only: tree paths are named so (docs/pgxn.md §2).
std::string TreeName(absl::string_view name);

// A rendered doc fragment (the indexer's sanitised HTML, whose tags are
// lower case and whole) made to fit inside a page whose own h1 comes first:
// each heading `levels` lower (h1 → h2 … down to h6), the table of
// contents' own heading an h2 so headings do not skip a level, every
// <pre> focusable (tabindex="0"), so that a keyboard can scroll long lines,
// and every <img> without alt text given alt="".
std::string FitDocIntoPage(absl::string_view html, int levels);

}  // namespace pgxn::site

#endif  // PGXN_SITE_FORMAT_H_
