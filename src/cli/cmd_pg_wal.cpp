// `arca pg wal-push | wal-fetch | wal-stream | check`: the WAL archive.
#include <signal.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>
#include <thread>

#include "cli/cli_job.h"
#include "cli/commands.h"
#include "ops/error_table.h"
#include "ops/pg_wal.h"
#include "cli/pg_common.h"
#include "sources/postgres/pg_conn.h"
#include "sources/postgres/wal_archive.h"
#include "sources/postgres/wal_batch.h"
#include "sources/postgres/wal_continuity.h"
#include "sources/postgres/wal_prefetch.h"
#include "sources/postgres/wal_stream.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/io.h"

namespace arca {

namespace {

uint64_t parse_system_id(const std::string& s) {
  try {
    size_t used = 0;
    uint64_t v = std::stoull(s, &used, 10);
    if (used == s.size()) return v;
  } catch (const std::exception&) {}
  throw Error(ErrorKind::Usage, "--system-id " + s + ": expected the decimal number pg_controldata shows");
}

// The cluster a WAL file belongs to: --system-id, the segment's own header, or pg_control.
uint64_t wal_system_id(const std::string& explicit_id, const std::string& pgdata, ByteView content) {
  if (!explicit_id.empty()) return parse_system_id(explicit_id);
  if (auto h = read_wal_segment_header(content)) return h->system_id;
  return read_system_id(pgdata.empty() ? "." : pgdata);
}

}  // namespace

void register_wal_push(CLI::App& pg, GlobalOptions& g) {
  auto* cmd =
      pg.add_subcommand("wal-push",
                        "Archive one WAL file (use as archive_command = 'arca pg wal-push … %p'); the same file "
                        "again is accepted, a different one under an archived name is refused");
  add_global_options(*cmd, g);
  auto path = std::make_shared<std::string>();
  auto sysid = std::make_shared<std::string>();
  auto pgdata = std::make_shared<std::string>();
  cmd->add_option("path", *path, "The WAL file (PostgreSQL's %p)")->required();
  cmd->add_option("--system-id", *sysid, "The cluster's system identifier (default: from the file or pg_control)");
  cmd->add_option("--pgdata", *pgdata, "The data directory (default: the current directory, as for archive_command)");
  auto batch = std::make_shared<unsigned>(8);
  auto spool = std::make_shared<std::string>();
  cmd->add_option("--batch", *batch,
                  "Also push up to this many other segments waiting to be archived, in parallel (0: only this one)")
      ->capture_default_str()
      ->check(CLI::Range(0, 256));
  cmd->add_option("--spool", *spool,
                  "Directory for the markers of segments pushed ahead (default: pg_wal/arca-pushed/…)");
  set_command(*cmd, [&g, path, sysid, pgdata, batch, spool] {
    std::string name = std::filesystem::path(*path).filename().string();
    if (!parse_wal_file_name(name, 16u << 20))
      throw Error(ErrorKind::Usage, "'" + name + "' is not a WAL file name; archive_command must pass %p");
    std::string wal_dir = std::filesystem::path(*path).parent_path().string();
    if (wal_dir.empty()) wal_dir = ".";
    std::string sp = spool->empty() ? default_push_spool(wal_dir, repo_location(g)) : *spool;
    if (take_pushed_marker(sp, name)) {
      if (g.json) print_json({{"file", name}, {"result", "pushed_ahead"}});
      return kExitOk;  // stored by an earlier call's batch
    }
    Bytes content = read_whole_file(*path);
    uint64_t id = wal_system_id(*sysid, *pgdata, content);
    auto repo = open_repository(g);
    WalArchive archive(*repo, id);
    auto result = archive.push(name, content);
    std::vector<std::string> warnings;
    size_t ahead = 0;
    if (*batch > 0 && read_wal_segment_header(content))
      ahead = push_ready_segments(archive, wal_dir, sp, name, *batch, std::max(4u, repo->backend().parallelism()),
                                  warnings);
    for (const auto& w : warnings) std::cerr << "arca: warning: pushing ahead: " << w << "\n";
    if (g.json)
      print_json({{"file", name},
                  {"system_id", std::to_string(id)},
                  {"bytes", content.size()},
                  {"result", result == WalArchive::PushResult::Stored ? "stored" : "already_archived"},
                  {"pushed_ahead", ahead}});
    else if (!g.quiet && result == WalArchive::PushResult::AlreadyArchived)
      std::cerr << "arca: " << name << " was already archived with the same content\n";
    return kExitOk;
  });
}

// Only the names restore_command may need: a file cannot set anything else (see docs/security.md).
static void load_credentials_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error(ErrorKind::Io, "cannot read the credentials file " + path + ": " + std::strerror(errno));
  for (std::string line; std::getline(in, line);) {
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string name = line.substr(0, eq);
    if (name == "ARCA_PASSWORD" || name.rfind("AWS_", 0) == 0) setenv(name.c_str(), line.c_str() + eq + 1, 1);
  }
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
  auto prefetch = std::make_shared<unsigned>(8);
  auto spool = std::make_shared<std::string>();
  cmd->add_option("--prefetch", *prefetch, "Also fetch this many following segments into the spool (0: none)")
      ->capture_default_str()
      ->check(CLI::Range(0, 256));
  cmd->add_option("--spool", *spool, "Directory for prefetched segments (default: pg_wal/arca-prefetch)");
  auto creds = std::make_shared<std::string>();
  cmd->add_option("--credentials-file", *creds,
                  "File of NAME=VALUE lines (ARCA_PASSWORD, AWS_*) to use as environment variables: how a server "
                  "Arca starts gets the repository's credentials without them in its own environment");
  set_command(*cmd, [&g, file, dest, sysid, pgdata, prefetch, spool, creds] {
    try {
      if (!creds->empty()) load_credentials_file(*creds);
      std::string datadir = pgdata->empty() ? "." : *pgdata;
      std::string sp = spool->empty() ? default_wal_spool(datadir) : *spool;
      if (take_spooled_wal(sp, *file, *dest)) return 0;  // fetched ahead by an earlier call
      uint64_t id = sysid->empty() ? read_system_id(datadir) : parse_system_id(*sysid);
      auto repo = open_repository(g);
      WalArchive archive(*repo, id);
      auto content = archive.fetch(*file);
      if (!content) {
        if (!g.quiet) std::cerr << "arca: " << *file << " is not in the archive\n";
        return 1;
      }
      write_wal_file(*dest, *content);
      try {
        prefetch_wal(archive, sp, *file, *content, *prefetch, std::max(4u, repo->backend().parallelism()));
      } catch (const Error& e) {
        std::cerr << "arca: warning: prefetching WAL after " << *file << ": " << e.what() << "\n";
      }
      return 0;
    } catch (const Error& e) {
      std::cerr << "arca: error: fetching " << *file << ": " << e.what() << "\n";
      return 126;
    }
  });
}

