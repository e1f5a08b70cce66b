// Recovery points dated in the future. A host whose clock is set forward, or anyone holding an
// append-only key, can write a point dated 2099 for a real host and source. Such a point is kept
// (it is evidence) but never anchors retention and is never "latest": otherwise one planted point
// would make an ordinary `forget --keep-within 30d` remove all genuine history and `restore
// latest` restore the planted data. See docs/security.md, "Future-dated recovery points".
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "repo/snapshot.h"

namespace arca {

// How far ahead of this machine's clock a point may be dated and still count as made "now":
// the clock skew tolerated between the backed-up hosts and the machine judging them.
constexpr int64_t kClockSkewSeconds = 300;

// The point's time in whole unix seconds (UTC), or nullopt when its "time" is not a time this
// version understands or lies outside years 1..9999 (e.g. seconds written as "1e300": converting
// that to an integer would be undefined behaviour).
std::optional<int64_t> point_time(const Snapshot& s);

// Why `s` cannot be placed at or before `now` (unix seconds), or "" when it can: "dated
// 2099-01-01T00:00:00Z, 73 years ahead of this machine's clock", or "its time '…' is not a
// valid time". Both count as future-dated everywhere.
std::string future_dated(const Snapshot& s, int64_t now);

// `s` cut to 80 bytes with every byte that is not printable ASCII shown as '?': fields of a
// crafted point quoted in a warning must not drive the terminal.
std::string printable(const std::string& s);

// The newest of `points` that `match` accepts and that is not future-dated (by parsed time; on
// equal times the later in `points` wins). `skipped` receives a sentence for every matching
// future-dated point passed over. nullopt when no matching point qualifies.
std::optional<Snapshot> newest_point(const std::vector<Snapshot>& points,
                                     const std::function<bool(const Snapshot&)>& match, int64_t now,
                                     std::vector<std::string>& skipped);

// Sentences naming each future-dated point of `points` (for check and snapshots).
std::vector<std::pair<Id, std::string>> future_dated_points(const std::vector<Snapshot>& points, int64_t now);

}  // namespace arca
