// `arca status`, `arca plans [pause|resume|run NAME]`, `arca jobs [show|cancel ID]`: clients of a
// running `arca server` over its HTTP API (docs/openapi.yaml). They print what the API answers
// (--json: exactly that); the server's error kinds become the usual exit codes (401 -> 11,
// 403 -> 15, 404 -> 10, 409 -> 16; no server answering -> 10).
#include <httplib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>

#include "cli/server_commands.h"
#include "ops/error_table.h"
#include "repo/snapshot_filter.h"
#include "util/error.h"
#include "util/name_format.h"

namespace arca {

namespace {

constexpr const char* kDefaultServer = "http://127.0.0.1:8670";

struct ClientOptions {
  std::string server;      // --server, $ARCA_SERVER
  std::string token_file;  // --token-file, $ARCA_TOKEN_FILE (then $ARCA_TOKEN)
  std::string cacert;      // --cacert: a private CA for an https server
};

// Adds the options every client command takes. The token is never an argument: other users see
// argv in `ps`.
void add_client_options(CLI::App& cmd, ClientOptions& o, GlobalOptions& g) {
  cmd.add_option("--server", o.server, std::string("The server's URL (default: $ARCA_SERVER, then ") + kDefaultServer + ")");
  cmd.add_option("--token-file", o.token_file,
                 "Read the API token from this file (default: $ARCA_TOKEN_FILE, then $ARCA_TOKEN)");
  cmd.add_option("--cacert", o.cacert, "Trust this CA certificate (PEM) for an https server with a private CA");
  cmd.add_flag("--json", g.json, "Print the API's JSON answer");
}

// The error kind an API answer stands for: the kind its body names, else the one with its status.
ErrorKind kind_for(int status, const nlohmann::json& body) {
  if (body.is_object() && body.contains("error") && body["error"].is_object() && body["error"].contains("kind") &&
      body["error"]["kind"].is_string()) {
    std::string name = body["error"]["kind"];
    for (const auto& k : error_kind_table())
      if (name == k.name) return k.kind;
  }
  for (const auto& k : error_kind_table())
    if (k.http_status == status) return k.kind;
  return status >= 400 && status < 500 ? ErrorKind::Usage : ErrorKind::Generic;
}

class ApiClient {
 public:
  explicit ApiClient(const ClientOptions& o) {
    url_ = !o.server.empty() ? o.server : std::getenv("ARCA_SERVER") ? std::getenv("ARCA_SERVER") : kDefaultServer;
    while (!url_.empty() && url_.back() == '/') url_.pop_back();
    // "https://host:port/prefix": cpp-httplib takes the scheme, host and port; the prefix (a
    // reverse proxy's) goes before every path.
    size_t scheme_end = url_.find("://");
    size_t path_start = url_.find('/', scheme_end == std::string::npos ? 0 : scheme_end + 3);
    origin_ = path_start == std::string::npos ? url_ : url_.substr(0, path_start);
    prefix_ = path_start == std::string::npos ? "" : url_.substr(path_start);
    if (scheme_end == std::string::npos || (url_.rfind("http://", 0) != 0 && url_.rfind("https://", 0) != 0))
      throw Error(ErrorKind::Usage, "--server '" + url_ + "': expected http://HOST:PORT or https://HOST:PORT");
    http_ = std::make_unique<httplib::Client>(origin_);
    if (!http_->is_valid()) throw Error(ErrorKind::Usage, "--server '" + url_ + "' is not a usable URL");
    http_->set_connection_timeout(5);
    http_->set_read_timeout(30);
    if (!o.cacert.empty()) {
      if (!std::ifstream(o.cacert)) throw Error(ErrorKind::Usage, "cannot read the CA certificate " + o.cacert + " (--cacert)");
      http_->set_ca_cert_path(o.cacert.c_str());
    }
    if (url_.rfind("https://", 0) == 0) http_->enable_server_certificate_verification(true);

    std::string token;
    std::string file = !o.token_file.empty() ? o.token_file : std::getenv("ARCA_TOKEN_FILE") ? std::getenv("ARCA_TOKEN_FILE") : "";
    if (!file.empty()) {
      try {
        token = trim_space(read_password_file(file));
      } catch (const Error& e) {
        throw Error(e.kind(), "cannot read the token file " + file + " (--token-file / $ARCA_TOKEN_FILE): " +
                                  (e.kind() == ErrorKind::NotFound ? "it does not exist" : e.what()));
      }
      if (token.empty()) throw Error(ErrorKind::Usage, "the token file " + file + " is empty");
    } else if (const char* t = std::getenv("ARCA_TOKEN")) {
      token = t;
    }
    if (!token.empty()) headers_ = {{"Authorization", "Bearer " + token}};
  }