void register_wal_stream(CLI::App& pg, GlobalOptions& g) {
  auto* cmd = pg.add_subcommand("wal-stream",
                                "Stream WAL continuously over a replication slot into the archive (as pg_receivewal "
                                "does); runs until stopped with SIGINT/SIGTERM");
  add_global_options(*cmd, g);
  auto o = std::make_shared<WalStreamOptions>();
  add_conn_option(*cmd, o->conninfo);
  cmd->add_option("--slot", o->slot, "Physical replication slot to stream from")->capture_default_str();
  cmd->add_flag("--create-slot", o->create_slot, "Create the slot if it does not exist");
  cmd->add_option("--flush-interval", o->flush_interval,
                  "Seconds between stores of the segment being written (the data-loss window)")
      ->capture_default_str()
      ->check(CLI::Range(0.05, 3600.0));
  cmd->add_option("--retry-interval", o->retry_interval, "Seconds between reconnection attempts")
      ->capture_default_str();
  cmd->add_option("--give-up-after", o->give_up_after, "Fail after this many seconds without a connection (0: never)")
      ->capture_default_str();
  set_command(*cmd, [&g, o] {
    ops::WalStreamRequest req;
    req.options = *o;
    req.log = [&g](const std::string& m) {
      if (g.json)
        print_json({{"time", now_rfc3339()}, {"event", m}});
      else if (!g.quiet)
        std::cerr << now_rfc3339().substr(0, 19) << " arca pg wal-stream: " << m << std::endl;
    };
    auto repo = open_repository(g);
    ops::WalStreamResult st;
    {
      CliJob job(g);  // SIGINT/SIGTERM end the stream: its normal end, exit 0
      st = ops::wal_stream(*repo, req, job.ctx());
    }
    if (g.json)
      print_json(st.to_json());
    else if (!g.quiet)
      std::cerr << "stopped: received " << human_bytes(st.received) << ", stored " << st.segments
                << " whole segments and " << st.pieces << " pieces; archived up to " << format_lsn(st.flushed_lsn)
                << "\n";
    return kExitOk;
  });
}

