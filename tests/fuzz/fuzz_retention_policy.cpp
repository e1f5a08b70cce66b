// A retention policy file (`arca forget --policy FILE`), applied to a few recovery points; inputs
// that start with '~' are a calendar span ("30d", "1y6mo") instead. Policy errors are Usage.
#include "fuzz.h"
#include "repo/retention.h"
#include "repo/retention_plan.h"

static const std::vector<arca::Snapshot>& points() {
  static std::vector<arca::Snapshot> s = [] {
    std::vector<arca::Snapshot> v;
    const char* times[] = {"2024-01-01T00:00:00Z",           "2024-02-29T23:59:59Z", "2024-03-01T12:00:00Z",
                           "2025-06-15T08:30:00.123456789Z", "1970-01-01T00:00:00Z", "2262-04-11T23:47:16Z"};
    int n = 0;
    for (const char* t : times) {
      arca::Snapshot p;
      p.id.b[0] = uint8_t(++n);
      p.time = t;
      p.host = n % 2 ? "web" : "db";
      p.source_kind = n % 3 ? "files" : "postgres";
      p.paths = {"/srv"};
      p.tags = {n % 2 ? "daily" : "monthly"};
      v.push_back(p);
    }
    return v;
  }();
  return s;
}

ARCA_FUZZ_TARGET(data, size) {
  if (size > 0 && data[0] == '~') {
    arca::CalendarSpan s = arca::parse_span(arca_fuzz::text(data + 1, size - 1));
    (void)arca::subtract_span(1'700'000'000, s);
    (void)s.str();
    return;
  }
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(data, data + size);
  } catch (const nlohmann::json::exception&) {
    return;  // `forget --policy` refuses invalid JSON with Usage before parsing the policy
  }
  arca::RetentionConfig cfg = arca::parse_retention_config(j, "policy file fuzz.json");
  arca::RetentionPlan plan =
      arca::plan_retention(points(), cfg, {}, 1'750'000'000);  // 2025: one point is in the future
  (void)plan.removed();
  for (const auto& r : cfg.rules) (void)r.keep.describe(), (void)r.describe_match();
}
