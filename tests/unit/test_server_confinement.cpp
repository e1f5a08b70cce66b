// What a server started from a recovery point may run and load (docs/security.md, "PostgreSQL
// restores").
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "sources/postgres/server_confinement.h"
#include "util/fd.h"

using namespace arca;

TEST(ServerConfinement, PreloadListsKeepBareNamesOnly) {
  EXPECT_EQ(pg_bare_libraries("pg_stat_statements, auto_explain"), "pg_stat_statements,auto_explain");
  EXPECT_EQ(pg_bare_libraries("/tmp/evil, pg_stat_statements"), "pg_stat_statements");
  EXPECT_EQ(pg_bare_libraries("'$libdir/../../tmp/evil',\"a/b\",  timescaledb "), "timescaledb");
  EXPECT_EQ(pg_bare_libraries("$libdir/x"), "");
  EXPECT_EQ(pg_bare_libraries(""), "");
}

TEST(ServerConfinement, CommandLineOverridesEverySettingThatRunsOrWrites) {
  PgConfinement c{"/d", "/run/x", "arca pg wal-fetch", false};
  auto s = pg_confining_settings(c, [](const std::string& n) {
    return n == "shared_preload_libraries" ? std::string("/tmp/evil,pg_stat_statements") : std::string("/tmp/x");
  });
  auto has = [&](const std::string& x) { return std::find(s.begin(), s.end(), x) != s.end(); };
  for (const char* x :
       {"recovery_end_command=", "archive_cleanup_command=", "restore_command=arca pg wal-fetch", "data_directory=/d",
        "external_pid_file=", "promote_trigger_file=", "unix_socket_directories=/run/x", "dynamic_library_path=$libdir",
        "shared_preload_libraries=pg_stat_statements", "session_preload_libraries=", "local_preload_libraries=",
        "jit_provider=llvmjit", "log_directory=log", "hba_file=/d/pg_hba.conf", "ident_file=/d/pg_ident.conf"})
    EXPECT_TRUE(has(x)) << x;
  EXPECT_FALSE(has("ssl=off"));
  // A restored primary keeps archive_mode, and its command settings stay in postgresql.auto.conf
  // (emptied there), where ALTER SYSTEM can set archive_command again: WAL waits in pg_wal.
  EXPECT_FALSE(has("archive_mode=off"));
  EXPECT_FALSE(has("archive_command="));
  c.scratch = true;
  s = pg_confining_settings(c, [](const std::string&) { return std::string(); });
  EXPECT_TRUE(has("ssl=off"));
  for (const char* x : {"recovery_end_command=", "archive_cleanup_command=", "archive_command=", "archive_library=",
                        "ssl_passphrase_command=", "archive_mode=off"})
    EXPECT_TRUE(has(x)) << x;
  EXPECT_TRUE(has("listen_addresses="));
}

TEST(ServerConfinement, FindsCommandSettingsInEitherFileLastOneWins) {
  auto dir = std::filesystem::temp_directory_path() / ("arca-confine-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "postgresql.conf") << "archive_command = 'cp %p /a'  # c\nrecovery_end_command='x'\n";
  std::ofstream(dir / "postgresql.auto.conf") << "recovery_end_command = 'id > /tmp/it''s'\n"
                                              << "ssl_passphrase_command=echo\narchive_cleanup_command = ''\n";
  UniqueFd fd(open(dir.c_str(), O_RDONLY | O_DIRECTORY));
  auto found = pg_command_settings_found(fd.get(), dir.string());
  std::filesystem::remove_all(dir);
  ASSERT_EQ(found.size(), 3u);
  EXPECT_EQ(found[0].name, "recovery_end_command");
  EXPECT_EQ(found[0].original, "id > /tmp/it's");
  EXPECT_EQ(found[1].name, "archive_command");
  EXPECT_EQ(found[1].original, "cp %p /a");
  EXPECT_EQ(found[2].name, "ssl_passphrase_command");
  EXPECT_EQ(found[2].original, "echo");
}