  nlohmann::json get(const std::string& path, const httplib::Params& params = {}) {
    return answer(http_->Get(prefix_ + path, params, headers_), "GET " + path);
  }
  nlohmann::json post(const std::string& path) {
    return answer(http_->Post(prefix_ + path, headers_, "{}", "application/json"), "POST " + path);
  }

 private:
  nlohmann::json answer(const httplib::Result& r, const std::string& what) {
    if (!r) {
      httplib::Error e = r.error();
      if (e == httplib::Error::SSLServerVerification || e == httplib::Error::SSLLoadingCerts)
        throw Error(ErrorKind::Unreachable, "the server at " + url_ + " has a certificate this machine does not trust: " +
                                                "give its CA with --cacert FILE");
      if (e == httplib::Error::SSLConnection || e == httplib::Error::Read) {
        bool https = url_.rfind("https://", 0) == 0;
        if (other_scheme_answers(https))
          throw Error(ErrorKind::Usage, "the server at " + url_ + (https ? " answered plain HTTP: use http://"
                                                                          : " answered with TLS: use https://") +
                                            url_.substr(url_.find("://") + 3));
      }
      throw Error(ErrorKind::Unreachable, "no server answers at " + url_ + ": is `arca server` running? (" +
                                              httplib::to_string(e) + ")");
    }
    nlohmann::json body = nlohmann::json::parse(r->body, nullptr, false);
    if (r->status >= 200 && r->status < 300) {
      if (body.is_discarded()) throw Error(ErrorKind::Generic, what + ": the server's answer is not JSON");
      return body;
    }
    std::string message = !body.is_discarded() && body.contains("error") && body["error"].contains("message")
                              ? body["error"]["message"].get<std::string>()
                              : "HTTP " + std::to_string(r->status);
    if (r->status == 401)
      message += headers_.empty() ? " (no token given: --token-file FILE, $ARCA_TOKEN_FILE or $ARCA_TOKEN)"
                                  : " (check --token-file / $ARCA_TOKEN_FILE / $ARCA_TOKEN)";
    throw Error(kind_for(r->status, body), message);
  }

  // After a TLS handshake or a read that failed: whether the server answers /healthz in the other
  // protocol (https:// given for a plain-HTTP server, or http:// for a TLS one), the usual mistake
  // behind those errors. The certificate does not matter here: nothing is sent but the probe.
  bool other_scheme_answers(bool https) const {
    httplib::Client probe((https ? "http://" : "https://") + origin_.substr(origin_.find("://") + 3));
    probe.set_connection_timeout(2);
    probe.set_read_timeout(5);
    if (!https) probe.enable_server_certificate_verification(false);
    return static_cast<bool>(probe.Get(prefix_ + "/healthz"));
  }

