#include "drill/drill_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "util/clock.h"
#include "util/error.h"

namespace arca::drill {

namespace {

using nlohmann::json;

json opt(const std::optional<double>& v) { return v ? json(*v) : json(); }
json opt(const std::optional<int64_t>& v) { return v ? json(*v) : json(); }
json opt(const std::optional<bool>& v) { return v ? json(*v) : json(); }

std::optional<double> get_opt(const json& j, const char* key) {
  if (!j.contains(key) || j[key].is_null()) return std::nullopt;
  return j[key].get<double>();
}

ComponentKind kind_of(const std::string& s) {
  for (auto k : {ComponentKind::Postgres, ComponentKind::Redis, ComponentKind::Kafka, ComponentKind::Files})
    if (to_string(k) == s) return k;
  throw Error(ErrorKind::Corrupt, "drill record: unknown component kind '" + s + "'");
}

// "4.2 s", "3 min 5 s", "2 h 10 min".

std::string verdict(const std::optional<bool>& ok) { return !ok ? "no objective" : *ok ? "met" : "MISSED"; }

std::string html_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      default: o += c;
    }
  }
  return o;
}

// Text from names, details and errors in Markdown: on one line, no '|' to end a table cell, and
// no markup a renderer would run (a detail is whatever a validator printed).
std::string md_cell(std::string s) {
  std::replace(s.begin(), s.end(), '\n', ' ');
  std::string o;
  for (char c : s) {
    switch (c) {
      case '|': o += "\\|"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      default: o += c;
    }
  }
  return o;
}

std::string status_word(const ComponentResult& c) {
  if (!c.validated()) return "FAILED";
  return c.passed() ? "passed" : "objective missed";
}

}  // namespace

json to_json(const DrillResult& r) {
  json comps = json::array();
  for (const auto& c : r.components) {
    json phases = json::array(), checks = json::array();
    for (const auto& p : c.phases) phases.push_back({{"name", p.name}, {"start_s", p.start_s}, {"end_s", p.end_s}});
    for (const auto& k : c.checks)
      checks.push_back({{"name", k.name},
                        {"status", k.skipped ? "skipped" : k.passed ? "passed" : "failed"},
                        {"detail", k.detail}});
    comps.push_back({{"name", c.name},
                     {"kind", std::string(to_string(c.kind))},
                     {"source", c.source},
                     {"snapshot", c.snapshot_id.empty() ? json() : json(c.snapshot_id)},
                     {"snapshot_time", c.snapshot_time.empty() ? json() : json(c.snapshot_time)},
                     {"status", status_word(c)},
                     {"validated", c.validated()},
                     {"passed", c.passed()},
                     {"error", c.error.empty() ? json() : json(c.error)},
                     {"rto_s", c.rto_s},
                     {"rpo_s", opt(c.rpo_s)},
                     {"failover_s", opt(c.failover_s)},
                     {"newest_data_time", c.newest_data ? json(rfc3339_utc(*c.newest_data, true)) : json()},
                     {"newest_data_unix", opt(c.newest_data)},
                     {"rto_objective_s", opt(c.objectives.rto_s)},
                     {"rpo_objective_s", opt(c.objectives.rpo_s)},
                     {"rto_ok", opt(c.rto_ok)},
                     {"rpo_ok", opt(c.rpo_ok)},
                     {"phases", phases},
                     {"checks", checks}});
  }
  return {{"format", 1},
          {"id", r.id},
          {"drill", r.name},
          {"host", r.host},
          {"started_at", rfc3339_utc(r.started_at, true)},
          {"started_unix", r.started_at},
          {"finished_at", rfc3339_utc(r.finished_at, true)},
          {"finished_unix", r.finished_at},
          {"duration_s", r.finished_at - r.started_at},
          {"incident_time", rfc3339_utc(r.incident_time, true)},
          {"incident_unix", r.incident_time},
          {"incident_given", r.incident_given},
          {"passed", r.passed()},
          {"exit_code", r.exit_code()},
          {"components", comps}};
}

