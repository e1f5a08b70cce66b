// `arca pg backup | wal-push | wal-fetch`: taking base backups and archiving WAL.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>

#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/pg_common.h"
#include "cli/progress_display.h"
#include "sources/postgres/base_backup.h"
#include "sources/postgres/wal_archive.h"
#include "util/error.h"
#include "util/io.h"

namespace arca {

namespace {

Bytes read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorKind::NotFound, "cannot read " + path + ": " + std::strerror(errno));
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return Bytes(s.begin(), s.end());
}

uint64_t parse_system_id(const std::string& s) {
  try {
    size_t used = 0;
    uint64_t v = std::stoull(s, &used, 10);
    if (used == s.size()) return v;
  } catch (const std::exception&) {
  }
  throw Error(ErrorKind::Usage, "--system-id " + s + ": expected the decimal number pg_controldata shows");
}

// The cluster a WAL file belongs to: --system-id, the segment's own header, or pg_control.
uint64_t wal_system_id(const std::string& explicit_id, const std::string& pgdata, ByteView content) {
  if (!explicit_id.empty()) return parse_system_id(explicit_id);
  if (auto h = read_wal_segment_header(content)) return h->system_id;
  return read_system_id(pgdata.empty() ? "." : pgdata);
}

void register_pg_backup(CLI::App& pg, GlobalOptions& g) {
  auto* cmd = pg.add_subcommand("backup", "Take a physical base backup of a PostgreSQL cluster over the replication protocol");
  add_global_options(*cmd, g);
  auto o = std::make_shared<PgBackupOptions>();
  add_conn_option(*cmd, o->conninfo);
  cmd->add_option("--name", o->name, "Source name for this cluster's recovery points (default: postgres-<system id>)");
  cmd->add_option("--tag", o->tags, "Tag the recovery point; repeatable")->allow_extra_args(false);
  cmd->add_option("--host", o->host, "Host name to record (default: this machine's)");
  cmd->add_flag("!--spread-checkpoint", o->fast_checkpoint,
                "Let the server spread its checkpoint out (slower start, gentler on a busy server)");
  cmd->add_flag("!--no-row-counts", o->row_counts, "Do not count table rows after the backup (verify then cannot compare counts)");
  cmd->add_option("--row-count-limit", o->row_count_limit, "Skip counting tables estimated above this many rows")
      ->capture_default_str();
  cmd->add_option("--threads", o->threads, "Worker threads (default: number of cores)")->check(CLI::Range(1, 256));
  set_command(*cmd, [&g, o] {
    auto repo = open_repository(g);
    ProgressCounters progress;
    Snapshot snap;
    {
      ProgressDisplay display(progress, "pg backup", "files", show_progress(g));
      snap = pg_base_backup(*repo, *o, progress);
    }
    for (const auto& w : snap.warnings)
      if (!g.quiet) std::cerr << "warning: " << w.path << ": " << w.message << "\n";
    if (g.json) {
      nlohmann::json j = snap.to_json();
      j["short_id"] = snap.id.short_hex();
      print_json(j);
    } else if (!g.quiet) {
      const auto& s = snap.stats;
      auto meta = [&](const char* k) { return snap.metadata[k]["value"].is_string() ? snap.metadata[k]["value"].get<std::string>() : snap.metadata[k]["value"].dump(); };
      double rate = s.duration_s > 0 ? double(s.bytes) / s.duration_s : 0;
      std::cout << "base backup " << snap.id.short_hex() << " saved (" << snap.source_name << ", PostgreSQL "
                << meta("server_version") << ")\n"
                << "  WAL:    " << meta("start_lsn") << " .. " << meta("stop_lsn") << " on timeline " << meta("timeline")
                << " (included)\n"
                << "  data:   " << human_bytes(s.bytes) << " in " << s.files << " files, " << human_duration(s.duration_s)
                << " (" << human_bytes(uint64_t(rate)) << "/s)\n"
                << "  added:  " << human_bytes(s.bytes_added) << " new data, " << human_bytes(s.stored_added)
                << " stored after compression and encryption\n";
    }
    return kExitOk;
  });
}

