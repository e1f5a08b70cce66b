#include "sources/postgres/row_counts.h"

#include <chrono>
#include <thread>

#include "sources/postgres/pg_conn.h"

namespace arca {

using nlohmann::json;

static const char* kUserTables =
    "SELECT s.schemaname, s.relname, s.n_tup_ins + s.n_tup_del, c.reltuples::bigint "
    "FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid WHERE c.relkind = 'r' AND c.relpersistence = 'p' "
    "ORDER BY 1, 2";

std::vector<std::string> pg_list_databases(const std::string& conninfo) {
  PgConn c(conninfo, PgConn::Mode::Normal);
  PgResult r = c.exec("SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate ORDER BY 1",
                      "listing databases");
  std::vector<std::string> out;
  for (int i = 0; i < PQntuples(r.get()); i++) out.push_back(PQgetvalue(r.get(), i, 0));
  return out;
}

RowCountSnapshot capture_write_stats(const std::string& conninfo) {
  RowCountSnapshot s;
  for (const auto& db : pg_list_databases(conninfo)) {
    PgConn c(pg_conninfo_with(conninfo, "dbname", db), PgConn::Mode::Normal);
    // Statistics are read from a cached snapshot per transaction; each query here is its own.
    PgResult r = c.exec(kUserTables, "reading table statistics in " + db);
    auto& m = s.changes[db];
    for (int i = 0; i < PQntuples(r.get()); i++)
      m[std::string(PQgetvalue(r.get(), i, 0)) + "." + PQgetvalue(r.get(), i, 1)] =
          std::stoll(PQgetvalue(r.get(), i, 2));
  }
  return s;
}

json capture_row_counts(const std::string& conninfo, const RowCountSnapshot& before, uint64_t limit) {
  json out = json::object();
  for (const auto& db : pg_list_databases(conninfo)) {
    PgConn c(pg_conninfo_with(conninfo, "dbname", db), PgConn::Mode::Normal);
    c.exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "starting a read-only transaction in " + db);
    PgResult r = c.exec(kUserTables, "listing tables in " + db);
    json tables = json::array();
    auto b = before.changes.find(db);
    for (int i = 0; i < PQntuples(r.get()); i++) {
      std::string schema = PQgetvalue(r.get(), i, 0), table = PQgetvalue(r.get(), i, 1);
      if (std::stoll(PQgetvalue(r.get(), i, 3)) > int64_t(limit)) continue;
      PgResult q = c.exec_params("SELECT format('SELECT count(*) FROM ONLY %I.%I', $1::text, $2::text)",
                                 {schema, table}, "quoting a table name");
      std::string rows = c.value(PQgetvalue(q.get(), 0, 0), "counting rows of " + schema + "." + table);
      tables.push_back({{"schema", schema},
                        {"table", table},
                        {"rows", std::stoll(rows)},
                        {"changes_before", b != before.changes.end() && b->second.count(schema + "." + table)
                                               ? b->second.at(schema + "." + table)
                                               : 0}});
    }
    c.exec("COMMIT", "ending the transaction in " + db);
    // Changes up to now (after counting) bound what concurrent writers did around the backup.
    // Busy backends publish their statistics about once a second: if anything changed, wait for
    // the next round so that the bound includes the last changes.
    auto read_now = [&] {
      PgResult after = c.exec(kUserTables, "reading table statistics in " + db);
      std::map<std::string, int64_t> m;
      for (int i = 0; i < PQntuples(after.get()); i++)
        m[std::string(PQgetvalue(after.get(), i, 0)) + "." + PQgetvalue(after.get(), i, 1)] =
            std::stoll(PQgetvalue(after.get(), i, 2));
      return m;
    };
    std::map<std::string, int64_t> now = read_now();
    if (b == before.changes.end() || now != b->second) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1100));
      now = read_now();
    }
    for (auto& t : tables) {
      std::string key = t["schema"].get<std::string>() + "." + t["table"].get<std::string>();
      int64_t tol = now.count(key) ? now[key] - t["changes_before"].get<int64_t>() : 0;
      t["tolerance"] = tol < 0 ? 0 : tol;
      t.erase("changes_before");
    }
    out[db] = std::move(tables);
  }
  return out;
}

}  // namespace arca
