#include "repo/key_files.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <sstream>
#include <nlohmann/json.hpp>

#include "crypto/aead.h"
#include "crypto/random.h"
#include "crypto/sign.h"
#include "repo/config.h"
#include "repo/object_names.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/fd.h"
#include "util/host.h"

namespace arca {

using nlohmann::json;

namespace {

const std::string kWrapAad = "arca key file v1";
// Append-only keys add their role to the associated data; full keys keep the original form.
std::string wrap_aad(KeyRole role) { return role == KeyRole::AppendOnly ? kWrapAad + " append-only" : kWrapAad; }
// Key files since issue 18 also bind their signing public key (base64) into the master key's
// associated data: editing it makes the key unusable. Older key files have none.
std::string wrap_aad(KeyRole role, const std::string& signing_public) {
  return signing_public.empty() ? wrap_aad(role) : wrap_aad(role) + " signing " + signing_public;
}
std::string signing_aad(const std::string& signing_public) { return "arca signing key v1 " + signing_public; }
KeyRole role_of(const json& j) {
  return j.value("role", "full") == "append-only" ? KeyRole::AppendOnly : KeyRole::Full;
}

Bytes read_key_file_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f && errno == ENOENT) throw Error(ErrorKind::NotFound, "key file " + path + " does not exist");
  if (!f) throw Error(ErrorKind::Auth, "cannot read key file " + path);
  std::stringstream ss;
  ss << f.rdbuf();
  std::string s = ss.str();
  return Bytes(s.begin(), s.end());
}

Argon2Params kdf_from(const json& j) {
  Argon2Params p;
  p.time_cost = j.at("time");
  p.memory_kib = j.at("memory_kib");
  p.parallelism = j.at("parallelism");
  return p;
}

json load_key_json(const Backend& backend, const std::string& id) {
  Bytes raw = backend.get(names::key_file(id));
  try {
    return json::parse(raw.begin(), raw.end());
  } catch (const json::exception& e) {
    throw Error(ErrorKind::Corrupt, "key file keys/" + id + " is malformed: " + e.what());
  }
}

