#include "server/repository_access.h"

#include "repo/snapshot_filter.h"
#include "util/clock.h"
#include "util/host.h"

namespace arca::server {

std::unique_ptr<Repository> open_configured_repository(const RepositoryConfig& rc) {
  auto backend = open_backend(rc.location, rc.options);
  if (!backend->exists())
    throw Error(ErrorKind::NotFound, "repository '" + rc.name + "' (" + backend->location() +
                                         ") does not exist: create it with 'arca init'");
  Credentials creds;
  if (!rc.key_file.empty())
    creds.key_file = rc.key_file;
  else
    creds.passphrase = rc.password.value();
  return Repository::open(std::move(backend), creds);
}

std::string configured_source_of(const Snapshot& s, const std::vector<SourceConfig>& sources) {
  for (const auto& src : sources) {
    if (to_string(src.kind) != s.source_kind) continue;
    if (src.kind != SourceKind::Files) {
      if (s.source_name == src.name) return src.name;
      continue;
    }
    std::string host = src.host.empty() ? local_hostname() : src.host;
    if (s.host == host && same_path_set(s.paths, src.paths)) return src.name;
  }
  return source_name_of(s);
}

RecoveryPointRecord point_record(const Snapshot& s, const std::string& repository_name,
                                 const std::vector<SourceConfig>& sources) {
  RecoveryPointRecord r;
  r.repository = repository_name;
  r.snapshot_id = s.id.hex();
  r.kind = s.source_kind;
  r.source = configured_source_of(s, sources);
  r.host = s.host;
  r.time = parse_time(s.time).value_or(0);
  r.data_time = r.time;
  r.size = s.stats.bytes;
  r.partial = s.partial;
  return r;
}

std::vector<RecoveryPointRecord> point_records(const Repository& repo, const std::string& repository_name,
                                               const std::vector<SourceConfig>& sources) {
  std::vector<RecoveryPointRecord> out;
  for (const Snapshot& s : repo.list_snapshots()) out.push_back(point_record(s, repository_name, sources));
  return out;
}

}  // namespace arca::server
