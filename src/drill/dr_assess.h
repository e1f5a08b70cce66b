// `arca dr assess` (docs/drills.md, "Assessing readiness"): before a failover, for each component
// of a drill file, the newest restorable recovery point in the repository, its age against the
// RPO objective, the RTO the last recorded drill measured against the RTO objective, and a
// go/no-go — the operations document's dr-assessment, from data Arca has. Restores nothing.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "drill/drill_spec.h"
#include "repo/repository.h"

namespace arca::drill {

struct ComponentAssessment {
  std::string name;
  ComponentKind kind = ComponentKind::Files;
  std::string snapshot_id, snapshot_time;  // "" when none is restorable
  std::optional<double> age_s;             // now - the point's newest data
  // What the age is measured from: "newest commit in archived WAL at <time> (<LSN>, segment <name>)",
  // "base backup end at <time>" (with why the WAL gave nothing younger) or "point time at <time>".
  std::string age_basis;
  std::string newest_data_time;  // RFC 3339, "" when unknown
  Objectives objectives;
  std::optional<bool> rpo_ok;                 // unset: no RPO objective
  std::optional<double> last_drill_rto_s;     // the newest recorded drill that restored this component
  std::string last_drill_id, last_drill_time;
  bool last_drill_validated = false;
  std::optional<bool> rto_ok;  // that RTO against the objective; unset: no objective or no drill
  std::vector<std::string> problems;  // why this component is no-go
  bool go() const { return problems.empty(); }
};

struct Assessment {
  double now = 0;
  std::vector<ComponentAssessment> components;
  bool go() const;
};

// Reads the repository only (the PostgreSQL WAL archive's newest segments among it).
Assessment assess(const DrillSpec& spec, Repository& repo, double now);
nlohmann::json to_json(const Assessment& a);

}  // namespace arca::drill
