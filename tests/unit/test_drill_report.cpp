// Tests of drill reports (src/drill/drill_report.h): the JSON round trip, exit codes, Markdown and
// HTML (escaped, self-contained).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "drill/drill_components.h"
#include "drill/drill_report.h"
#include "drill/drill_spec.h"
#include "ops/error_table.h"
#include "test_util.h"
#include "util/clock.h"

namespace arca::drill {
namespace {

namespace fs = std::filesystem;

// A result with every field set (and one of each check status).
DrillResult sample_result() {
  DrillResult r;
  r.id = std::string(64, 'a');
  r.name = "nightly";
  r.host = "db1";
  r.started_at = 1796652300.25;
  r.finished_at = 1796652342.5;
  r.incident_time = 1796652000.125;
  r.incident_given = true;
  ComponentResult db;
  db.name = "orders-db";
  db.kind = ComponentKind::Postgres;
  db.source = "orders";
  db.snapshot_id = std::string(64, 'b');
  db.snapshot_time = "2026-12-07T13:00:00.5Z";
  db.phases = {{"locate", 0.1, 0.4}, {"restore", 0.4, 3.25}, {"start and WAL replay", 3.25, 9.5}, {"validate", 9.5, 11}};
  db.checks = {{"foreign keys", true, false, "12 constraints"},
               {"amcheck", false, true, "extension missing"},
               {"marks", false, false, "got 99"}};
  db.rto_s = 11;
  db.newest_data = 1796651990.75;
  db.rpo_s = 9.375;
  db.objectives.rto_s = 900;
  db.objectives.rpo_s = 300;
  db.rto_ok = true;
  db.rpo_ok = true;
  ComponentResult cache;
  cache.name = "cache";
  cache.kind = ComponentKind::Redis;
  cache.source = "cache";
  cache.error = "not run: it depends on orders-db, which did not restore and validate";
  r.components = {db, cache};
  return r;
}

TEST(DrillReport, JsonRoundTripKeepsEveryField) {
  DrillResult r = sample_result();
  const std::string text = to_json(r).dump();
  DrillResult b = drill_result_from_json(nlohmann::json::parse(text));
  EXPECT_EQ(b.id, r.id);
  EXPECT_EQ(b.name, r.name);
  EXPECT_EQ(b.host, r.host);
  EXPECT_DOUBLE_EQ(b.started_at, r.started_at);
  EXPECT_DOUBLE_EQ(b.finished_at, r.finished_at);
  EXPECT_DOUBLE_EQ(b.incident_time, r.incident_time);
  EXPECT_EQ(b.incident_given, true);
  ASSERT_EQ(b.components.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    const ComponentResult &x = r.components[i], &y = b.components[i];
    SCOPED_TRACE(x.name);
    EXPECT_EQ(y.name, x.name);
    EXPECT_EQ(y.kind, x.kind);
    EXPECT_EQ(y.source, x.source);
    EXPECT_EQ(y.snapshot_id, x.snapshot_id);
    EXPECT_EQ(y.snapshot_time, x.snapshot_time);
    EXPECT_EQ(y.error, x.error);
    EXPECT_DOUBLE_EQ(y.rto_s, x.rto_s);
    EXPECT_EQ(y.rpo_s, x.rpo_s);
    EXPECT_EQ(y.newest_data, x.newest_data);
    EXPECT_EQ(y.objectives.rto_s, x.objectives.rto_s);
    EXPECT_EQ(y.objectives.rpo_s, x.objectives.rpo_s);
    EXPECT_EQ(y.rto_ok, x.rto_ok);
    EXPECT_EQ(y.rpo_ok, x.rpo_ok);
    ASSERT_EQ(y.phases.size(), x.phases.size());
    for (size_t p = 0; p < x.phases.size(); ++p) {
      EXPECT_EQ(y.phases[p].name, x.phases[p].name);
      EXPECT_DOUBLE_EQ(y.phases[p].start_s, x.phases[p].start_s);
      EXPECT_DOUBLE_EQ(y.phases[p].end_s, x.phases[p].end_s);
    }
    ASSERT_EQ(y.checks.size(), x.checks.size());
    for (size_t k = 0; k < x.checks.size(); ++k) {
      EXPECT_EQ(y.checks[k].name, x.checks[k].name);
      EXPECT_EQ(y.checks[k].skipped, x.checks[k].skipped);
      if (!x.checks[k].skipped) {  // a skipped check is neither passed nor failed
        EXPECT_EQ(y.checks[k].passed, x.checks[k].passed);
      }
      EXPECT_EQ(y.checks[k].detail, x.checks[k].detail);
    }
    EXPECT_EQ(y.validated(), x.validated());
    EXPECT_EQ(y.passed(), x.passed());
  }
  // The documented fields a reader of the JSON relies on.
  nlohmann::json j = nlohmann::json::parse(text);
  EXPECT_EQ(j["exit_code"].get<int>(), int(kExitCorrupt));
  EXPECT_EQ(j["components"][0]["status"], "FAILED");
  EXPECT_EQ(j["components"][0]["checks"][1]["status"], "skipped");
  EXPECT_TRUE(j["components"][1]["snapshot"].is_null());
  EXPECT_TRUE(j["components"][0]["error"].is_null());
  EXPECT_EQ(drill_result_from_json(to_json(b)).components[0].checks.size(), 3u);
}

TEST(DrillReport, ABadDocumentIsCorrupt) {
  nlohmann::json j = to_json(sample_result());
  j["components"][0]["kind"] = "mysql";
  EXPECT_EQ(testing::kind_of([&] { drill_result_from_json(j); }), ErrorKind::Corrupt);
  j = to_json(sample_result());
  j.erase("started_unix");
  EXPECT_EQ(testing::kind_of([&] { drill_result_from_json(j); }), ErrorKind::Corrupt);
  EXPECT_EQ(testing::kind_of([&] { drill_result_from_json(nlohmann::json::array()); }), ErrorKind::Corrupt);
}

// One validated component of `kind` with the given objective verdicts.
ComponentResult validated_component(const std::string& name, std::optional<bool> rto_ok, std::optional<bool> rpo_ok) {
  ComponentResult c;
  c.name = name;
  c.snapshot_id = std::string(64, 'c');
  c.checks = {{"manifest", true, false, ""}, {"amcheck", false, true, "not installed"}};
  c.rto_ok = rto_ok;
  c.rpo_ok = rpo_ok;
  return c;
}

TEST(DrillReport, ExitCodes) {
  DrillResult r;
  r.components = {validated_component("a", true, std::nullopt), validated_component("b", std::nullopt, true)};
  EXPECT_TRUE(r.passed());
  EXPECT_EQ(r.exit_code(), kExitOk);  // a skipped check fails nothing

  r.components[1].rpo_ok = false;  // only an objective missed
  EXPECT_FALSE(r.passed());
  EXPECT_TRUE(r.components[1].validated());
  EXPECT_EQ(r.exit_code(), kExitObjective);
  EXPECT_EQ(kExitObjective, 17);

  DrillResult failed_check = r;
  failed_check.components[0].checks.push_back({"foreign keys", false, false, "orders_customer_fkey"});
  EXPECT_EQ(failed_check.exit_code(), kExitCorrupt);  // a failed check outweighs a missed objective
  EXPECT_EQ(kExitCorrupt, 12);

  DrillResult error = r;
  error.components[1] = validated_component("b", true, true);
  error.components[0].error = "no recovery point";
  EXPECT_EQ(error.exit_code(), kExitCorrupt);

  DrillResult none_found = r;
  none_found.components[1] = validated_component("b", true, true);
  none_found.components[0].snapshot_id.clear();  // nothing restored, yet no error text
  EXPECT_EQ(none_found.exit_code(), kExitCorrupt);
}

// A result whose names, details and errors carry markup.
DrillResult hostile_result() {
  DrillResult r = sample_result();
  r.name = "<script>alert(1)</script>";
  r.components[0].name = "db<script>x</script>";
  r.components[0].checks[2] = {"<script>evil()</script>", false, false, "got <script>1</script> | & \"q\"\nline 2"};
  r.components[1].error = "<img onerror=x> <script>e</script>";
  return r;
}

TEST(DrillReport, MarkdownEscapesMarkupAndKeepsTablesWhole) {
  const std::string md = to_markdown(hostile_result());
  EXPECT_FALSE(has(md, "<script")) << md;
  EXPECT_FALSE(has(md, "<img")) << md;
  EXPECT_TRUE(has(md, "&lt;script&gt;evil()&lt;/script&gt;")) << md;
  EXPECT_TRUE(has(md, "\\| & ")) << md;  // a pipe would end the table's cell
  EXPECT_FALSE(has(md, "\nline 2")) << md;
  EXPECT_TRUE(has(md, "# Drill &lt;script&gt;alert(1)&lt;/script&gt;: FAILED")) << md;

  const std::string plain = to_markdown(sample_result());
  EXPECT_TRUE(has(plain, "| orders-db | postgres | `bbbbbbbb` 2026-12-07T13:00:00.5Z |")) << plain;
  EXPECT_TRUE(has(plain, "- [FAIL] marks: got 99")) << plain;
  EXPECT_TRUE(has(plain, "- [skip] amcheck")) << plain;
  EXPECT_TRUE(has(plain, "15 min 0 s: met")) << plain;
  EXPECT_TRUE(has(plain, "**Error:** not run: it depends on orders-db")) << plain;
}

TEST(DrillReport, HtmlIsEscapedAndSelfContained) {
  const std::string html = to_html(hostile_result());
  EXPECT_FALSE(has(html, "<script")) << html;
  EXPECT_FALSE(has(html, "<img")) << html;
  EXPECT_TRUE(has(html, "&lt;script&gt;evil()&lt;/script&gt;")) << html;
  EXPECT_TRUE(has(html, "&lt;img onerror=x&gt;")) << html;
  EXPECT_TRUE(has(html, "&amp; &quot;q&quot;")) << html;

  const std::string plain = to_html(sample_result());
  EXPECT_FALSE(has(plain, "http://")) << plain;
  EXPECT_FALSE(has(plain, "https://")) << plain;
  EXPECT_FALSE(has(plain, " src=")) << plain;
  EXPECT_FALSE(has(plain, "<link")) << plain;
  EXPECT_EQ(plain.rfind("<!doctype html>", 0), 0u);
  // The timeline: one bar per phase, placed by its share of the drill's span (11 s here).
  EXPECT_TRUE(has(plain, "class=\"ph restore\" style=\"left:3.64%;width:25.91%\"")) << plain;
  EXPECT_TRUE(has(plain, "class=\"ph start\"")) << plain;  // "start and WAL replay" is a start
  EXPECT_TRUE(has(plain, "<td class=\"bad\">FAILED</td>")) << plain;
}

// Restored and validated, but an objective missed: the heading says so instead of FAILED (exit 17).
TEST(DrillReport, VerdictTellsAMissedObjectiveFromAFailure) {
  DrillResult r;
  r.name = "n";
  ComponentResult c;
  c.name = "db";
  c.snapshot_id = std::string(64, 'a');
  c.rto_ok = false;
  r.components = {c};
  EXPECT_EQ(r.exit_code(), 17);
  EXPECT_STREQ(r.verdict(), "OBJECTIVE MISSED");
  EXPECT_TRUE(has(to_markdown(r), "# Drill n: OBJECTIVE MISSED")) << to_markdown(r);
  r.components[0].error = "no recovery point";
  EXPECT_STREQ(r.verdict(), "FAILED");
  r.components[0].error.clear();
  r.components[0].rto_ok = true;
  EXPECT_STREQ(r.verdict(), "PASSED");
}

}  // namespace
}  // namespace arca::drill
