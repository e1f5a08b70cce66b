// Per-table row counts recorded with a base backup, for `arca pg verify` to compare against.
//
// A physical backup is consistent at its stop position, which no SQL snapshot matches exactly
// while writers are busy. So the counts are taken right after the backup, and with each count
// Arca records how many rows were inserted or deleted in that table between the start of the
// backup and the count (from pg_stat_user_tables). Verify then accepts a restored count that
// differs from the recorded one by at most that many rows; on a quiet table it must match exactly.
// Unlogged tables are left out: physical backups never hold their rows (they restore empty).
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace arca {

struct RowCountSnapshot {
  // database -> "schema.table" -> n_tup_ins + n_tup_del
  std::map<std::string, std::map<std::string, int64_t>> changes;
};

// Databases that accept connections, templates excluded.
std::vector<std::string> pg_list_databases(const std::string& conninfo);
RowCountSnapshot capture_write_stats(const std::string& conninfo);
// {"<db>": [{"schema", "table", "rows", "tolerance"}, …]}; tables estimated above `limit` rows
// are left out (counting them would take too long).
nlohmann::json capture_row_counts(const std::string& conninfo, const RowCountSnapshot& before, uint64_t limit);

}  // namespace arca
