// FUZZ_CHECK for the fuzz targets: an invariant of the code under test that
// the input broke. It aborts, which libFuzzer reports as a crash and saves
// the input, as it does for a sanitizer's report. Used only in fuzz/.
#ifndef PGXN_FUZZ_FUZZ_CHECK_H_
#define PGXN_FUZZ_FUZZ_CHECK_H_

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(condition, what)                                                        \
  do {                                                                                     \
    if (!(condition)) {                                                                    \
      std::fprintf(stderr, "%s:%d: invariant broken: %s (%s)\n", __FILE__, __LINE__, what, \
                   #condition);                                                            \
      std::abort();                                                                        \
    }                                                                                      \
  } while (false)

#endif  // PGXN_FUZZ_FUZZ_CHECK_H_
