// Clean shutdown on SIGINT/SIGTERM (docs/architecture.md §6). main() calls
// BlockTerminationSignals() before starting any thread, so every thread
// inherits the mask and the signals can only be received by
// WaitForTerminationSignal(). SIGPIPE is ignored: a peer that hangs up is an
// error on that connection, not a reason to die.
#ifndef PGXN_BASE_SIGNALS_H_
#define PGXN_BASE_SIGNALS_H_

namespace pgxn::base {

// Also blocks SIGHUP, the operator's "reload" (new TLS certificates).
void BlockTerminationSignals();

// Blocks until SIGINT, SIGTERM or SIGHUP arrives; returns the signal number.
int WaitForTerminationSignal();

}  // namespace pgxn::base

#endif  // PGXN_BASE_SIGNALS_H_
