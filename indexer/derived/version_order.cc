#include "indexer/derived/version_order.h"

#include <cstdint>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"

namespace pgxn::indexer {
namespace {

// "1.2.3-beta" → ({1, 2, 3}, "-beta"); missing numbers are 0.
std::pair<std::vector<uint64_t>, absl::string_view> Split(absl::string_view v) {
  std::vector<uint64_t> numbers;
  size_t i = 0;
  while (numbers.size() < 3) {
    uint64_t n = 0;
    while (i < v.size() && absl::ascii_isdigit(v[i])) n = n * 10 + (v[i++] - '0');
    numbers.push_back(n);
    if (i >= v.size() || v[i] != '.') break;
    ++i;
  }
  numbers.resize(3, 0);
  return {numbers, v.substr(std::min(i, v.size()))};
}

}  // namespace

bool VersionBefore(absl::string_view a, absl::string_view b) {
  auto [numbers_a, rest_a] = Split(a);
  auto [numbers_b, rest_b] = Split(b);
  if (numbers_a != numbers_b) return numbers_a < numbers_b;
  if (rest_a.empty() != rest_b.empty()) return !rest_a.empty();
  return rest_a < rest_b;
}

}  // namespace pgxn::indexer
