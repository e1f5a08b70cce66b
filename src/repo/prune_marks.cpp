#include "repo/prune_marks.h"

#include <nlohmann/json.hpp>

#include "crypto/random.h"
#include "repo/object_names.h"
#include "repo/repository.h"
#include "util/error.h"

namespace arca {

using nlohmann::json;

std::string prune_mark_name(const Id& id) { return names::prune_mark(id); }

std::vector<PruneMark> load_prune_marks(const Repository& repo) {
  // A prune replaces a mark by writing the new one before removing the old: a mark that vanished
  // since the listing means its replacement may be missing from that listing, so list again.
  for (int attempt = 1;; attempt++) {
    std::vector<std::string> marks;
    repo.backend().list(names::kPrunePrefix, [&](const ObjectInfo& o) {
      if (names::parse_prune_mark(o.name)) marks.push_back(o.name);  // others (prune/running) are not marks
    });
    std::vector<PruneMark> out;
    try {
      for (const auto& name : marks) {
        Bytes plain = repo.load_object(name);
        try {
          json j = json::parse(plain.begin(), plain.end());
          PruneMark m;
          m.id = *names::parse_prune_mark(name);
          m.created = j.at("created").get<std::string>();
          m.created_unix = j.at("created_unix").get<int64_t>();
          m.grace_s = j.value("grace_s", int64_t(0));
          m.packs = j.at("packs").get<std::vector<std::string>>();
          out.push_back(std::move(m));
        } catch (const json::exception& e) {
          throw Error(ErrorKind::Corrupt, name + " is malformed: " + e.what());
        }
      }
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::NotFound && attempt < 10) continue;
      throw;
    }
    return out;
  }
}

void save_prune_mark(Repository& repo, PruneMark& mark) {
  if (mark.id.is_zero()) mark.id = random_id();
  json j = {
      {"created", mark.created}, {"created_unix", mark.created_unix}, {"grace_s", mark.grace_s}, {"packs", mark.packs}};
  std::string s = j.dump();
  repo.save_object(prune_mark_name(mark.id), as_view(s));
}

}  // namespace arca
