// A writer of the Prometheus text exposition format, version 0.0.4: families in the order they
// are first declared, each with its HELP and TYPE lines and all its samples together (the format
// allows no family to be split), label values and help text escaped, numbers as Prometheus reads
// them (+Inf, NaN, integers without an exponent). Used by metrics.cpp; small enough to be inline.
#pragma once
#include <charconv>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "util/error.h"

namespace arca::server {

using Labels = std::vector<std::pair<std::string, std::string>>;  // in the order written

class Exposition {
 public:
  // Declares a family (type: counter, gauge, histogram). Declaring it again is harmless only with
  // the same type.
  void family(const std::string& name, const std::string& type, const std::string& help) {
    auto it = index_.find(name);
    if (it != index_.end()) {
      if (families_[it->second].type != type)
        throw Error(ErrorKind::Generic, "metrics: family " + name + " declared as " + families_[it->second].type +
                                            " and as " + type + " (a bug in the metrics code)");
      return;
    }
    index_[name] = families_.size();
    families_.push_back({name, type, help, {}, {}});
  }

  // One sample of `family`; `suffix` is "_bucket", "_sum" or "_count" for histograms. A second
  // sample of the same series is a bug (Prometheus rejects the whole scrape): it throws.
  void sample(const std::string& family, const Labels& labels, double value, const std::string& suffix = "") {
    auto it = index_.find(family);
    if (it == index_.end())
      throw Error(ErrorKind::Generic,
                  "metrics: sample of undeclared family " + family + " (a bug in the metrics code)");
    Family& f = families_[it->second];
    std::string line = family + suffix;
    if (!labels.empty()) {
      line += '{';
      for (size_t i = 0; i < labels.size(); i++) {
        if (i) line += ',';
        line += labels[i].first + "=\"" + escape_label(labels[i].second) + '"';
      }
      line += '}';
    }
    if (!f.series.insert(line).second)
      throw Error(ErrorKind::Generic, "metrics: duplicate series " + line + " (a bug in the metrics code)");
    f.lines.push_back(line + ' ' + number(value));
  }

  // Families without samples are left out (a labelled family has nothing to say until it has a
  // series).
  std::string text() const {
    std::string out;
    for (const auto& f : families_) {
      if (f.lines.empty()) continue;
      out += "# HELP " + f.name + ' ' + escape_help(f.help) + '\n';
      out += "# TYPE " + f.name + ' ' + f.type + '\n';
      for (const auto& l : f.lines) out += l + '\n';
    }
    return out;
  }

  static std::string escape_label(const std::string& v) {
    std::string out;
    for (char c : v) {
      if (c == '\\')
        out += "\\\\";
      else if (c == '"')
        out += "\\\"";
      else if (c == '\n')
        out += "\\n";
      else
        out += c;
    }
    return out;
  }
  static std::string escape_help(const std::string& v) {
    std::string out;
    for (char c : v) {
      if (c == '\\')
        out += "\\\\";
      else if (c == '\n')
        out += "\\n";
      else
        out += c;
    }
    return out;
  }
  // Integers exactly (timestamps, byte counts), other values in the shortest form that reads back
  // the same.
  static std::string number(double v) {
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
    char buf[64];
    if (v == std::floor(v) && std::fabs(v) < 9007199254740992.0) {
      auto r = std::to_chars(buf, buf + sizeof buf, static_cast<long long>(v));
      return std::string(buf, r.ptr);
    }
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, r.ptr);
  }

 private:
  struct Family {
    std::string name, type, help;
    std::vector<std::string> lines;
    std::set<std::string> series;
  };
  std::vector<Family> families_;
  std::map<std::string, size_t> index_;
};

}  // namespace arca::server
