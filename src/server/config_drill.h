// Drill plans in the server's configuration (docs/server.md, "Drill plans"): the drill file read
// with the configuration (its errors are the configuration's), each component tied to the
// configured source it restores, whose objectives it takes when the file gives none, and the
// repository the drill restores from.
#pragma once
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "config/reader.h"
#include "drill/drill_spec.h"
#include "server/config.h"

namespace arca::server {

// The configured source a drill component restores: PostgreSQL, Redis and Kafka by name; files by
// host (when the component names one) and path set. nullptr when none is configured.
const SourceConfig* component_source(const drill::ComponentSpec& c, const std::vector<SourceConfig>& sources);

// The same for a recorded component result (kind and `source` as drill reports write them: a
// name, or the paths of a files component joined by spaces); "" when none is configured.
std::string configured_source_name(const std::string& kind, const std::string& source,
                                   const std::vector<SourceConfig>& sources);

// Reads `n["drill"]` of plan `p` into pc.drill_file and pc.drill, and settles pc.repository (given,
// or the one repository its components' sources use). Errors go to `r`.
void read_drill_plan(config::ConfigReader& r, const YAML::Node& n, const std::string& p, PlanConfig& pc,
                     const ServerConfig& c);

}  // namespace arca::server
