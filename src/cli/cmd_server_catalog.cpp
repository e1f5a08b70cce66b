// `arca server catalog rebuild|info --config FILE`: the server's catalog (docs/catalog.md). The
// rebuild itself is server::rebuild_points (the server calls it too); this file only loads the
// configuration, opens the catalog and prints.
#include <algorithm>
#include <iostream>

#include "cli/server_commands.h"
#include "ops/error_table.h"
#include "server/catalog_rebuild.h"
#include "server/config.h"
#include "server/sqlite_catalog.h"

namespace arca {
namespace {

// The configuration, or Error(Usage) with every error of the file (as check-config prints them).
server::ServerConfig load_or_throw(const std::string& file) {
  server::ConfigLoad r = server::load_config(file);
  if (r.config) return std::move(*r.config);
  std::string msg = file + ": " + counted(r.errors.size(), "error", "errors") + " (arca server check-config " +
                    file + " lists them)";
  for (const auto& e : r.errors) msg += "\n  " + e.to_string(file);
  throw Error(ErrorKind::Usage, msg);
}

int rebuild(const GlobalOptions& g, const std::string& file) {
  server::ServerConfig config = load_or_throw(file);
  auto catalog = server::open_sqlite_catalog(config.server.catalog);
  auto results = server::rebuild_points(config, *catalog);
  // The worst failure decides the exit code: the highest code among the repositories that failed.
  int rc = kExitOk;
  for (const auto& r : results)
    if (!r.ok) rc = std::max(rc, exit_code_for(r.error_kind));
  if (g.json) {
    nlohmann::json repos = nlohmann::json::array();
    for (const auto& r : results) {
      nlohmann::json j = {{"repository", r.repository}, {"ok", r.ok}};
      if (r.ok) {
        j["points"] = r.points;
        j["drills"] = r.drills;
      } else {
        j["error"] = {{"kind", error_kind_info(r.error_kind).name}, {"message", r.error}};
      }
      repos.push_back(j);
    }
    print_json({{"catalog", config.server.catalog}, {"ok", rc == kExitOk}, {"repositories", repos}});
    return rc;
  }
  for (const auto& r : results) {
    if (r.ok) {
      if (!g.quiet)
        std::cout << r.repository << ": " << counted(r.points, "recovery point", "recovery points") << ", "
                  << counted(r.drills, "drill record", "drill records") << "\n";
    } else {
      std::cerr << "arca: error: " << r.repository << ": " << r.error << "\n";
    }
  }
  if (rc != kExitOk)
    std::cerr << "arca: the catalog keeps its earlier recovery points for the repositories that failed\n";
  return rc;
}

int info(const GlobalOptions& g, const std::string& file) {
  server::ServerConfig config = load_or_throw(file);
  server::SqliteCatalogInfo i = server::sqlite_catalog_info(config.server.catalog);
  if (g.json) {
    print_json({{"path", i.path},
                {"schema_version", i.schema_version},
                {"supported_version", i.supported_version},
                {"rows", i.rows},
                {"bytes", i.file_bytes}});
    return kExitOk;
  }
  std::cout << "catalog:        " << i.path << " (" << human_bytes(i.file_bytes) << ")\n";
  std::cout << "schema version: " << i.schema_version;
  if (i.schema_version != i.supported_version)
    std::cout << " (this arca writes " << i.supported_version
              << (i.schema_version < i.supported_version ? ": migrated at the server's next start)" : ": too new)");
  std::cout << "\n";
  std::vector<std::vector<std::string>> rows;
  for (const auto& [table, n] : i.rows) rows.push_back({table, std::to_string(n)});
  print_table({"table", "rows"}, rows, {false, true});
  return kExitOk;
}

}  // namespace

void register_server_catalog(CLI::App& server, GlobalOptions& g) {
  auto* cat = server.add_subcommand("catalog", "The server's catalog of jobs and recovery points (docs/catalog.md)");
  cat->require_subcommand(1);
  auto file = std::make_shared<std::string>();

  auto* rb = cat->add_subcommand("rebuild",
                                 "Recreate the catalog's recovery points and drill results from every configured repository (a "
                                 "repository that cannot be read is reported, the others rebuilt)");
  rb->add_option("--config", *file, "The server's configuration file")->required();
  rb->add_flag("--json", g.json, "Print {catalog, ok, repositories: [{repository, ok, points, drills | error}]}");
  rb->add_flag("-q,--quiet", g.quiet, "Print only errors");
  set_command(*rb, [&g, file] { return rebuild(g, *file); });

  auto* in = cat->add_subcommand("info", "Show the catalog's path, schema version and row counts");
  in->add_option("--config", *file, "The server's configuration file")->required();
  in->add_flag("--json", g.json, "Print {path, schema_version, supported_version, rows, bytes}");
  set_command(*in, [&g, file] { return info(g, *file); });
}

}  // namespace arca
