#include "server/catalog_rebuild.h"

#include "drill/drill_record.h"
#include "server/job_runner.h"
#include "server/repository_access.h"

namespace arca::server {

std::vector<RepositoryRebuild> rebuild_points(const ServerConfig& config, Catalog& catalog) {
  std::vector<RepositoryRebuild> out;
  for (const RepositoryConfig& rc : config.repositories) {
    RepositoryRebuild r;
    r.repository = rc.name;
    try {
      auto repo = open_configured_repository(rc);
      auto points = point_records(*repo, rc.name, config.sources);
      catalog.replace_points(rc.name, points);
      r.points = points.size();
      auto drills = drill::list_drill_records(*repo);
      for (const auto& d : drills) catalog.add_drill_results(drill_result_records(d, rc.name, config.sources));
      r.drills = drills.size();
      r.ok = true;
    } catch (const Error& e) {
      r.error_kind = e.kind();
      r.error = e.what();
    } catch (const std::exception& e) {  // one repository's failure must not stop the others
      r.error = e.what();
    }
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace arca::server
