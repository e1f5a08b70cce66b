// Tablespace placement and the names `arca pg restore` accepts from a recovery point
// (docs/security.md, "PostgreSQL restores").
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>

#include "sources/postgres/cluster_safety.h"
#include "sources/postgres/tablespace_map.h"
#include "util/error.h"

using namespace arca;

namespace {

Snapshot with_tablespaces(nlohmann::json list) {
  Snapshot s;
  s.metadata["tablespaces"] = typed_meta("json", std::move(list));
  return s;
}

ErrorKind kind_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.kind();
  }
  return ErrorKind::Generic;
}

}  // namespace

TEST(PgRestoreSafety, TablespaceNames) {
  EXPECT_TRUE(is_tablespace_link("pg_tblspc/16384"));
  EXPECT_FALSE(is_tablespace_link("pg_tblspc/16384/x"));
  EXPECT_FALSE(is_tablespace_link("pg_tblspc/../etc"));
  EXPECT_FALSE(is_tablespace_link("postgresql.auto.conf"));
  EXPECT_FALSE(is_tablespace_link("pg_tblspc/"));
  EXPECT_TRUE(is_tablespace_version_dir("PG_16_202307071"));
  EXPECT_TRUE(is_tablespace_version_dir("PG_9.6_201608131"));
  EXPECT_FALSE(is_tablespace_version_dir("PG_16_"));
  EXPECT_FALSE(is_tablespace_version_dir("etc"));
}

TEST(PgRestoreSafety, BackupRefusesWhatPostgresNeverSends) {
  EXPECT_EQ(refused_backup_entry(false, "pg_tblspc/16384", true), "");
  EXPECT_EQ(refused_backup_entry(false, "base/1/1259", false), "");
  EXPECT_EQ(refused_backup_entry(true, "PG_16_202307071/5/16390", false), "");
  EXPECT_EQ(refused_backup_entry(true, "PG_16_202307071", false), "");
  EXPECT_NE(refused_backup_entry(false, "postgresql.auto.conf", true), "");
  EXPECT_NE(refused_backup_entry(false, "pg_tblspc/x", true), "");
  EXPECT_NE(refused_backup_entry(true, "PG_16_202307071/link", true), "");
  EXPECT_NE(refused_backup_entry(true, "etc/passwd", false), "");
}

TEST(PgRestoreSafety, RecordedLocationsNeedConsent) {
  Snapshot s = with_tablespaces({{{"oid", "16384"}, {"location", "/srv/tbs"}}});
  EXPECT_EQ(kind_of([&] { place_tablespaces(s, {}, "/data"); }), ErrorKind::Usage);
  try {
    place_tablespaces(s, {}, "/data");
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("16384 at /srv/tbs"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("--tablespace-map-all-original"), std::string::npos) << e.what();
  }
  TablespaceChoice orig;
  orig.all_original = true;
  auto p = place_tablespaces(s, orig, "/data");
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].location, "/srv/tbs");
  TablespaceChoice all;
  all.map_all = "/new/";
  EXPECT_EQ(place_tablespaces(s, all, "/data")[0].location, "/new/16384");
  TablespaceChoice one;
  one.map["16384"] = "/x/../y/";
  EXPECT_EQ(place_tablespaces(s, one, "/data")[0].location, "/y");
  one.map["99"] = "/z";
  EXPECT_EQ(kind_of([&] { place_tablespaces(s, one, "/data"); }), ErrorKind::Usage);
}

TEST(PgRestoreSafety, LocationsAreCheckedForShape) {
  TablespaceChoice orig;
  orig.all_original = true;
  for (std::string loc : {"relative/dir", "/srv/../etc", "/", "/data", "/data/inside", "/"}) {
    Snapshot s = with_tablespaces({{{"oid", "16384"}, {"location", loc}}});
    EXPECT_EQ(kind_of([&] { place_tablespaces(s, orig, "/data"); }), ErrorKind::Usage) << loc;
  }
  // The data directory inside a tablespace location, and two tablespaces nested.
  Snapshot s = with_tablespaces({{{"oid", "1"}, {"location", "/srv"}}, {{"oid", "2"}, {"location", "/srv/b"}}});
  EXPECT_EQ(kind_of([&] { place_tablespaces(s, orig, "/data"); }), ErrorKind::Usage);
  Snapshot s2 = with_tablespaces({{{"oid", "1"}, {"location", "/"}}});
  EXPECT_EQ(kind_of([&] { place_tablespaces(s2, orig, "/srv/data"); }), ErrorKind::Usage);
}

TEST(PgRestoreSafety, MalformedTablespaceMetadataIsCorrupt) {
  TablespaceChoice all;
  all.map_all = "/new";
  for (auto list : {nlohmann::json{{{"oid", "../../etc"}, {"location", "/srv"}}},
                    nlohmann::json{{{"oid", 16384}, {"location", "/srv"}}}, nlohmann::json("x"),
                    nlohmann::json{{{"oid", "1"}, {"location", "/a"}}, {{"oid", "1"}, {"location", "/b"}}}}) {
    Snapshot s = with_tablespaces(list);
    EXPECT_EQ(kind_of([&] { place_tablespaces(s, all, "/data"); }), ErrorKind::Corrupt) << list.dump();
  }
}

