#include "ops/ls.h"

#include <sys/sysmacros.h>

#include "repo/tree_walk.h"
#include "restore/restore.h"
#include "util/name_format.h"

namespace arca::ops {

nlohmann::json LsResult::to_json() const {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& [p, n] : entries) {
    nlohmann::json j = {{"type", node_type_name(n.type)},
                        {"mode", n.mode},
                        {"uid", n.uid},
                        {"gid", n.gid},
                        {"user", n.user},
                        {"group", n.group},
                        {"size", n.size},
                        {"mtime_ns", n.mtime_ns}};
    set_name_field(j, "path", p);  // names that are not UTF-8 also as path_b64, losslessly
    if (n.type == NodeType::Symlink) set_name_field(j, "link_target", n.link_target);
    if (n.type == NodeType::CharDev || n.type == NodeType::BlockDev) {
      j["major"] = major(dev_t(n.rdev));
      j["minor"] = minor(dev_t(n.rdev));
    }
    out.push_back(std::move(j));
  }
  return out;
}

LsResult ls(Repository& repo, const LsRequest& req, JobContext& ctx) {
  LsResult r;
  r.snap = resolve_snapshot(repo, req.snapshot, req.filter);
  std::string prefix = req.path;
  // A path as it was on the backed-up machine ('/home/alice/src', restic's habit) is mapped to
  // its tree path; a leading '/' on a tree path ('/alice/src') still works as before.
  if (!prefix.empty() && prefix.front() == '/') {
    try {
      prefix = tree_pattern(r.snap, prefix, "path");
    } catch (const Error&) {}
  }
  while (!prefix.empty() && prefix.front() == '/') prefix.erase(0, 1);
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  bool found = prefix.empty();
  walk_tree(
      repo, content_root(repo, r.snap),
      [&](const std::string& p, const Node& n) {
        ctx.cancel.check("ls");
        bool inside = prefix.empty() || p == prefix || p.rfind(prefix + "/", 0) == 0;
        bool above = !inside && prefix.rfind(p + "/", 0) == 0;
        if (!inside) return above;
        found = true;
        if (req.each)
          req.each(p, n);
        else
          r.entries.push_back({p, n});
        return true;
      },
      "", "snapshot " + r.snap.id.short_hex());
  if (!found)
    throw Error(ErrorKind::NotFound,
                "path '" + escape_name(req.path) + "' is not in snapshot " + r.snap.id.short_hex());
  return r;
}

}  // namespace arca::ops
