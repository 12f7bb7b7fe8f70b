// Test support: the one way the multi-process tests wait for something another
// process or thread brings about (a node's applied seq, a stats refresh, a
// proxy's cut).
//
// A test never sleeps for a fixed time and never bounds how long a thing may
// take on a loaded machine: it waits until the condition it needs holds. The
// timeout is a safety net, far longer than anything should take, so that a
// test that would otherwise hang until ctest kills it fails with its own
// message instead (`ASSERT_TRUE(WaitUntil(...)) << "what did not happen"`).
//
// Thread-safety: WaitUntil may be called from any thread; it calls
// `condition` on the calling thread only.
#ifndef PGXN_TESTS_SUPPORT_WAIT_H_
#define PGXN_TESTS_SUPPORT_WAIT_H_

#include <functional>

#include "absl/time/time.h"

namespace pgxn::testing {

// Long enough for a node on a loaded 2-core machine to start, catch up on a
// few thousand events or reconnect after its backoff (at most 10 s); well
// under a test's ctest timeout (600 s).
inline constexpr absl::Duration kWaitTimeout = absl::Seconds(120);
// Often enough that a test reacts within a few ms, seldom enough that polling
// a node's /_status does not load the machine.
inline constexpr absl::Duration kWaitPoll = absl::Milliseconds(10);

// Calls `condition` at once and then every `poll` until it returns true
// (returns true) or `timeout` has passed (calls it once more at the end and
// returns what it says). `condition` should be quick and may be called any
// number of times.
bool WaitUntil(const std::function<bool()>& condition, absl::Duration timeout = kWaitTimeout,
               absl::Duration poll = kWaitPoll);

}  // namespace pgxn::testing

#endif  // PGXN_TESTS_SUPPORT_WAIT_H_