// Why a key file of this arca's format cannot be used, or "" if it looks sound (whether the
// password fits is another matter).
std::string key_json_problem(const json& j) {
  try {
    if (!j.is_object()) return "not a JSON object";
    if (j.value("arca_format", 0) != kRepoFormat) return "";  // another version's: not judged here
    if (from_base64(j.at("salt").get<std::string>()).size() < 16) return "salt too short";
    std::string kind = j.at("kind");
    if (kind == "passphrase")
      kdf_from(j.at("kdf"));
    else if (kind != "keyfile")
      return "unknown kind '" + kind + "'";
    if (from_base64(j.at("wrapped_master_key").get<std::string>()).size() != 32 + kAeadOverhead)
      return "wrapped master key has the wrong length";
  } catch (const json::exception& e) {
    return std::string("a field is missing or malformed: ") + e.what();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

std::vector<std::pair<std::string, std::string>> damaged_key_files(const Backend& backend) {
  std::vector<std::pair<std::string, std::string>> out;
  backend.list(names::kKeysPrefix, [&](const ObjectInfo& o) {
    std::string id = o.name.substr(names::kKeysPrefix.size());
    std::string why;
    try {
      why = key_json_problem(load_key_json(backend, id));
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::Io) throw;
      why = e.what();
      if (auto pos = why.find(" is malformed: "); pos != std::string::npos)
        why = "truncated or not JSON: " + why.substr(pos + 15);
    }
    if (!why.empty()) out.emplace_back(id, why);
  });
  return out;
}

KeyFileText make_key_file(const Key& master, const Credentials& creds, const Argon2Params& kdf, KeyRole role) {
  if (kdf.parallelism == 0 || kdf.memory_kib < 8 * kdf.parallelism)
    throw Error(ErrorKind::Usage, "Argon2id needs at least " + std::to_string(8 * std::max(1u, kdf.parallelism)) +
                                      " KiB of memory (--kdf-memory)");
  Bytes salt(32);
  random_bytes(salt);
  json j = {{"arca_format", kRepoFormat},
            {"created", now_rfc3339()},
            {"host", local_hostname()},
            {"user", local_username()},
            {"salt", to_base64(salt)}};
  if (role == KeyRole::AppendOnly) j["role"] = "append-only";
  Key kek;
  if (creds.key_file) {
    j["kind"] = "keyfile";
    kek = derive_from_key_file(read_key_file_bytes(*creds.key_file), salt);
  } else if (creds.passphrase) {
    if (creds.passphrase->empty()) throw Error(ErrorKind::Usage, "an empty password is not allowed");
    j["kind"] = "passphrase";
    j["kdf"] = {{"algorithm", "argon2id"},
                {"time", kdf.time_cost},
                {"memory_kib", kdf.memory_kib},
                {"parallelism", kdf.parallelism}};
    kek = derive_from_passphrase(*creds.passphrase, salt, kdf);
  } else {
    throw Error(ErrorKind::Usage, "no password or key file given for the new key");
  }
  SigningKeyPair signing = new_signing_key();
  std::string pub = to_base64(signing.public_key);
  j["signing_public_key"] = pub;
  Bytes wrapped_seed;
  aead_seal(kek, as_view(signing_aad(pub)), signing.seed, wrapped_seed);
  j["wrapped_signing_key"] = to_base64(wrapped_seed);
  Bytes wrapped;
  aead_seal(kek, as_view(wrap_aad(role, pub)), master.b, wrapped);
  j["wrapped_master_key"] = to_base64(wrapped);
  return {random_id().hex(), j.dump(2) + "\n"};
}

void store_key_file(Backend& backend, const KeyFileText& key) {
  if (!backend.put_if_absent(names::key_file(key.id), as_view(key.text)))
    throw Error(ErrorKind::Conflict, "key id collision");
}

std::string add_key_file(Backend& backend, const Key& master, const Credentials& creds, const Argon2Params& kdf,
                         KeyRole role) {
  KeyFileText key = make_key_file(master, creds, kdf, role);
  store_key_file(backend, key);
  return key.id;
}

// Every key-encryption key unlock_master_key derived in this process (see key_derivations()).
static std::atomic<uint64_t> unlock_derivations_count{0};

uint64_t key_derivations() { return unlock_derivations_count.load(); }

UnlockedKey unlock_master_key(const Backend& backend, const Credentials& creds) {
  std::vector<std::string> ids;
  backend.list(names::kKeysPrefix,
               [&](const ObjectInfo& o) { ids.push_back(o.name.substr(names::kKeysPrefix.size())); });
  if (ids.empty()) {
    if (!backend.exists())
      throw Error(ErrorKind::NotFound,
                  "repository " + backend.location() + " does not exist (create it with 'arca init')");
    if (backend.stat(names::kConfig))
      throw Error(ErrorKind::NotFound, backend.location() +
                                           " is an incomplete repository (an interrupted 'arca init' "
                                           "left no key); it holds no data: remove it and run 'arca init' again");
    throw Error(ErrorKind::NotFound, backend.location() + " is not an Arca repository (it has no keys/)");
  }
  std::optional<Bytes> key_file_bytes;
  if (creds.key_file) key_file_bytes = read_key_file_bytes(*creds.key_file);
  int foreign_format = 0;
  std::vector<std::string> damaged;  // "keys/<id> (why)"
  size_t tried = 0;
  for (const auto& id : ids) {
    // A damaged or hostile key file must not lock everyone out: any problem skips it.
    try {
      json j;
      try {
        j = load_key_json(backend, id);
      } catch (const Error& e) {
        if (e.kind() != ErrorKind::Corrupt) throw;
        damaged.push_back(names::key_file(id) + " (truncated or not JSON)");
        continue;
      }
      if (std::string why = key_json_problem(j); !why.empty()) {
        damaged.push_back(names::key_file(id) + " (" + why + ")");
        continue;
      }
      int format = j.value("arca_format", 0);
      if (format != kRepoFormat) {
        foreign_format = format;
        continue;
      }
      Bytes salt = from_base64(j.at("salt").get<std::string>());
      std::string kind = j.at("kind");
      Key kek;
      if (kind == "keyfile" && key_file_bytes)
        kek = derive_from_key_file(*key_file_bytes, salt);
      else if (kind == "passphrase" && creds.passphrase) {
        Argon2Params p = kdf_from(j.at("kdf"));
        // Key files are not authenticated before use: refuse parameters that would stall the open.
        if (p.memory_kib > 4u * 1024 * 1024 || p.time_cost > 100 || p.time_cost == 0 || p.parallelism > 64 ||
            p.parallelism == 0 || p.memory_kib < 8 * p.parallelism || salt.size() < 16)
          continue;
        kek = derive_from_passphrase(*creds.passphrase, salt, p);
      } else {
        continue;
      }
      tried++;
      unlock_derivations_count++;
      Bytes wrapped = from_base64(j.at("wrapped_master_key").get<std::string>());
      KeyRole role = role_of(j);
      std::string pub = j.value("signing_public_key", "");
      auto master = aead_open(kek, as_view(wrap_aad(role, pub)), wrapped);
      if (master && master->size() == 32) {
        Key k;
        std::copy(master->begin(), master->end(), k.b.begin());
        UnlockedKey out{k, id, role, {}};
        // A signing key that does not open or fit its public key is not used: points go unsigned.
        if (!pub.empty() && j.contains("wrapped_signing_key")) {
          auto seed =
              aead_open(kek, as_view(signing_aad(pub)), from_base64(j.at("wrapped_signing_key").get<std::string>()));
          if (seed && seed->size() == kSigningSeedSize && signing_public_key(*seed) == from_base64(pub))
            out.signing_seed = std::move(*seed);
        }
        return out;
      }
    } catch (const json::exception&) {
      continue;
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::Io) throw;  // the storage itself failed: say so
      continue;
    }
  }
  if (foreign_format)
    throw Error(ErrorKind::FormatVersion, "repository " + backend.location() + " has format version " +
                                              std::to_string(foreign_format) + "; this arca reads version " +
                                              std::to_string(kRepoFormat));
  std::string list;
  for (const auto& d : damaged) list += (list.empty() ? "" : ", ") + d;
  // Only damaged key files could have fitted: that is damage (exit 12), not a wrong password.
  if (!damaged.empty() && tried == 0)
    throw Error(ErrorKind::Corrupt, "damaged key file: every key of " + backend.location() + " that a " +
                                        std::string(creds.key_file ? "key file" : "password") +
                                        " could open is damaged: " + list +
                                        "; put back a copy of it, or use another key ('arca key list' shows them)");
  std::string note = damaged.empty() ? "" : "; damaged key file(s) that could not be tried: " + list;
  throw Error(ErrorKind::Auth, std::string("wrong ") + (creds.key_file ? "key file" : "password") + ": none of the " +
                                   std::to_string(ids.size()) + " key(s) of " + backend.location() + " accepts it" +
                                   note);
}