DrillResult drill_result_from_json(const json& j) {
  try {
    DrillResult r;
    r.id = j.at("id").get<std::string>();
    r.name = j.at("drill").get<std::string>();
    r.host = j.value("host", "");
    r.started_at = j.at("started_unix").get<double>();
    r.finished_at = j.at("finished_unix").get<double>();
    r.incident_time = j.at("incident_unix").get<double>();
    r.incident_given = j.value("incident_given", false);
    for (const auto& cj : j.at("components")) {
      ComponentResult c;
      c.name = cj.at("name").get<std::string>();
      c.kind = kind_of(cj.at("kind").get<std::string>());
      c.source = cj.value("source", "");
      if (cj.contains("snapshot") && cj["snapshot"].is_string()) c.snapshot_id = cj["snapshot"].get<std::string>();
      if (cj.contains("snapshot_time") && cj["snapshot_time"].is_string())
        c.snapshot_time = cj["snapshot_time"].get<std::string>();
      if (cj.contains("error") && cj["error"].is_string()) c.error = cj["error"].get<std::string>();
      c.rto_s = cj.at("rto_s").get<double>();
      c.rpo_s = get_opt(cj, "rpo_s");
      c.failover_s = get_opt(cj, "failover_s");  // absent in records of drills before failover drills
      c.newest_data = get_opt(cj, "newest_data_unix");
      if (auto v = get_opt(cj, "rto_objective_s")) c.objectives.rto_s = int64_t(*v);
      if (auto v = get_opt(cj, "rpo_objective_s")) c.objectives.rpo_s = int64_t(*v);
      if (cj.contains("rto_ok") && cj["rto_ok"].is_boolean()) c.rto_ok = cj["rto_ok"].get<bool>();
      if (cj.contains("rpo_ok") && cj["rpo_ok"].is_boolean()) c.rpo_ok = cj["rpo_ok"].get<bool>();
      for (const auto& p : cj.at("phases"))
        c.phases.push_back({p.at("name").get<std::string>(), p.at("start_s").get<double>(), p.at("end_s").get<double>()});
      for (const auto& k : cj.at("checks")) {
        std::string st = k.at("status").get<std::string>();
        c.checks.push_back({k.at("name").get<std::string>(), st == "passed", st == "skipped", k.value("detail", "")});
      }
      r.components.push_back(std::move(c));
    }
    return r;
  } catch (const json::exception& e) {
    throw Error(ErrorKind::Corrupt, std::string("drill record is not a drill report: ") + e.what());
  }
}

std::string to_markdown(const DrillResult& r) {
  std::ostringstream o;
  o << "# Drill " << md_cell(r.name) << ": " << r.verdict() << "\n\n";
  o << "- id `" << r.id.substr(0, 12) << "`, host " << md_cell(r.host) << "\n";
  o << "- started " << rfc3339_utc(r.started_at) << ", took " << duration_text(r.finished_at - r.started_at) << "\n";
  o << "- incident time " << rfc3339_utc(r.incident_time, true)
    << (r.incident_given ? " (given)" : " (the drill's start)") << "\n\n";
  o << "| component | kind | recovery point | RTO | objective | RPO | objective | result |\n";
  o << "|---|---|---|---:|---|---:|---|---|\n";
  for (const auto& c : r.components) {
    o << "| " << md_cell(c.name) << " | " << to_string(c.kind) << " | ";
    if (c.snapshot_id.empty())
      o << "none";
    else  // streamed piece by piece: GCC 12 warns falsely (-Wrestrict) on "`" + std::string
      o << '`' << c.snapshot_id.substr(0, 8) << "` " << c.snapshot_time;
    o << " | "
      << duration_text(c.rto_s) << " | "
      << (c.objectives.rto_s ? duration_text(double(*c.objectives.rto_s)) + ": " + verdict(c.rto_ok) : "–") << " | "
      << (c.rpo_s ? duration_text(*c.rpo_s) : "–") << " | "
      << (c.objectives.rpo_s ? duration_text(double(*c.objectives.rpo_s)) + ": " + verdict(c.rpo_ok) : "–") << " | "
      << status_word(c) << " |\n";
  }
  for (const auto& c : r.components) {
    o << "\n## " << md_cell(c.name) << " (" << to_string(c.kind) << ", " << md_cell(c.source) << ")\n\n";
    if (!c.error.empty()) o << "**Error:** " << md_cell(c.error) << "\n\n";
    if (c.failover_s)
      o << "**Failover** (promote + validate, from a standby kept caught up): " << duration_text(*c.failover_s) << "\n\n";
    if (!c.phases.empty()) {
      o << "| phase | from | to | took |\n|---|---:|---:|---:|\n";
      for (const auto& p : c.phases)
        o << "| " << p.name << " | " << duration_text(p.start_s) << " | " << duration_text(p.end_s) << " | " << duration_text(p.end_s - p.start_s)
          << " |\n";
      o << "\n";
    }
    for (const auto& k : c.checks)
      o << "- [" << (k.skipped ? "skip" : k.passed ? "ok" : "FAIL") << "] " << md_cell(k.name) << ": "
        << md_cell(k.detail) << "\n";
  }
  return o.str();
}

