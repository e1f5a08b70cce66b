#include "server/config_drill.h"

#include <set>

#include "config/values.h"
#include "repo/snapshot_filter.h"
#include "util/error.h"

namespace arca::server {

namespace {

std::optional<SourceKind> source_kind_of(drill::ComponentKind k) {
  switch (k) {
    case drill::ComponentKind::Postgres:
      return SourceKind::Postgres;
    case drill::ComponentKind::Redis:
      return SourceKind::Redis;
    case drill::ComponentKind::Kafka:
      return SourceKind::Kafka;
    case drill::ComponentKind::Files:
      return SourceKind::Files;
  }
  return std::nullopt;
}

std::vector<std::string> split_spaces(const std::string& s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    size_t j = s.find(' ', i);
    if (j == std::string::npos) j = s.size();
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

}  // namespace

const SourceConfig* component_source(const drill::ComponentSpec& c, const std::vector<SourceConfig>& sources) {
  auto kind = source_kind_of(c.kind);
  for (const auto& s : sources) {
    if (!kind || s.kind != *kind) continue;
    if (s.kind != SourceKind::Files ? s.name == c.source
                                    : (c.host.empty() || c.host == s.host) && same_path_set(s.paths, c.paths))
      return &s;
  }
  return nullptr;
}

std::string configured_source_name(const std::string& kind, const std::string& source,
                                   const std::vector<SourceConfig>& sources) {
  for (const auto& s : sources) {
    if (to_string(s.kind) != kind) continue;
    if (s.kind != SourceKind::Files ? s.name == source : same_path_set(s.paths, split_spaces(source))) return s.name;
  }
  return "";
}

void read_drill_plan(config::ConfigReader& r, const YAML::Node& n, const std::string& p, PlanConfig& pc,
                     const ServerConfig& c) {
  std::string file;
  if (!r.require(n, "drill", p, "a drill plan names its drill file (docs/drills.md)") ||
      !r.text(n, "drill", p, file))
    return;
  pc.drill_file = r.resolve(file);
  drill::DrillLoad load;
  try {
    load = drill::load_drill(pc.drill_file);
  } catch (const Error& e) {  // absent, a directory, unreadable: the configuration's error
    r.error(n["drill"], p + ".drill", e.what());
    return;
  }
  for (const auto& e : load.errors) r.error(n["drill"], p + ".drill", e.to_string(pc.drill_file));
  if (!load.spec) return;
  auto spec = std::make_shared<drill::DrillSpec>(std::move(*load.spec));
  std::set<std::string> repositories;
  for (auto& comp : spec->components) {
    const SourceConfig* src = component_source(comp, c.sources);
    if (!src) continue;
    repositories.insert(src->repository);
    if (!comp.objectives.rto_s) comp.objectives.rto_s = src->objectives.rto_s;
    if (!comp.objectives.rpo_s) comp.objectives.rpo_s = src->objectives.rpo_s;
  }
  pc.drill = std::move(spec);
  if (r.text(n, "repository", p, pc.repository)) {
    if (!c.repository(pc.repository))
      r.error(n["repository"], p + ".repository", "no repository named '" + pc.repository + "' under 'repositories'");
    return;
  }
  if (repositories.size() == 1) {
    pc.repository = *repositories.begin();
    return;
  }
  std::string names;
  for (const auto& name : repositories) names += (names.empty() ? "" : ", ") + name;
  r.error(n, p, repositories.empty()
                    ? "no component of " + file + " restores a configured source: name the repository (repository: NAME)"
                    : "the components of " + file + " come from repositories " + names +
                          ": a drill restores from one repository; name it (repository: NAME)");
}

}  // namespace arca::server
