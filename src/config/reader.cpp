#include "config/reader.h"

#include <algorithm>
#include <charconv>
#include <set>

#include "config/values.h"

namespace arca::config {

namespace {
const char* kind_of(const YAML::Node& v) {
  if (v.IsMap()) return "a mapping";
  if (v.IsSequence()) return "a list";
  if (v.IsNull()) return "empty";
  return "a single value";
}
}  // namespace

void ConfigReader::error_at(const YAML::Mark& at, const std::string& field, const std::string& message) {
  ConfigError e;
  if (!at.is_null()) e.line = at.line + 1, e.column = at.column + 1;
  e.field = field;
  e.message = message;
  errors_.push_back(std::move(e));
}

void ConfigReader::error(const YAML::Node& at, const std::string& field, const std::string& message) {
  error_at(at.Mark(), field, message);
}

bool ConfigReader::map(const YAML::Node& n, const std::string& path, const Keys& known, const Explain& explain) {
  if (!n.IsMap()) {
    error(n, path, std::string("must be a mapping of fields, not ") + kind_of(n));
    return false;
  }
  std::set<std::string> seen;
  for (auto it = n.begin(); it != n.end(); ++it) {
    const std::string key = it->first.Scalar();
    const std::string field = join(path, key);
    if (!seen.insert(key).second) {
      error(it->first, field, "given twice; keep one");
      continue;
    }
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    std::string msg = "unknown field";
    bool has_alternative = false;
    for (const char* secret : {"password", "secret"}) {
      std::string file = std::string(secret) + "-file", env = std::string(secret) + "-env";
      if (key == secret && std::find(known.begin(), known.end(), file) != known.end()) {
        msg = "secrets are never written in the configuration: use " + file + " (a file only the server can read) or " +
              env + " (an environment variable)";
        has_alternative = true;
      }
    }
    if (!has_alternative) {
      if (auto why = explain ? explain(key) : std::nullopt) {
        msg = *why;
      } else if (auto near = values::nearest(key, known); !near.empty()) {
        msg += "; did you mean '" + near + "'?";
      } else {
        std::string list;
        for (auto k : known) list += (list.empty() ? "" : ", ") + std::string(k);
        msg += " (known here: " + list + ")";
      }
    }
    error(it->first, field, msg);
  }
  return true;
}

std::vector<ConfigReader::Entry> ConfigReader::named_map(const YAML::Node& n, const std::string& path) {
  std::vector<Entry> out;
  if (!n.IsMap()) {
    error(n, path, std::string("must be a mapping of names to definitions, not ") + kind_of(n));
    return out;
  }
  std::set<std::string> seen;
  for (auto it = n.begin(); it != n.end(); ++it) {
    std::string name = it->first.Scalar();
    if (auto bad = values::check_name(name)) {
      error(it->first, join(path, name), *bad);
      continue;
    }
    if (!seen.insert(name).second) {
      error(it->first, join(path, name), "defined twice; names must be unique");
      continue;
    }
    out.push_back({name, it->first, it->second});
  }
  return out;
}

bool ConfigReader::scalar(const YAML::Node& v, const std::string& field, const char* what) {
  if (v.IsScalar()) return true;
  error(v, field, std::string("must be ") + what + ", not " + kind_of(v));
  return false;
}

bool ConfigReader::text(const YAML::Node& m, const std::string& key, const std::string& path, std::string& out) {
  if (!m.IsMap()) return false;
  YAML::Node v = m[key];
  if (!v.IsDefined()) return false;
  if (!scalar(v, join(path, key), "a text value")) return false;
  out = v.Scalar();
  return true;
}

bool ConfigReader::integer(const YAML::Node& m, const std::string& key, const std::string& path, int& out, int min,
                           int max) {
  if (!m.IsMap()) return false;
  YAML::Node v = m[key];
  if (!v.IsDefined()) return false;
  const std::string field = join(path, key);
  if (!scalar(v, field, "a whole number")) return false;
  const std::string& s = v.Scalar();
  int n = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc() || p != s.data() + s.size()) {
    error(v, field, "'" + s + "' is not a whole number");
    return false;
  }
  if (n < min || n > max) {
    error(v, field, std::to_string(n) + " is out of range " + std::to_string(min) + "-" + std::to_string(max));
    return false;
  }
  out = n;
  return true;
}

