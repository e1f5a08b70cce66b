// Reading the configuration's YAML tree while collecting every error with its line, column and
// field path: mappings with known keys only (an unknown key names the nearest known one), typed
// values, durations. Used by the server's configuration (server/config.cpp) and drill files
// (drill/drill_spec.cpp); a read that fails records the error and leaves the default in place, so
// loading goes on and reports everything at once.
#pragma once
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/types.h"

namespace arca::config {

// Where a value sits, for the checks only load_config makes: a secret written into the file itself
// (a backend option, a URL or conninfo with a password; accepted only if the file is private,
// docs/server.md "Secrets"), and the files the configuration names (they must exist; a file that
// holds a secret must also be private).
struct ValueAt {
  int line = 0, column = 0;
  std::string field, value;
  bool secret = false;  // the file holds a secret (a password, a key)
};

class ConfigReader {
 public:
  using Keys = std::vector<std::string_view>;
  // For a key not in `known`: a message that explains it (e.g. "applies to postgres sources
  // only"), or nullopt for the usual "unknown field".
  using Explain = std::function<std::optional<std::string>(const std::string& key)>;

  explicit ConfigReader(std::vector<ConfigError>& errors) : errors_(errors) {}

  static std::string join(const std::string& path, const std::string& key) {
    return path.empty() ? key : path + "." + key;
  }
  static int line_of(const YAML::Node& n) { return n.Mark().is_null() ? 0 : n.Mark().line + 1; }

  void error(const YAML::Node& at, const std::string& field, const std::string& message);
  void error_at(const YAML::Mark& at, const std::string& field, const std::string& message);

  // A mapping whose keys are all in `known` (each unknown or repeated key is an error); false,
  // with an error, if `n` is not a mapping.
  bool map(const YAML::Node& n, const std::string& path, const Keys& known, const Explain& explain = {});
  // A mapping keyed by names ([A-Za-z0-9._-]+), in file order: (name, key node, value node).
  struct Entry {
    std::string name;
    YAML::Node key, value;
  };
  std::vector<Entry> named_map(const YAML::Node& n, const std::string& path);

  // Typed reads of m[key]. Absent: false and `out` unchanged. Present but wrong: an error, false.
  bool text(const YAML::Node& m, const std::string& key, const std::string& path, std::string& out);
  bool integer(const YAML::Node& m, const std::string& key, const std::string& path, int& out, int min, int max);
  bool boolean(const YAML::Node& m, const std::string& key, const std::string& path, bool& out);
  bool duration(const YAML::Node& m, const std::string& key, const std::string& path, int64_t& out);
  bool list(const YAML::Node& m, const std::string& key, const std::string& path, std::vector<std::string>& out);
  // Text checked by `check` (nullopt: good; else the message).
  bool checked(const YAML::Node& m, const std::string& key, const std::string& path, std::string& out,
               const std::function<std::optional<std::string>(const std::string&)>& check);
  // A required field: an error at the mapping when absent.
  bool require(const YAML::Node& m, const std::string& key, const std::string& path, const std::string& why = "");
  // X-file or X-env (at most one), a file made absolute against the configuration's folder.
  void secret(const YAML::Node& m, const std::string& prefix, const std::string& path, SecretRef& out);

  // A file named in the configuration, relative to the configuration's folder.
  std::string resolve(const std::string& file) const;
  void set_base_dir(std::string dir) { base_dir_ = std::move(dir); }

  void inline_secret(const YAML::Node& at, const std::string& field) {
    inline_secrets_.push_back(at_node(at, field, ""));
  }
  void file_named(const YAML::Node& at, const std::string& field, const std::string& file, bool secret = false) {
    files_.push_back(at_node(at, field, file));
    files_.back().secret = secret;
  }
  const std::vector<ValueAt>& inline_secrets() const { return inline_secrets_; }
  const std::vector<ValueAt>& files() const { return files_; }

 private:
  bool scalar(const YAML::Node& v, const std::string& field, const char* what);
  static ValueAt at_node(const YAML::Node& n, const std::string& field, const std::string& value) {
    return {line_of(n), n.Mark().is_null() ? 0 : n.Mark().column + 1, field, value};
  }
  std::vector<ConfigError>& errors_;
  std::vector<ValueAt> inline_secrets_, files_;
  std::string base_dir_;
};

}  // namespace arca::config
