#include "ops/keys.h"

namespace arca::ops {

namespace {

std::string short_key(const Repository& repo) { return repo.key_id().substr(0, 8); }

}  // namespace

nlohmann::json KeyListResult::to_json() const {
  nlohmann::json j = nlohmann::json::array();
  for (const auto& k : keys)
    j.push_back({{"id", k.id},
                 {"kind", k.kind},
                 {"created", k.created},
                 {"host", k.host},
                 {"user", k.user},
                 {"role", k.role == KeyRole::AppendOnly ? "append-only" : "full"},
                 {"current", k.id == current}});
  return j;
}

KeyListResult list_keys(const Repository& repo) {
  return {list_key_files(repo.backend()), repo.key_id(), repo.keys().current_version()};
}

void refuse_key_add(const Repository& repo, bool append_only) {
  if (repo.append_only() && !append_only)
    throw Error(ErrorKind::Refused, "append-only key " + short_key(repo) +
                                        " can only add append-only keys (give --append-only), never full ones");
}

KeyAddResult add_key(Repository& repo, const KeyAddRequest& req, JobContext&) {
  refuse_key_add(repo, req.append_only);
  return {add_key_file(repo.backend(), repo.keys().master, req.creds, req.kdf,
                       req.append_only ? KeyRole::AppendOnly : KeyRole::Full)};
}

KeyRemoveResult remove_key(Repository& repo, const std::string& prefix, JobContext&) {
  std::string id = resolve_key_id(repo.backend(), prefix);
  if (repo.append_only())
    throw Error(ErrorKind::Refused, "cannot delete keys/" + id + ": append-only key " + short_key(repo) +
                                        " never removes a key; use an operator's key");
  if (id == repo.key_id())
    throw Error(ErrorKind::Refused,
                "refusing to remove the key in use; open the repository with another key to remove it");
  if (list_key_files(repo.backend()).size() < 2) throw Error(ErrorKind::Refused, "refusing to remove the last key");
  remove_key_file(repo.backend(), id);
  return {id};
}

void refuse_password_change(const Repository& repo) {
  // (It adds a key and removes the old one: an append-only key could do the first half only.)
  if (repo.append_only())
    throw Error(ErrorKind::Refused,
                "append-only key " + short_key(repo) +
                    " cannot change its password (that removes a key); ask an operator to replace it");
}

KeyPasswdResult change_password(Repository& repo, const KeyAddRequest& req, JobContext&) {
  refuse_password_change(repo);
  std::string id = add_key_file(repo.backend(), repo.keys().master, req.creds, req.kdf);
  remove_key_file(repo.backend(), repo.key_id());
  return {id, repo.key_id()};
}

uint32_t rotate_data_key(Repository& repo, JobContext&) { return repo.rotate_data_key(); }

}  // namespace arca::ops