namespace {

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/arca-pgsafety-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

void touch(const std::string& p, const std::string& content = "x") { std::ofstream(p) << content; }

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(PgRestoreSafety, DeltaOnlyOnAPreviousRestore) {
  TempDir t;
  const auto data = RestoreTargetKind::DataDirectory;
  const auto tbs = RestoreTargetKind::TablespaceLocation;
  // System directories never, with or without --delta, also through a symlink.
  for (std::string d : {"/", "/etc", "/home", "/usr/lib", "/var/lib/"})
    EXPECT_NE(
        message_of([&] { check_restore_target(d, true, data, "the data directory", ""); }).find("system directory"),
        std::string::npos)
        << d;
  std::filesystem::create_directory_symlink("/", t.path + "/root");
  EXPECT_EQ(kind_of([&] { check_restore_target(t.path + "/root", true, data, "d", ""); }), ErrorKind::Usage);
  // A non-empty directory: the error says what --delta does, and --delta needs PG_VERSION.
  touch(t.path + "/home-file");
  std::string m = message_of([&] { check_restore_target(t.path, false, data, "d", ""); });
  EXPECT_NE(m.find("REMOVES"), std::string::npos) << m;
  m = message_of([&] { check_restore_target(t.path, true, data, "d", ""); });
  EXPECT_NE(m.find("holds no PG_VERSION"), std::string::npos) << m;
  touch(t.path + "/PG_VERSION", "16\n");
  EXPECT_NO_THROW(check_restore_target(t.path, true, data, "d", ""));
  // Never the repository, nor a directory holding it.
  std::filesystem::create_directory(t.path + "/repo");
  EXPECT_EQ(kind_of([&] { check_restore_target(t.path, true, data, "d", t.path + "/repo"); }), ErrorKind::Usage);
  EXPECT_EQ(kind_of([&] { check_restore_target(t.path + "/repo/x", false, data, "d", t.path + "/repo"); }),
            ErrorKind::Usage);
  // A tablespace location: only version directories, the first other entry named.
  std::string loc = t.path + "/tbs";
  std::filesystem::create_directories(loc + "/PG_15_202209061");
  EXPECT_NO_THROW(check_restore_target(loc, true, tbs, "t", ""));
  std::filesystem::create_directories(loc + "/.ssh");
  m = message_of([&] { check_restore_target(loc, true, tbs, "t", ""); });
  EXPECT_NE(m.find("holds .ssh"), std::string::npos) << m;
}

TEST(PgRestoreSafety, ModesArePostgresOwn) {
  EXPECT_EQ(cluster_modes(0600).dir, mode_t(0700));
  EXPECT_EQ(cluster_modes(0644).file, mode_t(0640));
  EXPECT_EQ(cluster_modes(0640).dir, mode_t(0750));
  TempDir t;
  std::filesystem::create_directories(t.path + "/base/1");
  touch(t.path + "/base/1/1259");
  chmod((t.path + "/base").c_str(), 0777);
  chmod((t.path + "/base/1/1259").c_str(), 0666);
  std::filesystem::create_symlink("/etc/hostname", t.path + "/link");
  struct stat before;
  ASSERT_EQ(stat("/etc/hostname", &before), 0);
  settle_beneath(open_directory(t.path).get(), t.path, cluster_modes(0600), nullptr);
  struct stat st;
  ASSERT_EQ(stat((t.path + "/base").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, mode_t(0700));
  ASSERT_EQ(stat((t.path + "/base/1/1259").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, mode_t(0600));
  ASSERT_EQ(stat("/etc/hostname", &st), 0);
  EXPECT_EQ(st.st_mode, before.st_mode);  // a symlink is never followed
}

TEST(PgRestoreSafety, OverlapIsCheckedResolved) {
  TempDir t;
  std::string data = t.path + "/data";
  std::filesystem::create_directory(data);
  std::filesystem::create_directory(t.path + "/x");
  std::filesystem::create_directory_symlink(data, t.path + "/x/tsl");
  EXPECT_EQ(resolve_existing_prefix(t.path + "/x/tsl/a/b"), resolve_existing_prefix(data) + "/a/b");
  Snapshot s = with_tablespaces({{{"oid", "16384"}, {"location", "/srv/tbs"}}});
  TablespaceChoice c;
  c.map["16384"] = t.path + "/x/tsl/ts";
  EXPECT_NE(message_of([&] { place_tablespaces(s, c, data); }).find("overlap"), std::string::npos);
  c.map["16384"] = t.path + "/x/tsl";
  EXPECT_NE(message_of([&] { place_tablespaces(s, c, data); }).find("is a symlink"), std::string::npos);
  c.map["16384"] = t.path + "/x/ts";
  EXPECT_NO_THROW(place_tablespaces(s, c, data));
}
