// The seed of a randomised test, so that a failure can be replayed: the
// environment's PGXN_TEST_SEED when set, else the test's own default; printed
// ("seed N (PGXN_TEST_SEED=N replays it)") and recorded as the test's "seed"
// property either way. Test support: call it from a test's body only.
#ifndef PGXN_BASE_TEST_SEED_H_
#define PGXN_BASE_TEST_SEED_H_

#include <cstdint>

namespace pgxn::base {

uint64_t TestSeed(uint64_t default_seed);

}  // namespace pgxn::base

#endif  // PGXN_BASE_TEST_SEED_H_
