// `arca pg wal-push | wal-fetch`: PostgreSQL's archive_command and restore_command.
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>

#include "cli/commands.h"
#include "cli/pg_common.h"
#include "ops/error_table.h"
#include "ops/pg_wal.h"
#include "util/error.h"

namespace arca {

namespace {

// PostgreSQL runs these commands: warnings keep the "arca: " prefix its log has always shown,
// and no signal handler is installed (the archiver's signals end the command as before).
class WalCommandEvents : public EventSink {
 public:
  void emit(const Event& e) override {
    if (e.level >= EventLevel::Warning) std::cerr << "arca: warning: " << e.message << "\n";
  }
};

// Only the names restore_command may need: a file cannot set anything else (see docs/security.md).
void load_credentials_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error(ErrorKind::Io, "cannot read the credentials file " + path + ": " + std::strerror(errno));
  for (std::string line; std::getline(in, line);) {
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string name = line.substr(0, eq);
    if (name == "ARCA_PASSWORD" || name.rfind("AWS_", 0) == 0) setenv(name.c_str(), line.c_str() + eq + 1, 1);
  }
}

}  // namespace

void register_wal_push(CLI::App& pg, GlobalOptions& g) {
  auto* cmd =
      pg.add_subcommand("wal-push",
                        "Archive one WAL file (use as archive_command = 'arca pg wal-push … %p'); the same file "
                        "again is accepted, a different one under an archived name is refused");
  add_global_options(*cmd, g);
  auto o = std::make_shared<ops::WalPushRequest>();
  cmd->add_option("path", o->path, "The WAL file (PostgreSQL's %p)")->required();
  cmd->add_option("--system-id", o->system_id,
                  "The cluster's system identifier (default: from the file or pg_control)");
  cmd->add_option("--pgdata", o->pgdata, "The data directory (default: the current directory, as for archive_command)");
  cmd->add_option("--batch", o->batch,
                  "Also push up to this many other segments waiting to be archived, in parallel (0: only this one)")
      ->capture_default_str()
      ->check(CLI::Range(0, 256));
  cmd->add_option("--spool", o->spool,
                  "Directory for the markers of segments pushed ahead (default: pg_wal/arca-pushed/…)");
  set_command(*cmd, [&g, o] {
    o->repository = repo_location(g);
    std::unique_ptr<Repository> repo;
    WalCommandEvents events;
    JobContext ctx;
    ctx.events = &events;
    auto r = ops::wal_push([&]() -> Repository& { return *(repo = open_repository(g)); }, *o, ctx);
    if (g.json)
      print_json(r.to_json());
    else if (!g.quiet && r.status == ops::WalPushResult::Status::AlreadyArchived)
      std::cerr << "arca: " << r.file << " was already archived with the same content\n";
    return kExitOk;
  });
}

void register_wal_fetch(CLI::App& pg, GlobalOptions& g) {
  auto* cmd = pg.add_subcommand("wal-fetch",
                                "Fetch one WAL file from the archive (restore_command = 'arca pg wal-fetch … %f %p'). "
                                "Exit 1: not in the archive; 126: the repository could not be read (recovery stops "
                                "rather than ending early)");
  add_global_options(*cmd, g);
  auto o = std::make_shared<ops::WalFetchRequest>();
  cmd->add_option("file", o->file, "WAL file name (PostgreSQL's %f)")->required();
  cmd->add_option("destination", o->destination, "Where to write it (PostgreSQL's %p)")->required();
  cmd->add_option("--system-id", o->system_id, "The cluster's system identifier (default: from pg_control)");
  cmd->add_option("--pgdata", o->pgdata, "The data directory (default: the current directory, as for restore_command)");
  cmd->add_option("--prefetch", o->prefetch, "Also fetch this many following segments into the spool (0: none)")
      ->capture_default_str()
      ->check(CLI::Range(0, 256));
  cmd->add_option("--spool", o->spool, "Directory for prefetched segments (default: pg_wal/arca-prefetch)");
  auto creds = std::make_shared<std::string>();
  cmd->add_option("--credentials-file", *creds,
                  "File of NAME=VALUE lines (ARCA_PASSWORD, AWS_*) to use as environment variables: how a server "
                  "Arca starts gets the repository's credentials without them in its own environment");
  set_command(*cmd, [&g, o, creds] {
    // PostgreSQL reads the exit code: 1 ends recovery (not archived), anything above 125 stops it.
    try {
      if (!creds->empty()) load_credentials_file(*creds);
      std::unique_ptr<Repository> repo;
      WalCommandEvents events;
      JobContext ctx;
      ctx.events = &events;
      auto r = ops::wal_fetch([&]() -> Repository& { return *(repo = open_repository(g)); }, *o, ctx);
      if (r.status == ops::WalFetchResult::Status::NotInArchive && !g.quiet)
        std::cerr << "arca: " << o->file << " is not in the archive\n";
      return r.exit_code();
    } catch (const Error& e) {
      std::cerr << "arca: error: fetching " << o->file << ": " << e.what() << "\n";
      return 126;
    }
  });
}

}  // namespace arca
