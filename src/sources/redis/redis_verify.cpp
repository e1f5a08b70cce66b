#include "sources/redis/redis_verify.h"

#include <fcntl.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <set>

#include "repo/config.h"
#include "sources/redis/redis_restore.h"
#include "sources/redis/redis_server.h"
#include "util/cancel.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/fd.h"
#include "util/io.h"
#include "util/net.h"

namespace arca {

namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

struct Sample {
  uint32_t db;
  std::string key;
  Bytes payload;
};

std::string scratch_dir(const std::string& parent) {
  std::string base = parent.empty() ? (std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp") : parent;
  std::string tmpl = base + "/arca-redis-verify-XXXXXX";
  if (!mkdtemp(tmpl.data())) throw_errno("mkdtemp", tmpl, errno);
  return tmpl;
}

}  // namespace

bool RedisVerifyResult::passed() const {
  return !checks.empty() && std::all_of(checks.begin(), checks.end(), [](const auto& c) { return c.passed; });
}

RedisVerifyResult redis_verify(Repository& repo, const RedisVerifyOptions& opts, ProgressCounters& progress) {
  RedisVerifyResult r;
  r.snapshot = find_redis_snapshot(repo, opts.snapshot, opts.source);
  std::string binary = find_redis_server(opts.redis_server);
  std::string dir = scratch_dir(opts.scratch_parent);
  struct Cleanup {
    std::string dir;
    bool keep;
    ~Cleanup() {
      std::error_code ec;
      if (!keep) fs::remove_all(dir, ec);
    }
  } cleanup{dir, opts.keep};
  if (opts.keep) r.scratch = dir;

  // 1. Restore dump.rdb, parsing it on the way.
  auto t0 = Clock::now();
  int rdb_version = r.snapshot.metadata["rdb_version"]["value"];
  std::map<uint32_t, uint64_t> parsed;
  std::map<uint32_t, std::vector<int64_t>> expiries;  // per database, the keys' expiry times
  std::vector<Sample> samples;
  std::mt19937_64 rng(std::random_device{}());
  uint64_t eligible = 0;
  progress.files_total = r.snapshot.metadata.value("keys", nlohmann::json::object()).value("value", uint64_t(0));
  progress.totals_known = true;
  {
    UniqueFd out(open((dir + "/dump.rdb").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (!out) throw_errno("create", dir + "/dump.rdb", errno);
    try {
      RdbSummary s = parse_snapshot_rdb(
          repo, r.snapshot,
          [&](const RdbKey& k) {
            check_cancel(opts.cancel, "Redis verify");
            progress.files_done++;
            parsed[k.db]++;
            if (k.expire_ms >= 0) {
              expiries[k.db].push_back(k.expire_ms);
              return;
            }
            if (k.type == 6 || k.type == 7) return;  // module values: no digest without the module
            // Reservoir sampling: every key without expiry has the same chance.
            eligible++;
            size_t slot = eligible <= opts.samples ? samples.size() : size_t(rng() % eligible);
            if (slot >= opts.samples) return;
            Sample smp{k.db, k.key, rdb_restore_payload(k.type, *k.value, rdb_version)};
            if (slot == samples.size())
              samples.push_back(std::move(smp));
            else
              samples[slot] = std::move(smp);
          },
          true,
          [&](ByteView d) {
            write_all(out.get(), d, dir + "/dump.rdb");
            progress.bytes_done += d.size();
          });
      r.checks.push_back({"rdb integrity", true,
                          std::to_string(s.bytes) + " bytes, RDB version " + std::to_string(s.version) +
                              (s.checksummed ? ", CRC-64 matches" : ", written without a checksum")});
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::Corrupt) throw;
      r.checks.push_back({"rdb integrity", false, e.what()});
      return r;
    }
  }
  r.restore_s = since(t0);
  auto recorded = recorded_key_counts(r.snapshot);
  {
    std::string detail;
    bool ok = parsed.size() == recorded.size();
    for (const auto& [db, n] : recorded) {
      uint64_t got = parsed.count(db) ? parsed[db] : 0;
      if (got != n) ok = false;
      detail += (detail.empty() ? "" : ", ") + ("db" + std::to_string(db)) + " " + std::to_string(got) +
                (got == n ? "" : " (recorded " + std::to_string(n) + ")");
    }
    r.checks.push_back({"recorded key counts", ok, detail.empty() ? "no keys" : detail});
  }

  // 2. Load it into a scratch server.
  auto t1 = Clock::now();
  int64_t before_ms = now_ms();
  check_cancel(opts.cancel, "Redis verify");
  RedisServer server(binary, dir, free_port());  // stopped by its destructor on a cancel
  server.set_cancel(opts.cancel);
  server.start({"--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--enable-debug-command", "local",
                "--protected-mode", "no"},
               opts.timeout_s);
  r.load_s = since(t1);
  int64_t after_ms = now_ms();

  auto t2 = Clock::now();
  RedisConn c(server.url(), RedisTls{});
  {
    std::map<uint32_t, uint64_t> loaded;
    for (const auto& [db, v] : c.info("keyspace"))
      if (db.rfind("db", 0) == 0 && v.rfind("keys=", 0) == 0)
        loaded[uint32_t(std::stoul(db.substr(2)))] = std::stoull(v.substr(5));
    bool ok = true;
    std::string detail;
    std::set<uint32_t> all;
    for (const auto& [db, n] : parsed) all.insert(db);
    for (const auto& [db, n] : loaded) all.insert(db);
    for (uint32_t db : all) {
      // Keys that expired before the load are dropped by the server; those expiring during it may or may not be.
      uint64_t hi = parsed.count(db) ? parsed[db] : 0, lo = hi;
      for (int64_t e : expiries[db]) {
        if (e <= before_ms)
          hi--, lo--;
        else if (e <= after_ms)
          lo--;
      }
      uint64_t got = loaded.count(db) ? loaded[db] : 0;
      r.keys_loaded += got;
      if (got < lo || got > hi) ok = false;
      detail += (detail.empty() ? "" : ", ") + ("db" + std::to_string(db)) + " " + std::to_string(got) +
                (lo == hi ? (got == lo ? "" : " (expected " + std::to_string(lo) + ")")
                          : " (expected " + std::to_string(lo) + ".." + std::to_string(hi) + ")");
    }
    r.checks.push_back({"loaded key counts", ok, detail.empty() ? "no keys" : detail});
  }
  {
    size_t bad = 0;
    std::string first_bad;
    int64_t db = -1;
    for (size_t i = 0; i < samples.size(); i++) {
      check_cancel(opts.cancel, "Redis verify");
      const auto& s = samples[i];
      if (int64_t(s.db) != db) {
        c.command({"SELECT", std::to_string(s.db)}, "SELECT");
        db = s.db;
      }
      std::string tmp = "__arca_verify_sample__";
      c.command({"RESTORE", tmp, "0", std::string(s.payload.begin(), s.payload.end()), "REPLACE"},
                "RESTORE of a sample");
      RedisReply d = c.command({"DEBUG", "DIGEST-VALUE", s.key, tmp}, "DEBUG DIGEST-VALUE");
      c.command({"DEL", tmp}, "DEL");
      if (d.elements.size() != 2 || d.elements[0].str != d.elements[1].str) {
        if (bad++ == 0) first_bad = s.key;
      }
    }
    r.checks.push_back({"sampled values", bad == 0,
                        std::to_string(samples.size() - bad) + " of " + std::to_string(samples.size()) +
                            " sampled keys identical to the recovery point" +
                            (bad ? "; first different: '" + first_bad + "'" : "")});
  }
  r.checks_s = since(t2);
  server.stop();
  // The age of the newest data in it: the backup's start.
  r.recovery_point_age_s = 0;
  if (auto t = parse_time(r.snapshot.time)) r.recovery_point_age_s = double(now_ms()) / 1000 - *t;
  return r;
}

}  // namespace arca
