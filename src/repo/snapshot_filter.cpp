#include "repo/snapshot_filter.h"

#include <algorithm>
#include <filesystem>
#include <set>

#include "repo/future_points.h"
#include "repo/repository.h"
#include "util/clock.h"
#include "util/error.h"

namespace arca {

namespace {

std::vector<std::string> sorted_paths(const Snapshot& s) {
  std::vector<std::string> p = s.paths;
  std::sort(p.begin(), p.end());
  return p;
}

std::string join(const std::vector<std::string>& v, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < v.size(); i++) out += (i ? sep : "") + v[i];
  return out;
}

}  // namespace

std::string source_name_of(const Snapshot& s) {
  if (s.source_kind != "files" || s.paths.empty()) return s.source_name;
  return join(sorted_paths(s), ", ");
}

std::string source_key(const Snapshot& s) {
  // '\0' cannot occur in a path or a name, so distinct path sets never share a key.
  if (s.source_kind == "files" && !s.paths.empty())
    return s.source_kind + '\0' + join(sorted_paths(s), std::string(1, '\0'));
  return s.source_kind + '\0' + s.source_name;
}

bool same_path_set(std::vector<std::string> a, std::vector<std::string> b) {
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  return a == b;
}

bool same_source(const Snapshot& a, const Snapshot& b) { return a.host == b.host && source_key(a) == source_key(b); }

