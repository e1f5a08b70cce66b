#include <sys/sysmacros.h>

#include <ctime>
#include <iostream>

#include "cli/commands.h"
#include "ops/error_table.h"
#include "cli/name_format.h"
#include "repo/tree_walk.h"
#include "restore/restore.h"

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
    Snapshot snap = resolve_snapshot(*repo, a->snapshot, a->filter);
    std::string prefix = a->path;
    // A path as it was on the backed-up machine ('/home/alice/src', restic's habit) is mapped to
    // its tree path; a leading '/' on a tree path ('/alice/src') still works as before.
    if (!prefix.empty() && prefix.front() == '/') {
      try {
        prefix = tree_pattern(snap, prefix, "path");
      } catch (const Error&) {}
    }
    while (!prefix.empty() && prefix.front() == '/') prefix.erase(0, 1);
    while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
    nlohmann::json out = nlohmann::json::array();
    bool found = prefix.empty();
    walk_tree(
        *repo, content_root(*repo, snap),
        [&](const std::string& p, const Node& n) {
          bool inside = prefix.empty() || p == prefix || p.rfind(prefix + "/", 0) == 0;
          bool above = !inside && prefix.rfind(p + "/", 0) == 0;
          if (!inside) return above;
          found = true;
          if (g.json) {
            nlohmann::json j = {{"type", node_type_name(n.type)},
                                {"mode", n.mode},
                                {"uid", n.uid},
                                {"gid", n.gid},
                                {"user", n.user},
                                {"group", n.group},
                                {"size", n.size},
                                {"mtime_ns", n.mtime_ns}};
            set_name_field(j, "path", p);  // names that are not UTF-8 also as path_b64, losslessly
            if (n.type == NodeType::Symlink) set_name_field(j, "link_target", n.link_target);
            if (n.type == NodeType::CharDev || n.type == NodeType::BlockDev) {
              j["major"] = major(dev_t(n.rdev));
              j["minor"] = minor(dev_t(n.rdev));
            }
            out.push_back(std::move(j));
          } else if (a->long_format) {
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
          return true;
        },
        "", "snapshot " + snap.id.short_hex());
    if (!found)
      throw Error(ErrorKind::NotFound, "path '" + escape_name(a->path) + "' is not in snapshot " + snap.id.short_hex());
    if (g.json) print_json(out);
    return kExitOk;
  });
}

}  // namespace arca
