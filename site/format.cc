#include "site/format.h"

#include <array>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "base/escape.h"

namespace pgxn::site {
namespace {

struct License {
  const char* key;
  const char* name;
  const char* url;  // "" when the key names no one license
};

// The license keys of the Meta Spec, named and linked as pgxn.org shows them.
constexpr License kLicenses[] = {
    {"agpl_3", "GNU Affero General Public License, Version 3",
     "https://www.gnu.org/licenses/agpl-3.0.html"},
    {"apache_1_1", "Apache Software License, Version 1.1",
     "https://www.apache.org/licenses/LICENSE-1.1"},
    {"apache_2_0", "Apache License, Version 2.0", "https://www.apache.org/licenses/LICENSE-2.0"},
    {"artistic_1", "Artistic License, Version 1.0", "https://opensource.org/license/artistic-1-0"},
    {"artistic_2", "Artistic License, Version 2.0", "https://opensource.org/license/artistic-2-0"},
    {"bsd", "BSD License (three-clause)", "https://opensource.org/license/bsd-3-clause"},
    {"freebsd", "FreeBSD License (two-clause)", "https://opensource.org/license/bsd-2-clause"},
    {"gfdl_1_2", "GNU Free Documentation License, Version 1.2",
     "https://www.gnu.org/licenses/old-licenses/fdl-1.2.html"},
    {"gfdl_1_3", "GNU Free Documentation License, Version 1.3",
     "https://www.gnu.org/licenses/fdl-1.3.html"},
    {"gpl_1", "GNU General Public License, Version 1",
     "https://www.gnu.org/licenses/old-licenses/gpl-1.0.html"},
    {"gpl_2", "GNU General Public License, Version 2",
     "https://www.gnu.org/licenses/old-licenses/gpl-2.0.html"},
    {"gpl_3", "GNU General Public License, Version 3", "https://www.gnu.org/licenses/gpl-3.0.html"},
    {"lgpl_2_1", "GNU Lesser General Public License, Version 2.1",
     "https://www.gnu.org/licenses/old-licenses/lgpl-2.1.html"},
    {"lgpl_3_0", "GNU Lesser General Public License, Version 3.0",
     "https://www.gnu.org/licenses/lgpl-3.0.html"},
    {"mit", "MIT (X11) License", "https://opensource.org/license/mit"},
    {"mozilla_1_0", "Mozilla Public License, Version 1.0", "https://www.mozilla.org/MPL/1.0/"},
    {"mozilla_1_1", "Mozilla Public License, Version 1.1", "https://www.mozilla.org/MPL/1.1/"},
    {"openssl", "OpenSSL License", "https://www.openssl.org/source/license-openssl-ssleay.txt"},
    {"perl_5", "The Perl 5 License (Artistic 1 & GPL 1)", "https://dev.perl.org/licenses/"},
    {"postgresql", "The PostgreSQL License", "https://www.postgresql.org/about/licence/"},
    {"qpl_1_0", "Q Public License, Version 1.0", "https://opensource.org/license/qpl-1-0"},
    {"ssleay", "Original SSLeay License",
     "https://www.openssl.org/source/license-openssl-ssleay.txt"},
    {"sun", "Sun Internet Standards Source License", "https://opensource.org/license/sissl"},
    {"zlib", "zlib License", "https://opensource.org/license/zlib"},
    {"open_source", "Other Open Source Initiative (OSI) approved license", ""},
    {"restricted", "Requires special permission from copyright holder", ""},
    {"unrestricted", "Not an OSI approved license, but not restricted", ""},
    {"unknown", "License not provided in metadata", ""},
};

nlohmann::json LicenseEntry(absl::string_view key) {
  for (const License& license : kLicenses) {
    if (key == license.key) {
      nlohmann::json entry{{"name", license.name}};
      if (*license.url != '\0') entry["url"] = license.url;
      return entry;
    }
  }
  return nlohmann::json{{"name", std::string(key)}};
}

}  // namespace

nlohmann::json DateValue(absl::string_view rfc3339) {
  absl::Time time;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, rfc3339, &time, &error)) {
    return nlohmann::json{{"iso", ""}, {"human", std::string(rfc3339)}};
  }
  std::string human = absl::FormatTime("%d %b %Y", time, absl::UTCTimeZone());
  if (human.front() == '0') human.erase(0, 1);
  return nlohmann::json{{"iso", std::string(rfc3339)}, {"human", std::move(human)}};
}

std::string HumanSize(uint64_t bytes) {
  if (bytes < 1000) return absl::StrCat(bytes, bytes == 1 ? " byte" : " bytes");
  constexpr std::array<const char*, 4> kUnits = {"KB", "MB", "GB", "TB"};
  double value = static_cast<double>(bytes) / 1000;
  size_t unit = 0;
  while (value >= 1000 && unit + 1 < kUnits.size()) {
    value /= 1000;
    ++unit;
  }
  return value < 10 ? absl::StrFormat("%.1f %s", value, kUnits[unit])
                    : absl::StrFormat("%.0f %s", value, kUnits[unit]);
}

nlohmann::json LicenseList(const nlohmann::json& license) {
  nlohmann::json list = nlohmann::json::array();
  if (license.is_string()) {
    list.push_back(LicenseEntry(license.get<std::string>()));
  } else if (license.is_array()) {
    for (const nlohmann::json& item : license) {
      if (item.is_string()) list.push_back(LicenseEntry(item.get<std::string>()));
    }
  } else if (license.is_object()) {
    for (const auto& [name, url] : license.items()) {
      nlohmann::json entry{{"name", name}};
      if (url.is_string()) {
        const std::string link = url.get<std::string>();
        // Only web links become hrefs: an author's "javascript:" stays text.
        if (IsWebUrl(link)) {
          entry["url"] = link;
        }
      }
      list.push_back(std::move(entry));
    }
  }
  return list;
}

