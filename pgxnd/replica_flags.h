// The flags mirrors and indexers share (--data-dir, --upstream, --http, ...).
#ifndef PGXN_PGXND_REPLICA_FLAGS_H_
#define PGXN_PGXND_REPLICA_FLAGS_H_

#include "pgxnd/flags.h"
#include "replica/replica.h"

namespace pgxn::cli {

// Declares the shared flags on `flags`, writing into `options`.
void AddReplicaFlags(FlagSet& flags, replica::ReplicaOptions* options);

// Checks what the flags cannot: required values and their syntax. Returns a
// usage message, or "" when fine.
std::string CheckReplicaOptions(const std::string& command, const replica::ReplicaOptions& options);

}  // namespace pgxn::cli

#endif  // PGXN_PGXND_REPLICA_FLAGS_H_
