#include "base/test_seed.h"

#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/numbers.h"
#include "gtest/gtest.h"

namespace pgxn::base {

uint64_t TestSeed(uint64_t default_seed) {
  uint64_t seed = default_seed;
  const char* text = std::getenv("PGXN_TEST_SEED");
  if (text != nullptr && !absl::SimpleAtoi(text, &seed)) {
    ADD_FAILURE() << "PGXN_TEST_SEED=" << text << " is not a number";
    seed = default_seed;
  }
  std::printf("seed %llu (PGXN_TEST_SEED=%llu replays it)\n", static_cast<unsigned long long>(seed),
              static_cast<unsigned long long>(seed));
  ::testing::Test::RecordProperty("seed", std::to_string(seed));
  return seed;
}

}  // namespace pgxn::base