std::string to_html(const DrillResult& r) {
  double total = 0;
  for (const auto& c : r.components)
    for (const auto& p : c.phases) total = std::max(total, p.end_s);
  total = std::max(total, 0.001);
  std::ostringstream o;
  o << "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
    << "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
    << "<title>Drill " << html_escape(r.name) << "</title><style>"
    << "body{font:15px/1.45 system-ui,sans-serif;margin:1.5em;max-width:70em;color:#1b1b1b}"
    << "table{border-collapse:collapse;margin:.8em 0}td,th{border:1px solid #bbb;padding:.3em .6em;text-align:left}"
    << ".ok{color:#0a6b2d;font-weight:600}.bad{color:#b00020;font-weight:600}"
    << ".tl{position:relative;height:1.6em;background:#f2f2f2;margin:.2em 0 .6em}"
    << ".ph{position:absolute;top:0;bottom:0;border-right:1px solid #fff;font-size:12px;overflow:hidden;"
    << "white-space:nowrap;color:#fff;padding-left:2px}"
    << ".locate{background:#5b6f8a}.restore{background:#1f6fb2}.start{background:#7d4fb2}.validate{background:#2e8b57}"
    << ".catch-up{background:#a0652a}.promote{background:#c0392b}.failed{background:#b00020}"
    << "</style></head><body>\n";
  o << "<h1>Drill " << html_escape(r.name) << ": <span class=\"" << (r.passed() ? "ok" : "bad") << "\">" << r.verdict()
    << "</span></h1>\n<p>Started " << rfc3339_utc(r.started_at) << " on " << html_escape(r.host) << ", took "
    << duration_text(r.finished_at - r.started_at) << ". Incident time " << rfc3339_utc(r.incident_time, true)
    << (r.incident_given ? " (given)" : " (the drill's start)") << ". Id <code>" << r.id.substr(0, 12)
    << "</code>.</p>\n";
  o << "<table><thead><tr><th scope=\"col\">component</th><th scope=\"col\">RTO</th><th scope=\"col\">RTO objective</th>"
    << "<th scope=\"col\">RPO</th><th scope=\"col\">RPO objective</th><th scope=\"col\">result</th></tr></thead><tbody>\n";
  auto cls = [](const std::optional<bool>& ok) { return !ok ? "" : *ok ? " class=\"ok\"" : " class=\"bad\""; };
  for (const auto& c : r.components) {
    o << "<tr><th scope=\"row\">" << html_escape(c.name) << " (" << to_string(c.kind) << ")</th><td>" << duration_text(c.rto_s)
      << "</td><td" << cls(c.rto_ok) << ">"
      << (c.objectives.rto_s ? duration_text(double(*c.objectives.rto_s)) + " " + verdict(c.rto_ok) : "–") << "</td><td>"
      << (c.rpo_s ? duration_text(*c.rpo_s) : "–") << "</td><td" << cls(c.rpo_ok) << ">"
      << (c.objectives.rpo_s ? duration_text(double(*c.objectives.rpo_s)) + " " + verdict(c.rpo_ok) : "–") << "</td><td"
      << cls(c.passed()) << ">" << status_word(c) << "</td></tr>\n";
  }
  o << "</tbody></table>\n<h2>Timeline</h2>\n<p>From the drill's start (0) to " << duration_text(total)
    << "; each bar is one component's phases.</p>\n";
  for (const auto& c : r.components) {
    o << "<div>" << html_escape(c.name) << "</div><div class=\"tl\" role=\"img\" aria-label=\"";
    for (const auto& p : c.phases) o << html_escape(p.name) << " " << duration_text(p.end_s - p.start_s) << "; ";
    o << "\">";
    for (const auto& p : c.phases) {
      std::string kind = p.name.rfind("start", 0) == 0 ? "start" : p.name;
      char geo[96];
      std::snprintf(geo, sizeof geo, "left:%.2f%%;width:%.2f%%", 100 * p.start_s / total,
                    std::max(0.3, 100 * (p.end_s - p.start_s) / total));
      o << "<div class=\"ph " << html_escape(kind) << "\" style=\"" << geo << "\" title=\"" << html_escape(p.name)
        << ": " << duration_text(p.end_s - p.start_s) << "\">" << html_escape(p.name) << "</div>";
    }
    o << "</div>\n";
  }
  for (const auto& c : r.components) {
    o << "<h2>" << html_escape(c.name) << "</h2>\n";
    if (!c.error.empty()) o << "<p class=\"bad\">" << html_escape(c.error) << "</p>\n";
    if (c.failover_s)
      o << "<p>Failover (promote + validate, from a standby kept caught up): " << duration_text(*c.failover_s) << ".</p>\n";
    if (!c.snapshot_id.empty())
      o << "<p>Recovery point <code>" << c.snapshot_id.substr(0, 12) << "</code> of " << html_escape(c.snapshot_time)
        << ".</p>\n";
    if (c.checks.empty()) continue;
    o << "<table><thead><tr><th scope=\"col\">check</th><th scope=\"col\">result</th><th scope=\"col\">detail</th></tr>"
      << "</thead><tbody>\n";
    for (const auto& k : c.checks)
      o << "<tr><td>" << html_escape(k.name) << "</td><td"
        << (k.skipped ? "" : k.passed ? " class=\"ok\"" : " class=\"bad\"") << ">"
        << (k.skipped ? "skipped" : k.passed ? "passed" : "FAILED") << "</td><td>" << html_escape(k.detail)
        << "</td></tr>\n";
    o << "</tbody></table>\n";
  }
  o << "</body></html>\n";
  return o.str();
}

std::string duration_text(double s) {
  char buf[64];
  const double a = std::fabs(s);
  if (a < 60) std::snprintf(buf, sizeof buf, "%.1f s", s);
  else if (a < 3600) std::snprintf(buf, sizeof buf, "%d min %d s", int(s / 60), int(std::fmod(a, 60)));
  else std::snprintf(buf, sizeof buf, "%d h %d min", int(s / 3600), int(std::fmod(a, 3600) / 60));
  return buf;
}

}  // namespace arca::drill