  std::string url_, origin_, prefix_;
  std::unique_ptr<httplib::Client> http_;
  httplib::Headers headers_;
};

// A plan name as one path segment: everything but unreserved characters percent-encoded.
std::string path_segment(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

// JSON text or null as a display string ("-" for null).
std::string text(const nlohmann::json& j) {
  if (j.is_null()) return "-";
  if (j.is_string()) return j.get<std::string>();
  return j.dump();
}

// "45s", "12m", "5h", "3d": short enough for a table column.
std::string span(double s) {
  if (!std::isfinite(s)) return "-";
  double a = std::fabs(s);
  std::string out = a < 120 ? std::to_string(long(a)) + "s"
                    : a < 7200 ? std::to_string(long(a / 60)) + "m"
                    : a < 172800 ? std::to_string(long(a / 3600)) + "h"
                                 : std::to_string(long(a / 86400)) + "d";
  return s < 0 ? "-" + out : out;
}

std::string time_cell(const nlohmann::json& rfc3339) { return rfc3339.is_string() ? short_time(rfc3339) : "-"; }

// The age of `at_unix` at `now` ("12m ago"), "-" when unset.
std::string age(const nlohmann::json& at_unix, double now) {
  return at_unix.is_number() ? span(now - at_unix.get<double>()) + " ago" : "-";
}

int print_status(const nlohmann::json& st) {
  double now = st.value("now_unix", 0.0);
  std::vector<std::vector<std::string>> rows;
  for (const auto& c : st["components"]) {
    const auto& p = c["newest_point"];
    std::string rpo = c["live_rpo_s"].is_number() ? span(c["live_rpo_s"].get<double>()) : "-";
    if (c["rpo_objective_s"].is_number()) rpo += " / " + span(c["rpo_objective_s"].get<double>());
    if (!c.value("rpo_ok", true)) rpo += " !";
    const auto& v = c["last_verification"];
    std::string verified = v.is_null() ? "never" : age(v["time_unix"], now) + (v.value("ok", false) ? " ok" : " FAILED");
    rows.push_back({text(c["source"]), text(c["kind"]), p.is_null() ? "none" : age(p["time_unix"], now), rpo,
                    text(c["state"]), verified, time_cell(c["next_run"])});
  }
  print_table({"Source", "Kind", "Newest point", "RPO live / objective", "State", "Verified", "Next run"}, rows);
  if (st.contains("replications") && !st["replications"].empty()) {
    std::vector<std::vector<std::string>> reps;
    for (const auto& [plan, r] : st["replications"].items()) {
      const auto& lag = r["lag"];
      std::string worst = lag.is_object() ? span(lag.value("max_lag_s", 0.0)) : "-";
      std::string pending = lag.is_object() ? std::to_string(lag["pending"].value("points", 0)) : "-";
      reps.push_back({text(r["repository"]), text(r["replica"]), worst, pending, age(r["last_success_at_unix"], now),
                      r["last_error"].is_string() ? text(r["last_error"]) : ""});
    }
    std::cout << "\n";
    print_table({"Repository", "Replica", "Lag", "Pending points", "Last copy", "Error"}, reps);
  }
  std::cout << counted(st.value("running_jobs", 0), "job", "jobs") << " running, " << st.value("pending_jobs", 0)
            << " pending\n";
  return kExitOk;
}

void print_plans(const nlohmann::json& plans) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& p : plans) {
    const auto& last = p["last_job"];
    std::string target = p["source"].is_string() ? p["source"].get<std::string>() : text(p["repository"]);
    rows.push_back({text(p["name"]), text(p["kind"]), target, text(p["schedule"]), p.value("paused", false) ? "paused" : "",
                    time_cell(p["next_due"]), last.is_null() ? "-" : text(last["state"]) + " #" + text(last["id"])});
  }
  print_table({"Plan", "Kind", "Source/repository", "Schedule", "Paused", "Next run", "Last job"}, rows);
}

std::string duration_cell(const nlohmann::json& j) {
  return j["duration_s"].is_number() ? human_duration(j["duration_s"].get<double>()) : "-";
}

// The width the table must fit: the terminal's, or $COLUMNS when standard output is not one; 0
// (no limit) for a pipe without $COLUMNS, so that scripts get whole lines.
size_t output_columns() {
  winsize ws{};
  if (::isatty(STDOUT_FILENO) && ::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  const char* env = std::getenv("COLUMNS");
  size_t n = 0;
  if (env && *env) std::from_chars(env, env + std::strlen(env), n);
  return n;
}

// `s` cut to at most `width` terminal columns, ending in "…" when cut (whole UTF-8 characters).
std::string cut_to_width(const std::string& s, size_t width) {
  if (display_width(s) <= width) return s;
  std::string out;
  size_t used = 0;
  for (size_t i = 0; i < s.size();) {
    size_t len = 1;
    while (i + len < s.size() && (static_cast<unsigned char>(s[i + len]) & 0xC0) == 0x80) len++;
    if (used + 1 > width - 1) break;  // one column stays for the ellipsis
    out.append(s, i, len);
    used++;
    i += len;
  }
  return out + "…";
}

void print_jobs(const nlohmann::json& jobs) {
  const std::vector<std::string> header{"ID", "Plan", "Kind", "State", "Trigger", "Created (UTC)", "Duration", "Reason"};
  std::vector<std::vector<std::string>> rows;
  for (const auto& j : jobs["jobs"])
    rows.push_back({text(j["id"]), text(j["plan"]), text(j["kind"]), text(j["state"]), text(j["trigger"]),
                    time_cell(j["created_at"]), duration_cell(j), j["reason"].is_null() ? "" : text(j["reason"])});
  // Reasons can be long (a whole error message): the last column gets what the terminal has left
  // (at least its title's width); `arca jobs show ID` and --json keep them whole.
  bool cut = false;
  if (size_t columns = output_columns(); columns > 0) {
    size_t used = 0;
    for (size_t c = 0; c + 1 < header.size(); c++) {
      size_t w = display_width(header[c]);
      for (const auto& r : rows) w = std::max(w, display_width(r[c]));
      used += w + 2;
    }
    size_t room = std::max(columns > used ? columns - used : 0, display_width(header.back()));
    for (auto& r : rows)
      if (display_width(r.back()) > room) r.back() = cut_to_width(r.back(), room), cut = true;
  }
  print_table(header, rows, {true});
  if (cut) std::cout << "(reasons cut to fit: arca jobs show ID, or --json, has them whole)\n";
  if (!jobs["next_before_id"].is_null())
    std::cout << "more: arca jobs --before-id " << text(jobs["next_before_id"]) << "\n";
}

void print_job(const nlohmann::json& j, const nlohmann::json& events) {
  auto line = [](const char* k, const std::string& v) { std::cout << k << std::string(12 - std::string(k).size(), ' ') << v << "\n"; };
  line("job", text(j["id"]) + " (" + text(j["kind"]) + " of plan " + text(j["plan"]) + ")");
  line("state", text(j["state"]) + (j["reason"].is_null() ? "" : ": " + text(j["reason"])));
  if (!j["source"].is_null()) line("source", text(j["source"]));
  if (!j["repository"].is_null()) line("repository", text(j["repository"]));
  line("trigger", text(j["trigger"]) + (j.value("attempt", 1) > 1 ? " (attempt " + text(j["attempt"]) + ")" : ""));
  line("created", time_cell(j["created_at"]));
  line("started", time_cell(j["started_at"]));
  line("finished", time_cell(j["finished_at"]));
  line("duration", duration_cell(j));
  if (!j["snapshot_id"].is_null()) line("snapshot", text(j["snapshot_id"]));
  if (j.value("bytes_added", 0) > 0) line("added", human_bytes(j["bytes_added"].get<uint64_t>()));
  if (j.value("warnings", 0) > 0) line("warnings", text(j["warnings"]));
  if (events.empty()) return;
  std::cout << "\n";
  for (const auto& e : events) {
    std::string level = text(e["level"]);
    std::cout << time_cell(e["time"]) << "  " << level << std::string(level.size() < 8 ? 8 - level.size() : 0, ' ')
              << text(e["message"]) << "\n";
  }
}

// A parent command that also runs on its own: with a subcommand, that one runs instead.
bool has_subcommand(CLI::App& cmd) { return !cmd.get_subcommands().empty(); }

void register_status(CLI::App& app, GlobalOptions& g) {
  auto* cmd = app.add_subcommand("status", "Where every component stands, from a running server: newest recovery point, "
                                           "live RPO against its objective, last verification, next run");
  auto o = std::make_shared<ClientOptions>();
  add_client_options(*cmd, *o, g);
  set_command(*cmd, [&g, o]() -> int {
    nlohmann::json st = ApiClient(*o).get("/api/v1/status");
    if (g.json) {
      print_json(st);
      return kExitOk;
    }
    return print_status(st);
  });
}

void register_plans(CLI::App& app, GlobalOptions& g) {
  auto* cmd = app.add_subcommand("plans", "A running server's plans (list), or pause|resume|run one");
  cmd->fallthrough();
  auto o = std::make_shared<ClientOptions>();
  add_client_options(*cmd, *o, g);
  set_command(*cmd, [cmd, &g, o]() -> int {
    if (has_subcommand(*cmd)) return run_selected(*cmd);
    nlohmann::json plans = ApiClient(*o).get("/api/v1/plans");
    if (g.json)
      print_json(plans);
    else
      print_plans(plans["plans"]);
    return kExitOk;
  });
  struct Action {
    const char* name;
    const char* help;
  };
  for (Action a : {Action{"pause", "Pause a plan: no scheduled jobs until it is resumed (running ones go on)"},
                   Action{"resume", "Resume a paused plan from its next scheduled time (no catch-up unless it says so)"},
                   Action{"run", "Run a plan now (also when paused); prints the new job's id"}}) {
    auto* sub = cmd->add_subcommand(a.name, a.help);
    auto name = std::make_shared<std::string>();
    sub->add_option("NAME", *name, "The plan's name")->required();
    std::string action = a.name;
    set_command(*sub, [&g, o, name, action] {
      nlohmann::json r = ApiClient(*o).post("/api/v1/plans/" + path_segment(*name) + "/" + action);
      if (g.json)
        print_json(r);
      else if (action == "run")
        std::cout << "plan " << *name << ": job " << text(r["id"]) << " " << text(r["state"]) << "\n";
      else if (!g.quiet)
        std::cout << "plan " << *name << ": " << (r.value("paused", false) ? "paused" : "active") << "\n";
      return kExitOk;
    });
  }
}

void register_jobs(CLI::App& app, GlobalOptions& g) {
  auto* cmd = app.add_subcommand("jobs", "A running server's jobs, newest first (filters: --plan, --state, ...), or "
                                         "show|cancel one");
  cmd->fallthrough();
  auto o = std::make_shared<ClientOptions>();
  add_client_options(*cmd, *o, g);
  auto filters = std::make_shared<std::map<std::string, std::string>>();
  for (const char* f : {"plan", "source", "repository", "kind", "state", "since", "before-id", "limit"})
    cmd->add_option(std::string("--") + f, (*filters)[f],
                    std::string(f) == "state"   ? "Only jobs in this state (SUCCESS, FAILED, RUNNING, ...)"
                    : std::string(f) == "since" ? "Only jobs created at or after this time (RFC 3339 or unix seconds)"
                    : std::string(f) == "limit" ? "At most this many (default 100, at most 1000)"
                    : std::string(f) == "before-id" ? "Jobs older than this id (the next page)"
                                                    : std::string("Only jobs of this ") + f);
  set_command(*cmd, [cmd, &g, o, filters]() -> int {
    if (has_subcommand(*cmd)) return run_selected(*cmd);
    httplib::Params params;
    for (const auto& [k, v] : *filters)
      if (!v.empty()) params.emplace(k == "before-id" ? "before_id" : k, v);
    nlohmann::json jobs = ApiClient(*o).get("/api/v1/jobs", params);
    if (g.json)
      print_json(jobs);
    else
      print_jobs(jobs);
    return kExitOk;
  });

  auto* show = cmd->add_subcommand("show", "One job with its events");
  auto show_id = std::make_shared<int64_t>(0);
  show->add_option("ID", *show_id, "The job's id")->required();
  set_command(*show, [&g, o, show_id] {
    ApiClient api(*o);
    std::string path = "/api/v1/jobs/" + std::to_string(*show_id);
    nlohmann::json job = api.get(path);
    nlohmann::json events = nlohmann::json::array();
    // Events come in pages of at most 1000: follow next_after_seq to the end.
    for (int64_t after = 0;;) {
      nlohmann::json page = api.get(path + "/events", {{"after_seq", std::to_string(after)}});
      for (auto& e : page["events"]) events.push_back(e);
      if (page["events"].empty() || page["next_after_seq"].get<int64_t>() <= after) break;
      after = page["next_after_seq"].get<int64_t>();
    }
    if (g.json) {
      job["events"] = events;
      print_json(job);
    } else {
      print_job(job, events);
    }
    return kExitOk;
  });

  auto* cancel = cmd->add_subcommand("cancel", "Cancel a pending or running job (exit 16 when it already ended)");
  auto cancel_id = std::make_shared<int64_t>(0);
  cancel->add_option("ID", *cancel_id, "The job's id")->required();
  set_command(*cancel, [&g, o, cancel_id] {
    nlohmann::json r = ApiClient(*o).post("/api/v1/jobs/" + std::to_string(*cancel_id) + "/cancel");
    if (g.json)
      print_json(r);
    else if (!g.quiet)
      std::cout << "job " << text(r["id"]) << ": " << text(r["state"]) << "\n";
    return kExitOk;
  });
}

}  // namespace

void register_server_clients(CLI::App& app, GlobalOptions& g) {
  register_status(app, g);
  register_plans(app, g);
  register_jobs(app, g);
}

}  // namespace arca
