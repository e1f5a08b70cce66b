// The keys that open a repository (`arca key list|add|remove|passwd|rotate`). The rules live
// here: an append-only key adds only append-only keys and never removes or replaces one; the key
// in use and the last key are never removed.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "repo/key_files.h"
#include "repo/repository.h"
#include "util/job_context.h"

namespace arca::ops {

struct KeyListResult {
  std::vector<KeyFileInfo> keys;
  std::string current;  // id of the key the repository was opened with
  uint32_t data_key_version = 0;
  nlohmann::json to_json() const;  // key list --json
};

KeyListResult list_keys(const Repository& repo);

struct KeyAddRequest {
  Credentials creds;  // what opens the new key: a password or a key file
  Argon2Params kdf;
  bool append_only = false;
};

struct KeyAddResult {
  std::string id;
  nlohmann::json to_json() const { return {{"id", id}}; }
};

KeyAddResult add_key(Repository& repo, const KeyAddRequest& req, JobContext& ctx);
// add_key's refusal (Error Refused), for a front end to check before it asks for the new password.
void refuse_key_add(const Repository& repo, bool append_only);

struct KeyRemoveResult {
  std::string removed;
  nlohmann::json to_json() const { return {{"removed", removed}}; }
};

// `id`: a key id or unique prefix.
KeyRemoveResult remove_key(Repository& repo, const std::string& id, JobContext& ctx);

struct KeyPasswdResult {
  std::string id, removed;  // the new key, and the one it replaces (the key in use)
  nlohmann::json to_json() const { return {{"id", id}, {"removed", removed}}; }
};

// Adds a key for `req.creds` and removes the key in use (req.append_only is ignored).
KeyPasswdResult change_password(Repository& repo, const KeyAddRequest& req, JobContext& ctx);
// change_password's refusal (Error Refused), to check before asking for the new password.
void refuse_password_change(const Repository& repo);

// Starts a new data key version for new writes; returns it.
uint32_t rotate_data_key(Repository& repo, JobContext& ctx);

}  // namespace arca::ops