std::string trim_space(const std::string& s) {
  const char* ws = " \t\n\r\f\v";
  size_t b = s.find_first_not_of(ws);
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

std::string normal_host(const std::string& given) {
  std::string h = trim_space(given);
  if (h.empty()) throw Error(ErrorKind::Usage, "host '" + given + "' is empty or only whitespace: give a host name");
  return h;
}

std::vector<std::string> split_tags(const std::vector<std::string>& given) {
  std::vector<std::string> out;
  for (const auto& arg : given) {
    size_t start = 0;
    while (true) {
      size_t comma = arg.find(',', start);
      // Trimmed as restic does: "--tag 'a, b'" means tags a and b, not " b".
      std::string tag = trim_space(arg.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
      if (tag.empty())
        throw Error(ErrorKind::Usage, "empty tag in '" + arg +
                                          "' (a tag cannot be empty or only whitespace): tags are separated by "
                                          "commas, e.g. --tag daily,db");
      if (std::find(out.begin(), out.end(), tag) == out.end()) out.push_back(tag);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  return out;
}

void require_known_source(const std::vector<Snapshot>& all, const std::string& source,
                          const std::vector<std::string>& paths) {
  SnapshotFilter f;
  f.paths = paths;
  std::vector<std::string> known;
  for (const auto& s : all) {
    if ((source.empty() || source_name_of(s) == source || s.source_name == source) && f.matches(s)) return;
    std::string name = source_name_of(s);
    if (std::find(known.begin(), known.end(), name) == known.end()) known.push_back(name);
  }
  std::sort(known.begin(), known.end());
  std::string list;
  for (size_t i = 0; i < known.size() && i < 12; i++) list += (i ? "; " : "") + known[i];
  if (known.size() > 12) list += "; …";
  std::string what = !source.empty() ? "source '" + source + "'" : "";
  for (const auto& p : paths) what += (what.empty() ? "path " : ", path ") + p;
  throw Error(ErrorKind::NotFound, "no recovery point has " + what +
                                       (known.empty() ? " (the repository has none)"
                                                      : " (known sources: " + list + "; see 'arca snapshots')"));
}

void require_known_tags(const std::vector<Snapshot>& all, const std::vector<std::string>& tags) {
  std::set<std::string> known;
  for (const auto& s : all) known.insert(s.tags.begin(), s.tags.end());
  for (const auto& t : tags) {
    if (known.count(t)) continue;
    std::string list;
    size_t i = 0;
    for (const auto& k : known) {
      if (i++ == 12) {
        list += ", …";
        break;
      }
      list += (list.empty() ? "" : ", ") + k;
    }
    throw Error(ErrorKind::NotFound, "no recovery point carries tag '" + t + "', so --keep-tag '" + t +
                                         "' keeps nothing (a typo?); known tags: " + (list.empty() ? "none" : list));
  }
}

const std::vector<std::string>& known_source_kinds() {
  static const std::vector<std::string> kinds{"files", "kafka", "postgres", "postgres-dump", "redis"};
  return kinds;
}

std::vector<std::string> absolute_paths(const std::vector<std::string>& given) {
  std::vector<std::string> out;
  for (const auto& p : given) {
    if (p.empty()) throw Error(ErrorKind::Usage, "empty --path: give a path that was backed up, e.g. --path /etc");
    std::string abs = std::filesystem::absolute(p).lexically_normal().string();
    while (abs.size() > 1 && abs.back() == '/') abs.pop_back();
    out.push_back(abs);
  }
  return out;
}

bool SnapshotFilter::empty() const { return hosts.empty() && paths.empty() && tags.empty() && kind.empty(); }

bool SnapshotFilter::matches(const Snapshot& s) const {
  if (!kind.empty() && s.source_kind != kind) return false;
  if (!hosts.empty() && std::find(hosts.begin(), hosts.end(), s.host) == hosts.end()) return false;
  for (const auto& p : paths)
    if (std::find(s.paths.begin(), s.paths.end(), p) == s.paths.end()) return false;
  for (const auto& t : tags)
    if (std::find(s.tags.begin(), s.tags.end(), t) == s.tags.end()) return false;
  return true;
}

std::string SnapshotFilter::describe() const {
  std::vector<std::string> parts;
  if (!kind.empty()) parts.push_back("kind " + kind);
  if (!hosts.empty()) parts.push_back("host " + join(hosts, " or "));
  for (const auto& p : paths) parts.push_back("path " + p);
  for (const auto& t : tags) parts.push_back("tag " + t);
  return parts.empty() ? "any" : join(parts, ", ");
}

std::vector<Snapshot> filter_snapshots(const std::vector<Snapshot>& all, const SnapshotFilter& f) {
  const auto& known = known_source_kinds();
  if (!f.kind.empty() && std::find(known.begin(), known.end(), f.kind) == known.end() &&
      std::none_of(all.begin(), all.end(), [&](const Snapshot& s) { return s.source_kind == f.kind; }))
    throw Error(ErrorKind::Usage, "unknown kind '" + f.kind + "' (known: " + join(known, ", ") + ")");
  std::vector<Snapshot> out;
  for (const auto& s : all)
    if (f.matches(s)) out.push_back(s);
  return out;
}

Snapshot resolve_snapshot(const Repository& repo, const std::string& ref, const SnapshotFilter& f) {
  if (f.empty()) return repo.find_snapshot(ref);
  if (ref == "latest") {
    auto all = repo.list_snapshots();
    filter_snapshots(all, f);  // an unknown --kind is a usage error, not "nothing matches"
    // Never a future-dated point (see docs/security.md), with a warning naming any passed over.
    std::vector<std::string> skipped;
    auto newest = newest_point(
        all, [&](const Snapshot& s) { return f.matches(s); }, clock_now(), skipped);
    for (const auto& m : skipped) repo.warning(m);
    if (!newest)
      throw Error(ErrorKind::NotFound,
                  "no recovery point matches " + f.describe() +
                      (skipped.empty() ? "" : " except future-dated ones, which 'latest' never picks") +
                      " (see 'arca snapshots')");
    return *newest;
  }
  Snapshot s = repo.find_snapshot(ref);
  if (!f.matches(s))
    throw Error(ErrorKind::Usage, "snapshot " + s.id.short_hex() + " does not match " + f.describe() +
                                      ": give 'latest' to pick the newest that does, or drop the selectors");
  return s;
}

}  // namespace arca
