// The server's way into its repositories: open one as configured (backend options, then the key
// from the password or key file), and read its recovery points as catalog records named by the
// configured sources. Used by jobs, by `arca server catalog rebuild`, and by the status API.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "repo/repository.h"
#include "server/catalog.h"
#include "server/config.h"

namespace arca::server {

// Throws arca::Error: NotFound (no repository there), Unreachable, Auth, Usage (a secret that
// cannot be read).
std::unique_ptr<Repository> open_configured_repository(const RepositoryConfig& repo);

// Which configured source a recovery point belongs to: PostgreSQL, Redis and Kafka points by the
// name the server recorded (the source's name); files points by host and path set. A point of no
// configured source keeps its own name (source_name_of).
std::string configured_source_of(const Snapshot& s, const std::vector<SourceConfig>& sources);

// Catalog records for every recovery point in `repo`, oldest first.
std::vector<RecoveryPointRecord> point_records(const Repository& repo, const std::string& repository_name,
                                               const std::vector<SourceConfig>& sources);
RecoveryPointRecord point_record(const Snapshot& s, const std::string& repository_name,
                                 const std::vector<SourceConfig>& sources);

}  // namespace arca::server
