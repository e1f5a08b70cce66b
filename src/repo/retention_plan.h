// Applying retention to a repository's recovery points (`arca forget`): a table of rules, each
// matching recovery points by kind, source, host and tags, applied per group (by default one
// group per host and source), with locks overriding everything. Decides; deletes nothing.
#pragma once
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "repo/locks.h"
#include "repo/retention.h"
#include "repo/snapshot.h"

namespace arca {

struct RetentionRule {
  std::string name;
  // Match: empty = any; every listed tag must be present.
  std::string kind, source, host;
  std::vector<std::string> tags;
  RetentionPolicy keep;  // empty: remove everything the rule matches
  bool from_flags = false;  // made of forget's --keep-* options, not a policy file's rule
  std::string title() const;  // how reasons name it: "rule 'NAME'" or "the --keep options"
  std::string describe_match() const;
};

struct RetentionConfig {
  std::vector<RetentionRule> rules;                 // first match wins
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
};

struct RetentionPlan {
  std::vector<PlannedSnapshot> items;   // newest first within each group, groups in order
  std::vector<std::string> confirm;     // why the plan needs an explicit --yes (empty: it does not)
  size_t removed() const;
};

// `locks`: active locks by snapshot; a locked recovery point is always kept.
RetentionPlan plan_retention(const std::vector<Snapshot>& snaps, const RetentionConfig& cfg,
                             const std::map<Id, std::vector<SnapshotLock>>& locks);

// Every source (host, kind, name) of which a removal list would leave nothing: such plans need
// confirmation.
std::vector<std::string> sources_emptied(const std::vector<Snapshot>& all, const std::vector<const Snapshot*>& removed);

}  // namespace arca
