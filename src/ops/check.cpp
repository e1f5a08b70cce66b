#include "ops/check.h"

namespace arca::ops {

namespace {

// "10%" -> a random fraction; "n/t" -> restic's group n of t (every pack in exactly one group).
void parse_subset(const std::string& s, CheckOptions& o) {
  try {
    size_t used = 0;
    if (!s.empty() && s.back() == '%') {
      double p = std::stod(s.substr(0, s.size() - 1), &used);
      if (used == s.size() - 1 && p > 0 && p <= 100) {
        o.subset = p / 100;
        return;
      }
    } else if (auto slash = s.find('/'); slash != std::string::npos) {
      size_t un = 0, ut = 0;
      unsigned long n = std::stoul(s.substr(0, slash), &un), t = std::stoul(s.substr(slash + 1), &ut);
      if (un == slash && ut == s.size() - slash - 1 && n >= 1 && n <= t && t <= 1000000) {
        o.group = uint32_t(n);
        o.groups = uint32_t(t);
        return;
      }
    }
  } catch (const std::exception&) {}
  throw Error(ErrorKind::Usage, "--read-data-subset '" + s +
                                    "': give a percentage like 10% (random packs) or n/t "
                                    "with 1 <= n <= t like 3/7 (group n of t fixed groups, as in restic)");
}

nlohmann::json problems(const std::vector<CheckProblem>& list) {
  nlohmann::json j = nlohmann::json::array();
  for (const auto& e : list) j.push_back({{"object", e.object}, {"message", e.message}});
  return j;
}

}  // namespace

nlohmann::json CheckReport::to_json() const {
  const CheckResult& r = result;
  nlohmann::json aff = nlohmann::json::array();
  for (const auto& e : r.affected) aff.push_back({{"snapshot", e.snapshot}, {"path", e.path}});
  return {{"ok", r.ok()},
          {"snapshots", r.snapshots},
          {"trees", r.trees},
          {"data_blobs", r.data_blobs},
          {"packs", r.packs},
          {"packs_read", r.packs_read},
          {"bytes_read", r.bytes_read},
          {"wal_objects", r.wal_objects},
          {"wal_read", r.wal_read},
          {"errors", problems(r.errors)},
          {"warnings", problems(r.warnings)},
          {"notes", problems(r.notes)},
          {"affected_files", aff}};
}

CheckReport check(Repository& repo, const CheckRequest& req, JobContext& ctx) {
  CheckOptions o;
  if (req.read_data && !req.subset.empty())
    throw Error(ErrorKind::Usage, "--read-data reads every pack and --read-data-subset only some: give one of them");
  o.read_data = req.read_data || !req.subset.empty();
  if (!req.subset.empty()) parse_subset(req.subset, o);
  o.cancel = &ctx.cancel;
  return {o.read_data, check_repository(repo, o, ctx.progress)};
}

}  // namespace arca::ops
