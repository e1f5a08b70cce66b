// Checks of single configuration values (docs/server.md, "Configuration"): each returns nullopt
// for a good value, else what is wrong and the accepted form, for the loader to report with the
// value's line and field. Pure functions of the text (the time zone looks at the tz database).
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace arca::config::values {

using Problem = std::optional<std::string>;

Problem check_name(const std::string& s);        // [A-Za-z0-9._-]+
Problem check_listen(const std::string& s);      // host:port, [v6]:port
Problem check_host_port(const std::string& s);   // a Kafka broker: host:port
Problem check_cron_shape(const std::string& s);  // 5 fields or @daily etc. (schedule.cpp parses it)
Problem check_time_zone(const std::string& s, const std::string& zoneinfo = "/usr/share/zoneinfo");
Problem check_subset(const std::string& s);      // "5%" or "n/t"
Problem check_share(const std::string& s);       // prune's max-unused: "25%" or "0.25"
Problem check_span(const std::string& s);        // forget's and prune's calendar spans ("30d", "1y6mo")
Problem check_grace(const std::string& s);       // a span or "0"
Problem check_regex(const std::string& s);       // std::regex (ECMAScript), as the Kafka source uses
Problem check_clock_time(const std::string& s);  // "HH:MM"
Problem check_event_name(const std::string& s);  // BACKUP_JOB_FAILED: upper-case words and '_'
Problem check_http_url(const std::string& s);    // http:// or https://

// A password written into a URL's user info ("redis://:pw@host", "s3:https://k:s@host/b").
bool url_has_password(const std::string& s);
// A libpq conninfo with a password (keyword "password=" or a URI with one).
bool conninfo_has_password(const std::string& s);
// A backend option whose name says it holds a secret (s3.secret-key, *password*, *token*).
bool option_is_secret(const std::string& key);

// The known key nearest to `key` (typo, or snake_case for kebab-case), or empty if none is close.
std::string nearest(std::string_view key, const std::vector<std::string_view>& known);

}  // namespace arca::config::values