void register_pg_check(CLI::App& pg, GlobalOptions& g) {
  auto* cmd =
      pg.add_subcommand("check",
                        "Check that the WAL archive is continuous from every base backup to its newest WAL, per "
                        "timeline; exit 12 if there is a gap");
  add_global_options(*cmd, g);
  auto sysid = std::make_shared<std::string>();
  auto conninfo = std::make_shared<std::string>();
  cmd->add_option("--system-id", *sysid, "Cluster to check (default: that of the newest base backup)");
  cmd->add_option("-d,--conn", *conninfo, "Also compare with the live server's current WAL position");
  set_command(*cmd, [&g, sysid, conninfo] {
    auto repo = open_repository(g);
    ops::PgCheckRequest req;
    req.system_id = sysid->empty() ? 0 : parse_system_id(*sysid);
    req.conninfo = *conninfo;
    CliJob job(g);
    auto res = ops::pg_check(*repo, req, job.ctx());
    const auto& rep = res.report;
    if (g.json) {
      print_json(res.to_json());
    } else {
      std::cout << "WAL archive of cluster " << rep.system_id << ": " << (rep.ok() ? "continuous" : "GAPS FOUND")
                << "\n";
      for (const auto& t : rep.timelines) {
        std::cout << "  timeline " << t.timeline;
        if (t.parent)
          std::cout << " (from timeline " << *t.parent << (t.switch_lsn ? " at " + format_lsn(*t.switch_lsn) : "")
                    << ")";
        if (t.segments)
          std::cout << ": " << t.segments << " segments " << t.first << " .. " << t.last
                    << (t.last_is_partial ? " (newest in progress)" : "");
        std::cout << "\n";
        for (const auto& gp : t.gaps)
          std::cout << "    GAP: " << gp.first_missing << " .. " << gp.last_missing << " missing\n";
      }
      for (const auto& b : rep.backups) {
        std::cout << "  base backup " << b.snapshot.id.short_hex() << " (" << short_time(b.snapshot.time) << "): ";
        if (b.continuous)
          std::cout << "recoverable to " << b.recoverable_to << " (timeline " << b.end_timeline << ")\n";
        else
          std::cout << "recoverable only to " << b.recoverable_to << "; then missing " << b.first_gap->first_missing
                    << " .. " << b.first_gap->last_missing << "\n";
      }
      if (rep.server_lsn)
        std::cout << "  server is at " << format_lsn(*rep.server_lsn) << ": the archive is " << rep.segments_behind
                  << " segment(s) behind\n";
    }
    return res.exit_code();
  });
}

}  // namespace arca
