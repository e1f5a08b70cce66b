#include "repo/retention_plan.h"

#include <algorithm>
#include <set>

#include "repo/config.h"
#include "repo/future_points.h"
#include "repo/object_names.h"
#include "repo/point_signature.h"
#include "repo/repair_scan.h"
#include "repo/repository.h"
#include "repo/snapshot_filter.h"
#include "util/error.h"
#include "util/parallel_for.h"

namespace arca {

using nlohmann::json;

std::string RetentionRule::describe_match() const {
  std::string s;
  auto add = [&](const std::string& k, const std::string& v) {
    if (!v.empty()) s += (s.empty() ? "" : ", ") + k + " " + v;
  };
  add("kind", kind);
  add("source", source);
  add("host", host);
  for (const auto& t : tags) add("tag", t);
  for (const auto& p : paths) add("path", p);
  return s.empty() ? "everything" : s;
}

std::string RetentionRule::title() const { return from_flags ? "the --keep options" : "rule '" + name + "'"; }

static void only_keys(const json& j, std::initializer_list<const char*> allowed, const std::string& where) {
  if (!j.is_object()) throw Error(ErrorKind::Usage, where + " must be a JSON object");
  for (const auto& item : j.items()) {
    const std::string& k = item.key();  // not a structured binding: clang 14 (fuzz build) cannot capture one
    if (std::none_of(allowed.begin(), allowed.end(), [&](const char* a) { return k == a; })) {
      std::string list;
      for (const char* a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      throw Error(ErrorKind::Usage, where + ": unknown field '" + k + "' (known: " + list + ")");
    }
  }
}

static std::vector<std::string> string_list(const json& v, const std::string& where) {
  if (v.is_string()) return {v.get<std::string>()};
  if (!v.is_array()) throw Error(ErrorKind::Usage, where + " must be a string or a list of strings");
  std::vector<std::string> out;
  for (const auto& x : v) {
    if (!x.is_string()) throw Error(ErrorKind::Usage, where + " must be a string or a list of strings");
    out.push_back(x.get<std::string>());
  }
  return out;
}

// Tags in a policy split like --tag: "a,b" is two tags; an empty one is an error.
static std::vector<std::string> tag_list(const json& v, const std::string& where) {
  try {
    return split_tags(string_list(v, where));
  } catch (const Error& e) {
    throw Error(ErrorKind::Usage, where + ": " + e.what());
  }
}

std::vector<std::string> parse_group_by(const std::string& text) {
  if (text == "none" || text.empty()) return {};
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    std::string part = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (part != "host" && part != "source" && part != "tags")
      throw Error(ErrorKind::Usage, "group by '" + part + "': use host, source and tags, comma-separated, or none");
    out.push_back(part);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

static RetentionPolicy parse_keep(const json& k, const std::string& where) {
  only_keys(k,
            {"last", "hourly", "daily", "weekly", "monthly", "yearly", "within", "within_hourly", "within_daily",
             "within_weekly", "within_monthly", "within_yearly", "tags"},
            where);
  RetentionPolicy p;
  auto count = [&](const char* name, int& out) {
    if (!k.contains(name)) return;
    const json& v = k.at(name);
    if (v.is_string() && v.get<std::string>() == "all")
      out = -1;
    else if (v.is_number_integer() && v.get<int64_t>() >= 1 && v.get<int64_t>() <= 1000000)
      out = v.get<int>();
    else
      throw Error(ErrorKind::Usage, where + "." + name + " must be a count of at least 1, or \"all\"");
  };
  auto span = [&](const char* name, std::optional<CalendarSpan>& out) {
    if (!k.contains(name)) return;
    if (!k.at(name).is_string()) throw Error(ErrorKind::Usage, where + "." + name + " must be a span like \"30d\"");
    out = parse_span(k.at(name).get<std::string>());
  };
  count("last", p.last);
  count("hourly", p.hourly);
  count("daily", p.daily);
  count("weekly", p.weekly);
  count("monthly", p.monthly);
  count("yearly", p.yearly);
  span("within", p.within);
  span("within_hourly", p.within_hourly);
  span("within_daily", p.within_daily);
  span("within_weekly", p.within_weekly);
  span("within_monthly", p.within_monthly);
  span("within_yearly", p.within_yearly);
  if (k.contains("tags")) {
    p.tags = tag_list(k.at("tags"), where + ".tags");
    // An empty list would silently turn the rule into "remove everything it matches".
    if (p.tags.empty()) throw Error(ErrorKind::Usage, where + ".tags is empty: list tags, or drop the field");
  }
  return p;
}

RetentionConfig parse_retention_config(const json& j, const std::string& what) {
  only_keys(j, {"rules", "group_by"}, what);
  RetentionConfig cfg;
  if (j.contains("group_by")) {
    cfg.group_by.clear();
    for (const auto& g : string_list(j.at("group_by"), what + ": group_by"))
      for (const auto& x : parse_group_by(g)) cfg.group_by.push_back(x);
  }
  if (!j.contains("rules") || !j.at("rules").is_array() || j.at("rules").empty())
    throw Error(ErrorKind::Usage, what + ": 'rules' must be a non-empty list");
  size_t n = 0;
  for (const auto& r : j.at("rules")) {
    std::string where = what + ": rule " + std::to_string(++n);
    only_keys(r, {"name", "match", "keep"}, where);
    RetentionRule rule;
    rule.name =
        r.contains("name") && r.at("name").is_string() ? r.at("name").get<std::string>() : "rule " + std::to_string(n);
    where = what + ": rule '" + rule.name + "'";
    if (r.contains("match")) {
      const json& m = r.at("match");
      only_keys(m, {"kind", "source", "host", "tags"}, where + ".match");
      auto str = [&](const char* f, std::string& out) {
        if (!m.contains(f)) return;
        if (!m.at(f).is_string()) throw Error(ErrorKind::Usage, where + ".match." + f + " must be a string");
        out = m.at(f).get<std::string>();
      };
      str("kind", rule.kind);
      str("source", rule.source);
      str("host", rule.host);
      if (m.contains("tags")) rule.tags = tag_list(m.at("tags"), where + ".match.tags");
    }
    if (!r.contains("keep"))
      throw Error(ErrorKind::Usage, where + " has no 'keep' (use \"keep\": {} to remove everything it matches)");
    rule.keep = parse_keep(r.at("keep"), where + ".keep");
    cfg.rules.push_back(std::move(rule));
  }
  return cfg;
}

static bool matches(const RetentionRule& r, const Snapshot& s) {
  if (!r.kind.empty() && s.source_kind != r.kind) return false;
  if (!r.source.empty() && source_name_of(s) != r.source && s.source_name != r.source) return false;
  if (!r.host.empty() && s.host != r.host) return false;
  for (const auto& t : r.tags)
    if (std::find(s.tags.begin(), s.tags.end(), t) == s.tags.end()) return false;
  if (!r.paths.empty()) {  // the same rule as every other command's --path
    SnapshotFilter f;
    f.paths = r.paths;
    if (!f.matches(s)) return false;
  }
  return true;
}

// Rule `later` can never apply when an earlier rule matches everything it would.
static bool shadows(const RetentionRule& earlier, const RetentionRule& later) {
  auto covers = [](const std::string& a, const std::string& b) { return a.empty() || a == b; };
  if (!covers(earlier.kind, later.kind) || !covers(earlier.source, later.source) || !covers(earlier.host, later.host))
    return false;
  auto subset = [](const std::vector<std::string>& a, const std::vector<std::string>& b) {
    return std::all_of(a.begin(), a.end(),
                       [&](const std::string& x) { return std::find(b.begin(), b.end(), x) != b.end(); });
  };
  return subset(earlier.tags, later.tags) && subset(earlier.paths, later.paths);
}

static std::string source_of(const Snapshot& s) {
  std::string name = source_name_of(s);
  return s.host + " " + s.source_kind + (name.empty() ? "" : " " + name);
}

size_t RetentionPlan::removed() const {
  return size_t(std::count_if(items.begin(), items.end(), [](const PlannedSnapshot& p) { return !p.keep; }));
}

// A few newest points far ahead of the rest (a source resuming after a pause, a host clock that
// jumped, or points planted within the clock-skew allowance) move every "within" window: the run
// asks first when, for some k, the points removed only because of the group's k newest outnumber
// all those the run keeps by half again. Trying every k up to the number kept (at most 64) catches
// two or more planted points, which one newest alone would not; the half again spares a source
// back after a short gap, whose k newest shift the window by the gap too (see docs/security.md).
// `items` and `members` are oldest first; "" when the run needs no confirmation on this account.
static std::string newest_points_effect(const RetentionPolicy& keep, const std::vector<RetentionItem>& items,
                                        const std::vector<RetentionDecision>& decisions,
                                        const std::vector<const Snapshot*>& members, const std::string& group,
                                        const std::map<std::string, Bytes>* public_keys) {
  if (items.size() < 3 || keep.empty()) return "";
  size_t kept =
      size_t(std::count_if(decisions.begin(), decisions.end(), [](const RetentionDecision& d) { return d.keep; }));
  size_t removed = decisions.size() - kept;
  // `caused` never exceeds `removed`: unless the run removes more than it keeps, no k can.
  if (removed <= kept) return "";
  constexpr size_t kMaxNewest = 64;  // bounds the work: one re-plan per k
  size_t max_k = std::min({kept, kMaxNewest, items.size() - 1});
  for (size_t k = 1; k <= max_k; k++) {
    std::vector<RetentionItem> rest(items.begin(), items.end() - std::ptrdiff_t(k));
    auto without = apply_retention(keep, rest);
    size_t caused = 0;
    for (size_t i = 0; i < rest.size(); i++) caused += !decisions[i].keep && without[i].keep;
    if (2 * caused <= 3 * kept) continue;
    std::string names;
    for (size_t i = members.size(); i-- > members.size() - k;) {
      const Snapshot& n = *members[i];
      names += (names.empty() ? "" : ", ") + n.id.short_hex() + " (" + printable(n.time) + ", written by key " +
               (n.key_id.empty() ? std::string("unknown") : printable(n.key_id.substr(0, 8))) + ", " +
               (public_keys           ? std::string(signature_name(verify_point(n, *public_keys)))
                : n.signature.empty() ? "unsigned"
                                      : "signed, not verified") +
               ")";
    }
    std::string counts = std::to_string(caused) + " point(s) that would be kept without " + (k == 1 ? "it" : "them") +
                         " (" + std::to_string(removed) + " removed, " + std::to_string(kept) + " kept); make sure " +
                         (k == 1 ? "it is" : "they are") + " genuine ('arca snapshots --long' verifies signatures)";
    if (k == 1) return group + ": the newest recovery point " + names + " makes this run remove " + counts;
    return group + ": the " + std::to_string(k) + " newest recovery points " + names + " make this run remove " +
           counts;
  }
  return "";
}

RetentionPlan plan_retention(const std::vector<Snapshot>& snaps, const RetentionConfig& cfg,
                             const std::map<Id, std::vector<SnapshotLock>>& locks, int64_t now,
                             const std::map<std::string, Bytes>* public_keys) {
  RetentionPlan plan;
  for (size_t j = 0; j < cfg.rules.size(); j++)
    for (size_t i = 0; i < j; i++)
      if (shadows(cfg.rules[i], cfg.rules[j])) {
        plan.confirm.push_back("rule '" + cfg.rules[j].name + "' (" + cfg.rules[j].describe_match() +
                               ") never applies: the earlier rule '" + cfg.rules[i].name + "' (" +
                               cfg.rules[i].describe_match() + ") matches everything it would");
        break;
      }
  // (rule index, group key) -> its recovery points; the key is exact, the name is for display.
  std::map<std::pair<size_t, std::string>, std::vector<const Snapshot*>> groups;
  std::map<std::pair<size_t, std::string>, std::string> group_names;
  std::vector<const Snapshot*> unmatched;
  for (const auto& s : snaps) {
    size_t r = 0;
    while (r < cfg.rules.size() && !matches(cfg.rules[r], s)) r++;
    if (r == cfg.rules.size()) {
      unmatched.push_back(&s);
      continue;
    }
    std::string name, key;
    for (const auto& g : cfg.group_by) {
      name += name.empty() ? "" : " ";
      if (g == "host")
        name += "host " + s.host, key += s.host + '\0';
      else if (g == "source") {
        // By job (restic: host + paths), not by the recorded name ("2 paths" in older versions).
        std::string src = source_name_of(s);
        name += "source " + s.source_kind + (src.empty() ? "" : ":" + src);
        key += source_key(s) + '\0';
      } else if (g == "tags") {
        auto tags = s.tags;
        std::sort(tags.begin(), tags.end());
        std::string t;
        for (const auto& x : tags) t += (t.empty() ? "" : ",") + x;
        name += "tags " + (t.empty() ? "-" : t);
        key += t + '\0';
      }
    }
    groups[{r, key}].push_back(&s);
    group_names[{r, key}] = name.empty() ? "all" : name;
  }
  auto lock_reasons = [&](const Snapshot& s, PlannedSnapshot& p) {
    auto it = locks.find(s.id);
    if (it == locks.end()) return;
    p.keep = true;
    for (const auto& l : it->second) p.reasons.push_back("locked: " + l.describe());
  };
  for (auto& [key, all_members] : groups) {
    const RetentionRule& rule = cfg.rules[key.first];
    const std::string& group = group_names[key];
    // Future-dated points are evidence, kept and left out of the rules: if counted, one planted
    // point dated 2099 would anchor --keep-within and fill --keep-last (see docs/security.md).
    std::vector<const Snapshot*> members, future;
    for (const Snapshot* s : all_members) (future_dated(*s, now).empty() ? members : future).push_back(s);
    std::sort(future.begin(), future.end(), [](const Snapshot* a, const Snapshot* b) { return a->time > b->time; });
    for (const Snapshot* s : future) {
      std::string why = future_dated(*s, now);
      PlannedSnapshot p{s,     true,      {"future-dated: " + why + "; kept as evidence, not counted by the rules"},
                        group, rule.name, "",
                        why};
      lock_reasons(*s, p);
      plan.items.push_back(std::move(p));
    }
    // Oldest first by the parsed time (times in other zones compare right); within one second by
    // the recorded text, and then a later index counts as newer.
    auto when = [](const Snapshot* s) { return std::make_pair(*point_time(*s), s->time); };
    std::stable_sort(members.begin(), members.end(),
                     [&](const Snapshot* a, const Snapshot* b) { return when(a) < when(b); });
    std::vector<RetentionItem> items;
    for (const Snapshot* s : members) items.push_back({*point_time(*s), s->tags});
    auto decisions = apply_retention(rule.keep, items);
    if (std::string why = newest_points_effect(rule.keep, items, decisions, members, group, public_keys); !why.empty())
      plan.confirm.push_back(std::move(why));
    std::reverse(members.begin(), members.end());  // shown newest first
    std::reverse(decisions.begin(), decisions.end());
    for (size_t i = 0; i < members.size(); i++) {
      PlannedSnapshot p{members[i], decisions[i].keep, decisions[i].reasons, group, rule.name, "", ""};
      if (!p.keep)
        p.reasons = {rule.keep.empty() ? rule.title() + " keeps nothing"
                                       : "not kept by " + rule.title() + " (" + rule.keep.describe() + ")"};
      lock_reasons(*members[i], p);
      plan.items.push_back(std::move(p));
    }
  }
  for (const Snapshot* s : unmatched) {
    PlannedSnapshot p{s, true, {"no rule matches"}, "unmatched", "", "", future_dated(*s, now)};
    plan.items.push_back(std::move(p));
  }
  std::vector<const Snapshot*> removed;
  for (const auto& p : plan.items)
    if (!p.keep) removed.push_back(p.snap);
  for (auto& m : sources_emptied(snaps, removed)) plan.confirm.push_back(std::move(m));
  return plan;
}

std::vector<std::string> sources_emptied(const std::vector<Snapshot>& all,
                                         const std::vector<const Snapshot*>& removed) {
  // Counted by exact source (host and job), named for display.
  std::map<std::string, size_t> total, gone;
  std::map<std::string, std::string> names;
  auto key = [](const Snapshot& s) { return s.host + '\0' + source_key(s); };
  for (const auto& s : all) total[key(s)]++;
  for (const Snapshot* s : removed) gone[key(*s)]++, names[key(*s)] = source_of(*s);
  std::vector<std::string> out;
  for (const auto& [src, n] : gone)
    if (n == total[src])
      out.push_back("every recovery point of " + names[src] + " (" + std::to_string(n) + ") would be removed");
  return out;
}

RetentionPlan plan_named(const Repository& repo, const std::vector<std::string>& refs,
                         const std::vector<Snapshot>& snaps, const std::map<Id, std::vector<SnapshotLock>>& locks) {
  RetentionPlan plan;
  std::set<Id> chosen;
  for (const auto& ref : refs) {
    std::string name = repo.snapshot_object_name(ref);
    Id id = Id::from_hex(names::snapshot_id_text(name));
    if (!chosen.insert(id).second) continue;
    if (auto it = locks.find(id); it != locks.end())
      throw Error(ErrorKind::Refused, "recovery point " + id.short_hex() + " is protected by " +
                                          it->second[0].describe() + "; nothing was removed");
    auto s = std::find_if(snaps.begin(), snaps.end(), [&](const Snapshot& x) { return x.id == id; });
    if (s != snaps.end()) {
      plan.items.push_back({&*s, false, {"named on the command line"}, "named", "", "", ""});
      continue;
    }
    // Not among the readable points listed: read it (written since, or damaged).
    auto held = std::make_shared<Snapshot>();
    held->id = id;
    std::string damage;
    try {
      *held = repo.find_snapshot(id.hex());
    } catch (const KeyVersionUnavailable& e) {
      // Recoverable, not damaged: forget never removes it on the way to "cleaning up".
      throw KeyVersionUnavailable(e.version(), std::string(e.what()) +
                                                   "; nothing was removed (only if data key version " +
                                                   std::to_string(e.version()) +
                                                   " is truly lost for good: 'arca repair "
                                                   "snapshots --lost-key-version " +
                                                   std::to_string(e.version()) + "')");
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::Corrupt) throw;
      damage = without_name(e.what(), name);
      held->source_kind.clear();  // unknown, not the default kind
      if (auto p = damage.find(" (to remove it:"); p != std::string::npos) damage.resize(p);
    }
    plan.held.push_back(held);
    if (damage.empty()) {
      plan.items.push_back({held.get(), false, {"named on the command line"}, "named", "", "", ""});
      continue;
    }
    plan.items.push_back(
        {held.get(), false, {"named on the command line; damaged: " + damage}, "damaged", "", damage, ""});
    plan.confirm.push_back(name + " cannot be read (" + damage +
                           "); removing it loses whatever that recovery point held");
  }
  std::vector<const Snapshot*> removed;
  for (const auto& p : plan.items)
    if (p.damage.empty()) removed.push_back(p.snap);
  for (auto& m : sources_emptied(snaps, removed)) plan.confirm.push_back(std::move(m));
  return plan;
}

void refuse_append_only(const Repository& repo, const RetentionPlan& plan) {
  if (plan.removed() > 0 && repo.append_only())
    throw Error(ErrorKind::Refused, "this repository was opened with append-only key " + repo.key_id().substr(0, 8) +
                                        ", which cannot remove recovery points; use an operator's key");
}

void apply_retention(Repository& repo, const RetentionPlan& plan) {
  refuse_append_only(repo, plan);
  std::vector<std::string> doomed;
  for (const auto& p : plan.items)
    if (!p.keep) doomed.push_back(names::snapshot(p.snap->id));
  parallel_for(doomed.size(), std::max(2u, repo.backend().parallelism()), [&](size_t i) {
    try {
      repo.backend().remove(doomed[i]);
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::NotFound) throw;  // forgotten meanwhile: the outcome stands
    }
  });
}

}  // namespace arca
