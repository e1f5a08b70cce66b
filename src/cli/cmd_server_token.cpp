// `arca server token create|list|revoke`: the API's bearer tokens, managed on the catalog file
// itself (not over the API), so that only someone who may read the server's catalog can mint one.
// A new token is printed once, on stdout; the catalog keeps only its SHA-256.
#include <chrono>
#include <iostream>

#include "cli/server_commands.h"
#include "ops/error_table.h"
#include "server/api.h"
#include "server/api_json.h"
#include "server/catalog.h"
#include "server/config.h"
#include "util/error.h"

namespace arca {

namespace {

struct CatalogOptions {
  std::string config;   // --config FILE: the catalog it names
  std::string catalog;  // --catalog FILE: this one instead
};

void add_catalog_options(CLI::App& cmd, CatalogOptions& o, GlobalOptions& g) {
  auto* config = cmd.add_option("--config", o.config, "The server's configuration file: its server.catalog is used");
  auto* catalog = cmd.add_option("--catalog", o.catalog, "The catalog file itself (instead of --config)");
  config->excludes(catalog);
  cmd.add_flag("--json", g.json, "Machine-readable JSON output on stdout");
}

std::unique_ptr<server::Catalog> open_catalog(const CatalogOptions& o) {
  if (!o.catalog.empty()) return server::open_sqlite_catalog(o.catalog);
  if (o.config.empty())
    throw Error(ErrorKind::Usage, "which server? give --config FILE (its server.catalog) or --catalog FILE");
  server::ConfigLoad load = server::load_config(o.config);
  if (!load.config) {
    std::string first = load.errors.empty() ? o.config + ": cannot be loaded" : load.errors[0].to_string(o.config);
    throw Error(ErrorKind::Usage, first + (load.errors.size() > 1 ? " (and " + counted(load.errors.size() - 1, "more error", "more errors") +
                                                                        "; see arca server check-config " + o.config + ")"
                                                                  : ""));
  }
  return server::open_sqlite_catalog(load.config->server.catalog);
}

double now_unix() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string cell(const std::string& rfc3339) { return rfc3339.empty() ? "never" : short_time(rfc3339); }

}  // namespace

void register_server_token(CLI::App& server, GlobalOptions& g) {
  auto* token = server.add_subcommand("token", "The API's bearer tokens: create, list, revoke (on the catalog file)");
  token->require_subcommand(1);

  auto* create = token->add_subcommand("create", "Create a token and print it once (stdout); only its hash is kept");
  auto co = std::make_shared<CatalogOptions>();
  auto name = std::make_shared<std::string>();
  auto role = std::make_shared<std::string>();
  add_catalog_options(*create, *co, g);
  create->add_option("--name", *name, "What the token is for (shown in lists and in job records)")->required();
  create->add_option("--role", *role, "viewer (read), operator (also pause, resume, run, cancel) or admin")
      ->required()
      ->check(CLI::IsMember({"viewer", "operator", "admin"}));
  set_command(*create, [&g, co, name, role]() -> int {
    auto catalog = open_catalog(*co);
    server::NewToken t = server::create_token(*catalog, *name, *role, now_unix());
    if (g.json) {
      nlohmann::json j = server::to_json(t.record);
      j["token"] = t.token;
      print_json(j);
    } else {
      std::cout << t.token << "\n";
    }
    std::cerr << "token " << t.record.id << " (" << t.record.name << ", " << t.record.role
              << ") created: it is shown only this once. Keep it in a file only its user can read, and give that "
                 "file to clients with --token-file or ARCA_TOKEN_FILE.\n";
    return kExitOk;
  });

  auto* list = token->add_subcommand("list", "List tokens (ids, names, roles, last use; never the tokens)");
  auto lo = std::make_shared<CatalogOptions>();
  add_catalog_options(*list, *lo, g);
  set_command(*list, [&g, lo]() -> int {
    auto tokens = open_catalog(*lo)->tokens();
    if (g.json) {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& t : tokens) out.push_back(server::to_json(t));
      print_json(out);
      return kExitOk;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& t : tokens)
      rows.push_back({t.id, t.name, t.role, cell(server::rfc3339(t.created_at)), cell(server::rfc3339(t.last_used_at)),
                      t.revoked ? "revoked" : ""});
    print_table({"ID", "Name", "Role", "Created (UTC)", "Last used", "Revoked"}, rows);
    return kExitOk;
  });

  auto* revoke = token->add_subcommand("revoke", "Revoke a token: the server refuses it from its next request on");
  auto ro = std::make_shared<CatalogOptions>();
  auto id = std::make_shared<std::string>();
  add_catalog_options(*revoke, *ro, g);
  revoke->add_option("ID", *id, "The token's id (tok_..., from token list)")->required();
  set_command(*revoke, [&g, ro, id]() -> int {
    if (!open_catalog(*ro)->revoke_token(*id))
      throw Error(ErrorKind::NotFound, "no token " + *id + " in the catalog (see arca server token list)");
    if (g.json)
      print_json({{"id", *id}, {"revoked", true}});
    else if (!g.quiet)
      std::cout << "token " << *id << " revoked\n";
    return kExitOk;
  });
}

}  // namespace arca