void register_wal_push(CLI::App& pg, GlobalOptions& g) {
  auto* cmd = pg.add_subcommand("wal-push",
                                "Archive one WAL file (use as archive_command = 'arca pg wal-push … %p'); the same file "
                                "again is accepted, a different one under an archived name is refused");
  add_global_options(*cmd, g);
  auto path = std::make_shared<std::string>();
  auto sysid = std::make_shared<std::string>();
  auto pgdata = std::make_shared<std::string>();
  cmd->add_option("path", *path, "The WAL file (PostgreSQL's %p)")->required();
  cmd->add_option("--system-id", *sysid, "The cluster's system identifier (default: from the file or pg_control)");
  cmd->add_option("--pgdata", *pgdata, "The data directory (default: the current directory, as for archive_command)");
  set_command(*cmd, [&g, path, sysid, pgdata] {
    std::string name = std::filesystem::path(*path).filename().string();
    if (!parse_wal_file_name(name, 16u << 20))
      throw Error(ErrorKind::Usage, "'" + name + "' is not a WAL file name; archive_command must pass %p");
    Bytes content = read_file(*path);
    uint64_t id = wal_system_id(*sysid, *pgdata, content);
    auto repo = open_repository(g);
    WalArchive archive(*repo, id);
    auto result = archive.push(name, content);
    if (g.json) print_json({{"file", name}, {"system_id", std::to_string(id)}, {"bytes", content.size()},
                            {"result", result == WalArchive::PushResult::Stored ? "stored" : "already_archived"}});
    else if (!g.quiet && result == WalArchive::PushResult::AlreadyArchived)
      std::cerr << "arca: " << name << " was already archived with the same content\n";
    return kExitOk;
  });
}

void register_wal_fetch(CLI::App& pg, GlobalOptions& g) {
  auto* cmd = pg.add_subcommand("wal-fetch",
                                "Fetch one WAL file from the archive (restore_command = 'arca pg wal-fetch … %f %p'). "
                                "Exit 1: not in the archive; 126: the repository could not be read (recovery stops "
                                "rather than ending early)");
  add_global_options(*cmd, g);
  auto file = std::make_shared<std::string>();
  auto dest = std::make_shared<std::string>();
  auto sysid = std::make_shared<std::string>();
  auto pgdata = std::make_shared<std::string>();
  cmd->add_option("file", *file, "WAL file name (PostgreSQL's %f)")->required();
  cmd->add_option("destination", *dest, "Where to write it (PostgreSQL's %p)")->required();
  cmd->add_option("--system-id", *sysid, "The cluster's system identifier (default: from pg_control)");
  cmd->add_option("--pgdata", *pgdata, "The data directory (default: the current directory, as for restore_command)");
  set_command(*cmd, [&g, file, dest, sysid, pgdata] {
    try {
      uint64_t id = sysid->empty() ? read_system_id(pgdata->empty() ? "." : *pgdata) : parse_system_id(*sysid);
      auto repo = open_repository(g);
      WalArchive archive(*repo, id);
      auto content = archive.fetch(*file);
      if (!content) {
        if (!g.quiet) std::cerr << "arca: " << *file << " is not in the archive\n";
        return 1;
      }
      // Written beside the destination and renamed, so the server never sees half a file.
      std::string tmp = *dest + ".arca-tmp";
      {
        UniqueFd fd(open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
        if (!fd) throw_errno("create", tmp, errno);
        write_all(fd.get(), *content, tmp);
      }
      if (rename(tmp.c_str(), dest->c_str()) != 0) {
        int e = errno;
        unlink(tmp.c_str());
        throw_errno("rename", *dest, e);
      }
      return 0;
    } catch (const Error& e) {
      std::cerr << "arca: error: fetching " << *file << ": " << e.what() << "\n";
      return 126;
    }
  });
}

}  // namespace

void register_pg_restore(CLI::App& pg, GlobalOptions& g);
void register_pg_verify(CLI::App& pg, GlobalOptions& g);

void register_pg(CLI::App& app, GlobalOptions& g) {
  auto* pg = app.add_subcommand("pg", "PostgreSQL: base backups, WAL archiving, point-in-time restore, verification");
  pg->require_subcommand(1);
  register_pg_backup(*pg, g);
  register_wal_push(*pg, g);
  register_wal_fetch(*pg, g);
  register_pg_restore(*pg, g);
  register_pg_verify(*pg, g);
}

}  // namespace arca
