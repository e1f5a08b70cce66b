// Placeholder: written by the issue-20 work in progress.
#include "cli/server_commands.h"

namespace arca {

void register_server_check_config(CLI::App&, GlobalOptions&) {}

}  // namespace arca
