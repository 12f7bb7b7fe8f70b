// Splitting one fuzz input into the pieces a target needs (a header and a
// body, a list of lines), the same way for every target, so that the seed
// corpora stay readable text. Used only in fuzz/.
#ifndef PGXN_FUZZ_FUZZ_INPUT_H_
#define PGXN_FUZZ_FUZZ_INPUT_H_

#include <cstddef>
#include <cstdint>
#include <utility>

#include "absl/strings/string_view.h"

namespace pgxn::fuzz {

inline absl::string_view AsText(const uint8_t* data, size_t size) {
  return absl::string_view(reinterpret_cast<const char*>(data), size);
}

// The input up to its first '\n' (without it), and the rest; the whole input
// and "" when there is no '\n'.
inline std::pair<absl::string_view, absl::string_view> SplitFirstLine(absl::string_view input) {
  const size_t newline = input.find('\n');
  if (newline == absl::string_view::npos) return {input, absl::string_view()};
  return {input.substr(0, newline), input.substr(newline + 1)};
}

}  // namespace pgxn::fuzz

#endif  // PGXN_FUZZ_FUZZ_INPUT_H_
