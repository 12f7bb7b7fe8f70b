// Validation of a distribution's META.json against the PGXN Meta Spec v1, the
// check an upload must pass before anything is published. Called by release
// intake (origin/intake/releases.cc) with the META parsed by OpenDistribution.
//
// A pure function of its argument: safe to call from any thread.
#ifndef PGXN_ORIGIN_INTAKE_META_VALIDATOR_H_
#define PGXN_ORIGIN_INTAKE_META_VALIDATOR_H_

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace pgxn::origin {

// Returns every way `meta` breaks Meta Spec v1, or an empty vector when it is
// valid. Each problem is one line naming its place as a JSON pointer:
//   Required field /provides: missing
//   Field /version: "2.5" is not a valid semantic version
//   Field /tags/1: "a/b" is not a valid tag: it contains "/"
// A null value counts as missing. Values in messages are quoted with control
// characters escaped and long ones shortened.
//
// The order is deterministic: within each object, the missing required fields
// in the spec's order, then the present keys in byte order, depth first.
//
// The rules (PGXN Meta Spec 1.0.x):
// - required: name (a term), version (strict SemVer 2.0.0, or with
//   rules.accept_semver1 also the SemVer 1.0 form), abstract (string), maintainer
//   (string or list of strings), license, provides, meta-spec;
// - optional: description, generated_by (strings), tags (a tag or a list of
//   tags), no_index, prereqs, release_status (stable, testing, unstable),
//   resources;
// - a term has at least 2 characters and no whitespace, control characters, '/'
//   or '\'; a tag has 1 to 256 characters and no control characters, '/' or '\';
// - license: a license name, a list of at least one name, or an object mapping
//   any non-empty name to a URL;
// - provides: at least one extension; each key a term, each value an object with
//   file (required), version (required, SemVer), abstract and docfile;
// - meta-spec: version "1.0.0" (required) and url;
// - no_index: file and directory, each a path or a list of non-empty paths;
// - prereqs: phase (configure, build, test, runtime, develop) -> relation
//   (requires, recommends, suggests, conflicts) -> term -> version range (see
//   CheckVersionRange) or the number 0;
// - resources: homepage (URL), bugtracker {web (URL), mailto (email)},
//   repository {url (URL), web (URL), type (lowercase string)};
// - URLs need a scheme and an authority ("https://host/..."), as PGXN checks;
// - in every object whose keys the spec defines, a key starting with "x_" or
//   "X_" is a custom key whose value is not checked; any other unknown key is
//   an error. Where the keys are names (provides, license, prerequisites) they
//   are checked as names.
// As the spec says, a string is accepted wherever a list is expected and means
// a list of that one string.
struct MetaRules {
  // Versions in the SemVer 1.0 form ("1.2.3beta1") are accepted: for
  // importing releases PGXN published before it required SemVer 2.0.0
  // (the origin's --accept-semver1). Off: as PGXN validates new uploads.
  bool accept_semver1 = false;
};
std::vector<std::string> ValidateMeta(const nlohmann::json& meta, const MetaRules& rules = {});

}  // namespace pgxn::origin

#endif  // PGXN_ORIGIN_INTAKE_META_VALIDATOR_H_
