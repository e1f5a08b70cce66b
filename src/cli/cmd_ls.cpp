#include <sys/sysmacros.h>

#include <ctime>
#include <iostream>

#include "cli/cli_job.h"
#include "cli/commands.h"
#include "ops/error_table.h"
#include "ops/ls.h"
#include "util/name_format.h"

namespace arca {

static std::string mode_string(const Node& n) {
  // As ls(1) writes the type: special files must not look like regular ones.
  std::string s = n.type == NodeType::Dir        ? "d"
                  : n.type == NodeType::Symlink  ? "l"
                  : n.type == NodeType::Fifo     ? "p"
                  : n.type == NodeType::Socket   ? "s"
                  : n.type == NodeType::CharDev  ? "c"
                  : n.type == NodeType::BlockDev ? "b"
                                                 : "-";
  const char* rwx = "rwxrwxrwx";
  for (int i = 0; i < 9; i++) s += (n.mode & (0400 >> i)) ? rwx[i] : '-';
  return s;
}

// In UTC, and saying so: the listing must not depend on the machine's time zone.
static std::string node_time(int64_t ns) {
  time_t t = time_t(ns / 1000000000);
  tm tmv;
  gmtime_r(&t, &tmv);
  char buf[32];
  strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tmv);
  return buf;
}

void register_ls(CLI::App& app, GlobalOptions& g) {
  auto* cmd = app.add_subcommand("ls", "List the files in a snapshot");
  add_global_options(*cmd, g);
  struct Args {
    std::string snapshot, path;
    bool long_format = false;
    SnapshotFilter filter;
  };
  auto a = std::make_shared<Args>();
  cmd->add_option("snapshot", a->snapshot,
                  "Snapshot id (or unique prefix), or 'latest' (the newest the selectors match)")
      ->required();
  add_snapshot_filter_options(*cmd, a->filter);
  cmd->add_option("path", a->path, "Only list this path and what is below it (e.g. 'dir/sub')");
  cmd->add_flag("-l,--long", a->long_format, "Show mode, owner, size and modification time (UTC)");
  set_command(*cmd, [&g, a] {
    auto repo = open_repository(g);
    CliJob job(g);
    JobContext& ctx = job.ctx();
    ops::LsRequest req{a->snapshot, a->filter, a->path, nullptr};
    if (!g.json) {
      bool long_format = a->long_format;
      req.each = [long_format](const std::string& p, const Node& n) {
        if (long_format) {
          std::string owner = (n.user.empty() ? std::to_string(n.uid) : escape_name(n.user)) + " " +
                              (n.group.empty() ? std::to_string(n.gid) : escape_name(n.group));
          char size[32];
          if (n.type == NodeType::CharDev || n.type == NodeType::BlockDev)  // as ls -l: major, minor
            snprintf(size, sizeof size, "%7u,%4u", major(dev_t(n.rdev)), minor(dev_t(n.rdev)));
          else
            snprintf(size, sizeof size, "%12llu", static_cast<unsigned long long>(n.size));
          std::cout << mode_string(n) << " " << owner << " " << size << " " << node_time(n.mtime_ns) << " "
                    << escape_name(p) << (n.type == NodeType::Symlink ? " -> " + escape_name(n.link_target) : "")
                    << "\n";
        } else {
          std::cout << escape_name(p) << (n.type == NodeType::Dir ? "/" : "") << "\n";
        }
      };
    }
    ops::LsResult r = ops::ls(*repo, req, ctx);
    if (g.json) print_json(r.to_json());
    return kExitOk;
  });
}

}  // namespace arca
