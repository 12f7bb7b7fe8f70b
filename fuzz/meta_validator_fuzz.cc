// Fuzzes META.json validation (origin/intake/meta_validator.h) as an upload
// reaches it: bytes parsed as JSON, then validated with and without
// --accept-semver1. Every problem must be a non-empty line naming its place.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "fuzz/fuzz_check.h"
#include "origin/intake/meta_validator.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const nlohmann::json meta =
      nlohmann::json::parse(data, data + size, /*cb=*/nullptr, /*allow_exceptions=*/false);
  if (meta.is_discarded()) return 0;
  for (bool semver1 : {false, true}) {
    pgxn::origin::MetaRules rules;
    rules.accept_semver1 = semver1;
    const std::vector<std::string> problems = pgxn::origin::ValidateMeta(meta, rules);
    for (const std::string& problem : problems) {
      FUZZ_CHECK(!problem.empty(), "a problem is described");
      FUZZ_CHECK(problem.find('\n') == std::string::npos, "a problem is one line");
    }
    if (!meta.is_object()) FUZZ_CHECK(!problems.empty(), "only an object is valid");
  }
  return 0;
}