std::vector<KeyFileInfo> list_key_files(const Backend& backend) {
  std::vector<KeyFileInfo> out;
  backend.list(names::kKeysPrefix, [&](const ObjectInfo& o) {
    std::string id = o.name.substr(names::kKeysPrefix.size());
    try {
      json j = load_key_json(backend, id);
      if (!j.is_object()) throw Error(ErrorKind::Corrupt, "not an object");
      out.push_back(
          {id, j.value("kind", "?"), j.value("created", ""), j.value("host", ""), j.value("user", ""), role_of(j)});
    } catch (const std::exception&) {
      out.push_back({id, "damaged", "", "", "", KeyRole::Full});  // listed so that it can be removed
    }
  });
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.created < b.created; });
  return out;
}

std::map<std::string, Bytes> signing_public_keys(const Backend& backend) {
  std::map<std::string, Bytes> out;
  backend.list(names::kKeysPrefix, [&](const ObjectInfo& o) {
    std::string id = o.name.substr(names::kKeysPrefix.size());
    try {
      json j = load_key_json(backend, id);
      if (j.is_object() && j.contains("signing_public_key")) {
        Bytes pub = from_base64(j.at("signing_public_key").get<std::string>());
        if (pub.size() == kSigningPublicSize) out[id] = std::move(pub);
      }
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::Io) throw;  // damaged key files: check reports them
    } catch (const json::exception&) {}
  });
  return out;
}

std::string resolve_key_id(const Backend& backend, const std::string& prefix) {
  std::vector<std::string> hits;
  for (const auto& k : list_key_files(backend))
    if (k.id.rfind(prefix, 0) == 0) hits.push_back(k.id);
  if (hits.empty()) throw Error(ErrorKind::NotFound, "no key with id " + prefix);
  if (hits.size() > 1) throw Error(ErrorKind::Usage, "key id prefix " + prefix + " is ambiguous");
  return hits[0];
}

void remove_key_file(Backend& backend, const std::string& id) { backend.remove(names::key_file(id)); }

void write_new_key_file(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!fd) throw_errno("create key file", path, errno);
  Bytes k(64);
  random_bytes(k);
  if (::write(fd.get(), k.data(), k.size()) != ssize_t(k.size()) || ::fsync(fd.get()) != 0)
    throw_errno("write key file", path, errno);
}

}  // namespace arca