nlohmann::json MaintainerList(const nlohmann::json& maintainer) {
  nlohmann::json list = nlohmann::json::array();
  auto add = [&list](absl::string_view text) {
    text = absl::StripAsciiWhitespace(text);
    const size_t open = text.rfind('<');
    if (open != absl::string_view::npos && absl::EndsWith(text, ">")) {
      const absl::string_view email = text.substr(open + 1, text.size() - open - 2);
      const absl::string_view name = absl::StripAsciiWhitespace(text.substr(0, open));
      nlohmann::json entry{{"name", std::string(name.empty() ? email : name)}};
      if (email.find('@') != absl::string_view::npos &&
          email.find_first_of(" \t\"<>") == absl::string_view::npos) {
        entry["email"] = std::string(email);
      }
      list.push_back(std::move(entry));
    } else if (!text.empty()) {
      list.push_back(nlohmann::json{{"name", std::string(text)}});
    }
  };
  if (maintainer.is_string()) {
    add(maintainer.get<std::string>());
  } else if (maintainer.is_array()) {
    for (const nlohmann::json& item : maintainer) {
      if (item.is_string()) add(item.get<std::string>());
    }
  }
  return list;
}

bool IsWebUrl(absl::string_view url) {
  const std::string head = absl::AsciiStrToLower(url.substr(0, 8));
  return absl::StartsWith(head, "https://") || absl::StartsWith(head, "http://");
}

std::string UrlSegment(absl::string_view segment) {
  return absl::StrReplaceAll(base::PercentEncodePath(segment), {{"/", "%2F"}});
}

std::string QueryValue(absl::string_view value) {
  return absl::StrReplaceAll(UrlSegment(value), {{"%20", "+"}});
}

std::string DistUrl(absl::string_view dist) { return absl::StrCat("/dist/", UrlSegment(dist), "/"); }

std::string ReleaseUrl(absl::string_view dist, absl::string_view version) {
  return absl::StrCat("/dist/", UrlSegment(dist), "/", UrlSegment(version), "/");
}

std::string DocUrl(absl::string_view dist, absl::string_view version, absl::string_view docpath) {
  std::string url = ReleaseUrl(dist, version);
  for (size_t start = 0;;) {
    const size_t slash = docpath.find('/', start);
    absl::StrAppend(&url, UrlSegment(docpath.substr(start, slash - start)));
    if (slash == absl::string_view::npos) break;
    url += '/';
    start = slash + 1;
  }
  return url + ".html";
}

std::string UserUrl(absl::string_view nickname) {
  return absl::StrCat("/user/", UrlSegment(nickname), "/");
}

std::string TagUrl(absl::string_view tag) {
  return absl::StrCat("/tag/", UrlSegment(TreeName(tag)), "/");
}

std::string ExtensionUrl(absl::string_view extension) {
  return absl::StrCat("/extension/", UrlSegment(TreeName(extension)), "/");
}

std::string SourceUrl(absl::string_view dist, absl::string_view version) {
  return absl::StrCat("/src/", UrlSegment(TreeName(dist)), "/",
                      UrlSegment(TreeName(absl::StrCat(dist, "-", version))), "/");
}

std::string TreeName(absl::string_view name) { return absl::AsciiStrToLower(name); }

std::string FitDocIntoPage(absl::string_view html, int levels) {
  std::string out(html);
  for (int pass = 0; pass < levels; ++pass) {
    for (int level = 5; level >= 1; --level) {
      const std::string from = absl::StrCat("h", level);
      const std::string to = absl::StrCat("h", level + 1);
      out = absl::StrReplaceAll(out, {{absl::StrCat("<", from, ">"), absl::StrCat("<", to, ">")},
                                      {absl::StrCat("<", from, " "), absl::StrCat("<", to, " ")},
                                      {absl::StrCat("</", from, ">"), absl::StrCat("</", to, ">")}});
    }
  }
  // The contents' heading ("<h3>Contents</h3>" as rendered) leads its own
  // aside: an h2 under the page's h1.
  if (const size_t toc = out.find("<div id=\"pgxntoc\">"); toc != std::string::npos) {
    const size_t open = out.find("<h", toc);
    const size_t close = open == std::string::npos ? open : out.find("</h", open);
    if (close != std::string::npos && close + 4 < out.size() && absl::ascii_isdigit(out[open + 2]) &&
        out[close + 3] == out[open + 2]) {
      out[open + 2] = '2';
      out[close + 3] = '2';
    }
  }
  out = absl::StrReplaceAll(out, {{"<pre>", "<pre tabindex=\"0\">"},
                                  {"<pre ", "<pre tabindex=\"0\" "}});
  // An author's <img> without alt text (raw HTML; Markdown always gives
  // one) would be read out as its file name: mark it decorative.
  for (size_t at = out.find("<img "); at != std::string::npos; at = out.find("<img ", at + 1)) {
    const size_t end = out.find('>', at);
    if (end == std::string::npos) break;
    if (absl::string_view(out).substr(at, end - at).find(" alt=") == absl::string_view::npos) {
      out.insert(at + 4, " alt=\"\"");
    }
  }
  return out;
}

}  // namespace pgxn::site