bool ConfigReader::boolean(const YAML::Node& m, const std::string& key, const std::string& path, bool& out) {
  if (!m.IsMap()) return false;
  YAML::Node v = m[key];
  if (!v.IsDefined()) return false;
  const std::string field = join(path, key);
  if (!scalar(v, field, "true or false")) return false;
  bool b = false;
  if (!YAML::convert<bool>::decode(v, b)) {
    error(v, field, "'" + v.Scalar() + "' is not true or false");
    return false;
  }
  out = b;
  return true;
}

bool ConfigReader::duration(const YAML::Node& m, const std::string& key, const std::string& path, int64_t& out) {
  if (!m.IsMap()) return false;
  YAML::Node v = m[key];
  if (!v.IsDefined()) return false;
  const std::string field = join(path, key);
  if (!scalar(v, field, "a duration")) return false;
  auto d = parse_duration(v.Scalar());
  if (!d) {
    error(v, field,
          "'" + v.Scalar() + "' is not a duration: write 90s, 15m, 1h30m, 2d or 1w (a bare number is seconds)");
    return false;
  }
  out = *d;
  return true;
}

bool ConfigReader::list(const YAML::Node& m, const std::string& key, const std::string& path,
                        std::vector<std::string>& out) {
  if (!m.IsMap()) return false;
  YAML::Node v = m[key];
  if (!v.IsDefined()) return false;
  const std::string field = join(path, key);
  if (!v.IsSequence()) {
    error(v, field, std::string("must be a list ([a, b] or one '- item' per line), not ") + kind_of(v));
    return false;
  }
  std::vector<std::string> items;
  bool ok = true;
  for (size_t i = 0; i < v.size(); i++) {
    YAML::Node item = v[i];
    if (!scalar(item, field + "[" + std::to_string(i) + "]", "a text value")) {
      ok = false;
      continue;
    }
    items.push_back(item.Scalar());
  }
  if (ok) out = std::move(items);
  return ok;
}

bool ConfigReader::checked(const YAML::Node& m, const std::string& key, const std::string& path, std::string& out,
                           const std::function<std::optional<std::string>(const std::string&)>& check) {
  std::string s;
  if (!text(m, key, path, s)) return false;
  if (auto bad = check(s)) {
    error(m[key], join(path, key), *bad);
    return false;
  }
  out = s;
  return true;
}

bool ConfigReader::require(const YAML::Node& m, const std::string& key, const std::string& path,
                           const std::string& why) {
  if (m.IsMap() && m[key].IsDefined()) return true;
  error(m, join(path, key), "missing" + (why.empty() ? std::string() : ": " + why));
  return false;
}

void ConfigReader::secret(const YAML::Node& m, const std::string& prefix, const std::string& path, SecretRef& out) {
  const std::string file_key = prefix + "-file", env_key = prefix + "-env";
  std::string file, env;
  bool has_file = text(m, file_key, path, file), has_env = text(m, env_key, path, env);
  if (has_file && has_env) {
    error(m[env_key], join(path, env_key), "give " + file_key + " or " + env_key + ", not both");
    return;
  }
  if (has_file && file.empty()) error(m[file_key], join(path, file_key), "is empty: name the file holding the secret");
  if (has_env && env.empty()) error(m[env_key], join(path, env_key), "is empty: name the environment variable");
  if (has_file && !file.empty()) {
    out.file = resolve(file);
    file_named(m[file_key], join(path, file_key), out.file, true);
  }
  if (has_env) out.env = env;
}

std::string ConfigReader::resolve(const std::string& file) const {
  if (file.empty() || file[0] == '/' || base_dir_.empty()) return file;
  return base_dir_ + "/" + file;
}

}  // namespace arca::config
