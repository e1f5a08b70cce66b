// Which job a recovery point belongs to, and choosing recovery points by host, path, tag and
// kind (restic's selectors): one place shared by forget, backup's parent choice and every
// command that takes a snapshot reference ('latest', an id or a prefix).
#pragma once
#include <string>
#include <vector>

#include "repo/snapshot.h"

namespace arca {

class Repository;

// The source name recovery points are matched and grouped by. A files backup is one job per set
// of paths, whatever their order (restic: host + paths): its single path, or its sorted paths
// joined by ", ". Older versions recorded "N paths" for several paths; the name is derived from
// `paths`, so their recovery points group by job too without rewriting the repository.
std::string source_name_of(const Snapshot& s);
// The source's identity without ambiguity (kind, and the exact path list of files points).
std::string source_key(const Snapshot& s);
// The same set of paths, in any order.
bool same_path_set(std::vector<std::string> a, std::vector<std::string> b);
// The same job: same host and same source (backup's parent choice, forget's groups).
bool same_source(const Snapshot& a, const Snapshot& b);

// Tags as given on the command line or in a policy: "a,b" is two tags (restic), each trimmed of
// surrounding whitespace ("a, b" is "a" and "b"). Throws Error(Usage) for an empty or
// whitespace-only tag ("", "a,,b", "a,", " ").
std::vector<std::string> split_tags(const std::vector<std::string>& given);
// A host name as given (--host): trimmed; Error(Usage) when nothing is left.
std::string normal_host(const std::string& given);
// Surrounding spaces, tabs and newlines removed (stored tags and hosts are read this way too).
std::string trim_space(const std::string& s);

// forget --source/--path: a name or path no recovery point has is a typo, not "remove nothing".
// Throws Error(NotFound) naming the known sources when no point of `all` has source `source`
// (source_name_of or the recorded name; empty: any) and every path of `paths`.
// A --keep-tag that no recovery point carries keeps nothing: a typo would remove points. Throws
// Error(NotFound) naming the tag and the tags the repository has.
void require_known_tags(const std::vector<Snapshot>& all, const std::vector<std::string>& tags);
void require_known_source(const std::vector<Snapshot>& all, const std::string& source,
                          const std::vector<std::string>& paths);

// Source kinds Arca makes; a filter naming another kind that no recovery point has is a typo.
const std::vector<std::string>& known_source_kinds();

// --path arguments as backup records paths: absolute, normal, without a trailing '/'.
std::vector<std::string> absolute_paths(const std::vector<std::string>& given);

struct SnapshotFilter {
  std::vector<std::string> hosts;  // any of them (empty: every host)
  std::vector<std::string> paths;  // absolute; the recovery point must include every one
  std::vector<std::string> tags;   // the recovery point must carry every one
  std::string kind;                // empty: every kind
  bool empty() const;
  bool matches(const Snapshot& s) const;
  std::string describe() const;  // "host db1, path /data/src, tag nightly"
};

// The recovery points of `all` (oldest first) that `f` matches, in the same order. Throws
// Error(Usage) for a kind that is neither known nor present, listing the known kinds.
std::vector<Snapshot> filter_snapshots(const std::vector<Snapshot>& all, const SnapshotFilter& f);

// 'latest': the newest recovery point `f` matches; an id or unique prefix: that point, which must
// match `f` (so a selector never silently picks another job's point). Throws Error(NotFound) when
// nothing matches, Error(Usage) for an id outside the filter or a bad reference.
Snapshot resolve_snapshot(const Repository& repo, const std::string& ref, const SnapshotFilter& f);

}  // namespace arca
