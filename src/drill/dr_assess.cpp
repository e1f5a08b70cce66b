#include "drill/dr_assess.h"

#include <algorithm>

#include "drill/drill_components.h"
#include "drill/drill_record.h"
#include "ops/pg_wal.h"
#include "sources/postgres/cluster_restore.h"
#include "util/clock.h"
#include "util/error.h"

namespace arca::drill {

bool Assessment::go() const {
  for (const auto& c : components)
    if (!c.go()) return false;
  return !components.empty();
}

namespace {

std::string seconds_text(double s) { return std::to_string(static_cast<long long>(s + 0.5)) + " s"; }

// The newest data a PostgreSQL base backup restores to: the newest commit in the WAL archived
// after it (what a restore to the latest point replays), else the backup's end. `basis` says
// which, `detail` where the commit is or why the WAL gave nothing younger.
std::optional<double> postgres_newest_data(Repository& repo, const Snapshot& s, std::string& basis,
                                           std::string& detail) {
  std::optional<double> stop = parse_time(snapshot_meta(s, "stop_time"));
  try {
    ops::ArchivedCommit w = ops::newest_archived_commit(repo, s);
    if (w.commit && (!stop || w.commit->unix_time() >= *stop)) {
      basis = "newest commit in archived WAL";
      detail = "LSN " + format_lsn(w.commit->lsn) + " in " + w.segment;
      return w.commit->unix_time();
    }
    detail = w.commit ? "the archived WAL's newest commit is older" : w.note;
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::Cancelled) throw;
    detail = std::string("reading the WAL archive: ") + e.what();
  }
  if (stop) basis = "base backup end";
  return stop;
}

}  // namespace

Assessment assess(const DrillSpec& spec, Repository& repo, double now) {
  Assessment out;
  out.now = now;
  size_t unreadable = 0;
  const std::vector<DrillResult> drills = list_drill_records(repo, &unreadable);
  for (const auto& c : spec.components) {
    ComponentAssessment a;
    a.name = c.name;
    a.kind = c.kind;
    a.objectives = c.objectives;
    try {
      Snapshot s = locate_point(repo, c, now);
      a.snapshot_id = s.id.hex();
      a.snapshot_time = s.time;
      std::optional<double> t;
      std::string basis = "point time", detail;
      if (c.kind == ComponentKind::Postgres) t = postgres_newest_data(repo, s, basis, detail);
      if (!t) t = parse_time(s.time);
      if (t) {
        // Data committed (and archived) while the assessment ran is newer than its start: age 0.
        a.age_s = std::max(0.0, now - *t);
        a.newest_data_time = rfc3339_utc(*t, true);
        a.age_basis = basis + " at " + a.newest_data_time + (detail.empty() ? "" : ", " + detail);
      }
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::Cancelled) throw;
      a.problems.push_back(std::string("no restorable recovery point: ") + e.what());
    }
    if (a.objectives.rpo_s && a.age_s) {
      a.rpo_ok = *a.age_s <= double(*a.objectives.rpo_s);
      if (!*a.rpo_ok)
        a.problems.push_back("the newest point is " + seconds_text(*a.age_s) + " old, over the RPO objective of " +
                             seconds_text(double(*a.objectives.rpo_s)) + " (from the " + a.age_basis + ")");
    }
    // The newest drill of this drill file (by its name) that restored this component: another
    // drill's component of the same name (a smoke test) proves nothing about this one.
    for (auto it = drills.rbegin(); it != drills.rend(); ++it) {
      if (it->name != spec.name) continue;
      const ComponentResult* found = nullptr;
      for (const auto& r : it->components)
        if (r.name == c.name && r.kind == c.kind) found = &r;
      if (!found) continue;
      a.last_drill_id = it->id;
      a.last_drill_time = rfc3339_utc(it->started_at);
      a.last_drill_validated = found->validated();
      if (found->validated()) a.last_drill_rto_s = found->rto_s;
      break;
    }
    // An unreadable record may be the newest drill, and a failed one: judging from an older
    // record could turn a recorded failure into GO.
    if (unreadable)
      a.problems.push_back(std::to_string(unreadable) + " drill record" + (unreadable == 1 ? "" : "s") +
                           " could not be read, and the newest drill may be among them: 'arca check "
                           "--read-data' finds the damage");
    if (a.last_drill_id.empty())
      a.problems.push_back("never drilled: no recorded drill " + spec.name + " restored a component named '" +
                           c.name + "'");
    else if (!a.last_drill_validated)
      a.problems.push_back("the last drill (" + a.last_drill_time + ") did not restore and validate it");
    if (a.objectives.rto_s && a.last_drill_rto_s) {
      a.rto_ok = *a.last_drill_rto_s <= double(*a.objectives.rto_s);
      if (!*a.rto_ok)
        a.problems.push_back("the last drill took " + seconds_text(*a.last_drill_rto_s) + ", over the RTO objective of " +
                             seconds_text(double(*a.objectives.rto_s)));
    }
    out.components.push_back(std::move(a));
  }
  return out;
}

nlohmann::json to_json(const Assessment& a) {
  using nlohmann::json;
  auto opt = [](const auto& v) { return v ? json(*v) : json(); };
  json comps = json::array();
  for (const auto& c : a.components)
    comps.push_back({{"name", c.name},
                     {"kind", std::string(to_string(c.kind))},
                     {"go", c.go()},
                     {"snapshot", c.snapshot_id.empty() ? json() : json(c.snapshot_id)},
                     {"snapshot_time", c.snapshot_time.empty() ? json() : json(c.snapshot_time)},
                     {"age_s", opt(c.age_s)},
                     {"newest_data_time", c.newest_data_time.empty() ? json() : json(c.newest_data_time)},
                     {"age_basis", c.age_basis.empty() ? json() : json(c.age_basis)},
                     {"rpo_objective_s", opt(c.objectives.rpo_s)},
                     {"rpo_ok", opt(c.rpo_ok)},
                     {"last_drill", c.last_drill_id.empty() ? json() : json(c.last_drill_id)},
                     {"last_drill_time", c.last_drill_time.empty() ? json() : json(c.last_drill_time)},
                     {"last_drill_rto_s", opt(c.last_drill_rto_s)},
                     {"rto_objective_s", opt(c.objectives.rto_s)},
                     {"rto_ok", opt(c.rto_ok)},
                     {"problems", c.problems}});
  return {{"now", rfc3339_utc(a.now)}, {"go", a.go()}, {"components", comps}};
}

}  // namespace arca::drill
