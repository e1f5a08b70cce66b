// The wall clock: the current time (as RFC 3339 text and as unix seconds) and parsing the times
// Arca writes and accepts. Every layer uses these (recovery point times, locks, logs).
#pragma once
#include <cstdint>
#include <optional>
#include <string>

namespace arca {

// Now, UTC, with microseconds: "2026-11-25T15:38:54.123456Z".
std::string now_rfc3339();
// A unix time as "2026-11-25T15:38:54Z" (with `millis`: "…:54.123Z"); "" for 0, for a value
// that is not finite or outside years 1..9999 (so the text always sorts as time).
std::string rfc3339_utc(double unix_seconds, bool millis = false);
// The current time of this machine, in unix seconds.
int64_t clock_now();
// The same with its fraction (the catalog's, the drills' and the server's event times).
double clock_now_s();
// Seconds since the epoch for "YYYY-MM-DD[T ]HH:MM:SS[.frac]" followed by Z, UTC or ±HH[:MM];
// nullopt for anything else (a time without a zone is ambiguous) and for a field out of range
// (2026-12-32, 2026-02-29, 24:00:00).
std::optional<double> parse_time(const std::string& s);
// The same time as "YYYY-MM-DDTHH:MM:SS[.frac]Z" (the fraction kept as written), so that text
// shown, sorted and compared is UTC: "2026-12-07T23:00:00+22:00" -> "2026-12-07T01:00:00Z".
// `s` unchanged when parse_time rejects it or it lies outside years 1..9999.
std::string utc_time(const std::string& s);

}  // namespace arca
