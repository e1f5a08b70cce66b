// Applying retention to a repository's recovery points (`arca forget`): a table of rules, each
// matching recovery points by kind, source, host and tags, applied per group (by default one
// group per host and source), with locks overriding everything. Decides; deletes nothing.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "repo/locks.h"
#include "repo/retention.h"
#include "repo/snapshot.h"
#include "util/bytes.h"

namespace arca {

class Repository;

struct RetentionRule {
  std::string name;
  // Match: empty = any; every listed tag must be present.
  std::string kind, source, host;
  std::vector<std::string> tags;
  std::vector<std::string> paths;  // absolute; the point must have backed up every one (forget --path)
  RetentionPolicy keep;            // empty: remove everything the rule matches
  bool from_flags = false;         // made of forget's --keep-* options, not a policy file's rule
  std::string title() const;       // how reasons name it: "rule 'NAME'" or "the --keep options"
  std::string describe_match() const;
};

struct RetentionConfig {
  std::vector<RetentionRule> rules;                     // first match wins
  std::vector<std::string> group_by{"host", "source"};  // host, source, tags; empty = one group
};

// The policy file's JSON (docs/retention.md); throws Error(Usage) naming the bad field.
RetentionConfig parse_retention_config(const nlohmann::json& j, const std::string& what);
std::vector<std::string> parse_group_by(const std::string& text);  // "host,source", "none"

struct PlannedSnapshot {
  const Snapshot* snap = nullptr;
  bool keep = true;
  std::vector<std::string> reasons;  // why kept (rules, locks, "no rule matches") or why removed
  std::string group, rule;
  std::string damage;  // non-empty: the snapshot object cannot be read (`snap` holds only its id)
  std::string future;  // non-empty: future-dated (why); kept, and not counted by the rules
};

struct RetentionPlan {
  std::vector<PlannedSnapshot> items;                 // newest first within each group, groups in order
  std::vector<std::string> confirm;                   // why the plan needs an explicit --yes (empty: it does not)
  std::vector<std::shared_ptr<const Snapshot>> held;  // what `snap` points to when not in the caller's list
  size_t removed() const;
};

// `locks`: active locks by snapshot; a locked recovery point is always kept. Points dated in the
// future of `now` (repo/future_points.h) are kept and left out of the rules: they never anchor
// "within" or push genuine points out of "last"/"daily"… (docs/security.md). A group where its k
// newest points (k = 1 … min(kept, 64)) make the run remove more points than it keeps adds a
// reason to `confirm`, naming each of those points with its key and, given `public_keys`
// (signing_public_keys()), whether its signature verifies: a key id alone is only a claim.
RetentionPlan plan_retention(const std::vector<Snapshot>& snaps, const RetentionConfig& cfg,
                             const std::map<Id, std::vector<SnapshotLock>>& locks, int64_t now,
                             const std::map<std::string, Bytes>* public_keys = nullptr);

// `forget ID…`: the recovery points `refs` name (ids or unique prefixes; `snaps` are the readable
// ones), all removed. A lock protects its point by id (locks/<snapshot id>/…), so a locked point
// is refused (Error Refused) even when its snapshot object is damaged. A damaged snapshot object
// named explicitly is removed too (the way out besides 'arca repair snapshots'); it always needs
// confirmation, since what it held cannot be shown.
RetentionPlan plan_named(const Repository& repo, const std::vector<std::string>& refs,
                         const std::vector<Snapshot>& snaps, const std::map<Id, std::vector<SnapshotLock>>& locks);

// Refuses (Error Refused) a plan that removes anything when the repository was opened with an
// append-only key. Call before asking for confirmation.
void refuse_append_only(const Repository& repo, const RetentionPlan& plan);
// Removes the snapshot objects of the points `plan` removes (lock objects stay: a record of what
// protected them).
void apply_retention(Repository& repo, const RetentionPlan& plan);

// Every source (host, kind, name) of which a removal list would leave nothing: such plans need
// confirmation.
std::vector<std::string> sources_emptied(const std::vector<Snapshot>& all, const std::vector<const Snapshot*>& removed);

}  // namespace arca
