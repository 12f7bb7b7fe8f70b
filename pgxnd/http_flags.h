// The HTTP flags every serving role takes: limits (--max-connections, ...)
// and TLS (--tls-cert, --tls-key), which covers the Feed (gRPC) too.
#ifndef PGXN_PGXND_HTTP_FLAGS_H_
#define PGXN_PGXND_HTTP_FLAGS_H_

#include "host/node_host.h"
#include "pgxnd/flags.h"

namespace pgxn::cli {

// Declares the flags on `flags`, writing into `limits`.
void AddHttpLimitFlags(FlagSet& flags, host::HttpLimits* limits);

}  // namespace pgxn::cli

#endif  // PGXN_PGXND_HTTP_FLAGS_H_
