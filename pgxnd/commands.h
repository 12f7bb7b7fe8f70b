// The pgxnd subcommands (docs/architecture.md §6). Each takes the arguments after its
// name and returns the process exit code: 0 success, 1 failure, 2 bad usage.
#ifndef PGXN_PGXND_COMMANDS_H_
#define PGXN_PGXND_COMMANDS_H_

#include <string>
#include <vector>

namespace pgxn::cli {

int RunOriginCommand(const std::vector<std::string>& args);
// `pgxnd origin rebuild ...` (pgxnd/rebuild_command.cc).
int RunOriginRebuildCommand(const std::vector<std::string>& args);
// `pgxnd origin backup ...` and `pgxnd origin restore ...` (pgxnd/backup_command.cc).
int RunOriginBackupCommand(const std::vector<std::string>& args);
int RunOriginRestoreCommand(const std::vector<std::string>& args);
// `pgxnd mail ...` (pgxnd/mail_command.cc).
int RunMailCommand(const std::vector<std::string>& args);
int RunMirrorCommand(const std::vector<std::string>& args);
int RunIndexerCommand(const std::vector<std::string>& args);
int RunTailCommand(const std::vector<std::string>& args);
// `pgxnd export ...` (pgxnd/export_command.cc).
int RunExportCommand(const std::vector<std::string>& args);
int RunUserCommand(const std::vector<std::string>& args);

}  // namespace pgxn::cli

#endif  // PGXN_PGXND_COMMANDS_H_
