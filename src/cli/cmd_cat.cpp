#include <unistd.h>

#include <iostream>

#include "cli/cli_job.h"
#include "cli/commands.h"
#include "ops/cat.h"
#include "ops/error_table.h"

namespace arca {

static void write_stdout(ByteView data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(1, data.data() + done, data.size() - done);
    if (n <= 0) throw Error(ErrorKind::Io, "cannot write to standard output");
    done += size_t(n);
  }
}

void register_cat(CLI::App& app, GlobalOptions& g) {
  auto* cmd = app.add_subcommand(
      "cat",
      "Print a repository object: config | snapshot ID | index ID | pack ID | tree ID | blob ID | file SNAPSHOT PATH\n"
      "(snapshot, index and pack take a unique prefix; tree and blob one of at least 8 digits, as check prints\n"
      "them; blob and file write raw bytes, the others JSON; secrets are never printed)");
  add_global_options(*cmd, g);
  auto args = std::make_shared<std::vector<std::string>>();
  auto filter = std::make_shared<SnapshotFilter>();
  cmd->add_option("what", *args, "Object kind followed by its id (full or unique prefix)")->required();
  add_snapshot_filter_options(*cmd, *filter);  // for 'snapshot latest' and 'file latest PATH'
  set_command(*cmd, [&g, args, filter] {
    auto repo = open_repository(g);
    CliJob job(g);
    ops::CatResult r = ops::cat(*repo, {*args, *filter, write_stdout}, job.ctx());
    if (r.json) print_json(*r.json);
    return kExitOk;
  });
}

}  // namespace arca
