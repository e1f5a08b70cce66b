// Tablespace placement and the names `arca pg restore` accepts from a recovery point
// (docs/security.md, "PostgreSQL restores").
#include <gtest/gtest.h>

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
