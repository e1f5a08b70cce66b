// `arca kafka`: topic archives (one-shot or continuous), replay restores with offset translation
// for consumer groups, verification of the archive.
#include <signal.h>

#include <atomic>
#include <fstream>
#include <iostream>

#include "cli/commands.h"
#include "ops/error_table.h"
#include "cli/progress_display.h"
#include "repo/config.h"
#include "sources/kafka/kafka_backup.h"
#include "sources/kafka/kafka_restore.h"
#include "sources/kafka/kafka_verify.h"
#include "util/error.h"

namespace arca {

namespace {

std::atomic<bool> g_stop{false};

void add_cluster_options(CLI::App& cmd, KafkaOptions& k) {
  cmd.add_option("--brokers", k.brokers, "Bootstrap brokers host:port[,host:port…]")->required();
  cmd.add_option("-X,--kafka-option", k.properties,
                 "librdkafka setting NAME=VALUE (security.protocol, sasl.*, ssl.*…); repeatable")
      ->allow_extra_args(false);
  cmd.add_option("--kafka-timeout", k.timeout_ms, "Milliseconds to wait for metadata and admin answers")
      ->capture_default_str();
}

int64_t time_ms(const std::string& s, const char* flag) {
  auto t = parse_time(s);
  // Years 1..9999 only: "…T10:00:1e300Z" parses as a number of seconds that no int64 of
  // milliseconds holds, and converting it would be undefined behaviour.
  if (!t || !(*t >= -62135596800.0 && *t < 253402300800.0))
    throw Error(ErrorKind::Usage,
                std::string(flag) + " '" + s + "': give a time like 2026-12-01T10:00:00Z (years 1 to 9999)");
  return int64_t(*t * 1000);
}

void register_kafka_backup(CLI::App& kafka, GlobalOptions& g) {
  auto* cmd = kafka.add_subcommand("backup",
                                   "Archive the records of matching topics (and consumer-group offsets); with "
                                   "--continuous, keep archiving until stopped with SIGINT/SIGTERM");
  add_global_options(*cmd, g);
  auto o = std::make_shared<KafkaBackupOptions>();
  add_cluster_options(*cmd, o->kafka);
  cmd->add_option("--topics", o->topics, "Regular expression on topic names")->capture_default_str();
  cmd->add_option("--group", o->groups, "Record this consumer group's committed offsets; repeatable")
      ->allow_extra_args(false);
  cmd->add_option("--groups", o->groups_regex,
                  "Record the groups matching this regular expression (needs ListConsumerGroups)");
  cmd->add_option("--name", o->name, "Source name for these recovery points (default: kafka-<first broker>)");
  add_tags_option(*cmd, "--tag", o->tags, "Tag the recovery points (a,b is two tags; repeatable)");
  host_option(cmd->add_option("--host", o->host, "Host name to record (default: this machine's)"));
  cmd->add_flag("--continuous", o->continuous, "Keep archiving; write a recovery point every --interval");
  cmd->add_option("--interval", o->interval_s,
                  "Seconds between recovery points with --continuous (the recovery point lag)")
      ->capture_default_str()
      ->check(CLI::Range(0.2, 86400.0));
  cmd->add_option("--start", o->start, "Where partitions never archived before start: earliest or latest")
      ->capture_default_str();
  cmd->add_option("--stall-timeout", o->stall_timeout_s,
                  "One-shot: seconds without progress before stopping with what was archived (exit 3)")
      ->capture_default_str();
  cmd->add_option("--admin-timeout", o->admin_timeout_ms,
                  "Milliseconds to wait for DescribeConfigs and ListConsumerGroups")
      ->capture_default_str();
  cmd->add_option("--threads", o->threads, "Worker threads (default: number of cores)")->check(CLI::Range(1, 256));
  set_command(*cmd, [&g, o] {
    auto repo = open_repository(g);
    struct sigaction sa {};
    sa.sa_handler = [](int) { g_stop = true; };
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    auto log = [&g](const std::string& m) {
      if (g.json)
        std::cerr << nlohmann::json{{"time", now_rfc3339()}, {"event", m}}.dump() << std::endl;  // stdout: the result
      else if (!g.quiet)
        std::cerr << now_rfc3339().substr(0, 19) << " arca kafka backup: " << m << std::endl;
    };
    ProgressCounters progress;
    KafkaBackupResult r;
    {
      ProgressDisplay display(progress, "kafka backup", "records", show_progress(g) && !o->continuous);
      r = kafka_backup(*repo, *o, progress, g_stop, log);
    }
    const Snapshot& s = r.last;
    if (report_saved_snapshot(g, s,
                              {{"recovery_points", r.recovery_points},
                               {"records_this_run", r.records},
                               {"bytes_this_run", r.bytes},
                               {"resumed_partitions", r.resumed_partitions}})) {
      std::cout << "kafka recovery point " << s.id.short_hex() << " saved (" << s.source_name << "): " << r.records
                << " new records (" << human_bytes(r.bytes) << ")" << (r.resumed_partitions ? ", resumed" : "") << "; "
                << s.metadata["records"]["value"].get<uint64_t>() << " records in "
                << s.metadata["topics"]["value"].size() << " topic(s) archived in total";
      if (r.recovery_points.size() > 1) std::cout << "; " << r.recovery_points.size() << " recovery points written";
      std::cout << "\n";
    }
    return r.partial ? kExitPartial : kExitOk;
  });
}

void register_kafka_restore(CLI::App& kafka, GlobalOptions& g) {
  auto* cmd = kafka.add_subcommand("restore",
                                   "Replay archived records into a topic (idempotent producer) and restore "
                                   "consumer-group offsets translated to the new offsets");
  add_global_options(*cmd, g);
  auto o = std::make_shared<KafkaRestoreOptions>();
  auto from_time = std::make_shared<std::string>(), to_time = std::make_shared<std::string>(),
       map_file = std::make_shared<std::string>();
  auto no_groups = std::make_shared<bool>(false);
  cmd->add_option("snapshot", o->snapshot, "Recovery point (snapshot id or 'latest')")->capture_default_str();
  cmd->add_option("--source", o->source, "With 'latest': the newest recovery point of this source name");
  add_cluster_options(*cmd, o->kafka);
  cmd->add_option("--topic", o->topics, "Archived topic to replay; repeatable (default: all)")->allow_extra_args(false);
  cmd->add_option("--to-topic", o->to_topic, "Replay into this topic (with one --topic)");
  cmd->add_option("--topic-prefix", o->topic_prefix, "Replay each topic into <prefix><topic>");
  cmd->add_option("--partition", o->partitions, "Only this partition; repeatable")->allow_extra_args(false);
  cmd->add_option("--from-offset", o->from_offset, "First offset to replay (per partition)");
  cmd->add_option("--to-offset", o->to_offset, "Last offset to replay (inclusive)");
  cmd->add_option("--from-time", *from_time, "Replay records with timestamps from this time (RFC 3339)");
  cmd->add_option("--to-time", *to_time, "... up to this time (inclusive)");
  cmd->add_flag(
      "--remap-partitions", o->remap_partitions,
      "Allow a target topic with fewer partitions: partition p goes to p mod n (key order per partition is kept)");
  cmd->add_option("--replication-factor", o->replication_factor,
                  "For topics the restore creates (default: the recorded one)");
  cmd->add_flag("--no-groups", *no_groups, "Do not restore consumer-group offsets");
  cmd->add_option("--group", o->groups, "Restore only this group's offsets; repeatable")->allow_extra_args(false);
  cmd->add_option("--group-prefix", o->group_prefix, "Commit the translated offsets under <prefix><group>");
  cmd->add_option("--offset-map", *map_file, "Write the old → new offset map (JSON) to this file");
  set_command(*cmd, [&g, o, from_time, to_time, map_file, no_groups] {
    if (!from_time->empty()) o->from_time_ms = time_ms(*from_time, "--from-time");
    if (!to_time->empty()) o->to_time_ms = time_ms(*to_time, "--to-time");
    o->restore_groups = !*no_groups;
    auto repo = open_repository(g);
    ProgressCounters progress;
    KafkaRestoreResult r;
    {
      ProgressDisplay display(progress, "kafka restore", "records", show_progress(g));
      r = kafka_restore(*repo, *o, progress);
    }
    if (!map_file->empty()) {
      std::ofstream f(*map_file);
      f << r.offset_map.dump(1) << "\n";
      if (!f) throw Error(ErrorKind::Io, "cannot write the offset map to " + *map_file);
    }
    for (const auto& w : r.warnings)
      if (!g.quiet && !g.json) std::cerr << "warning: " << w << "\n";
    if (g.json) {
      print_json({{"records", r.records},
                  {"bytes", r.bytes},
                  {"duration_s", r.duration_s},
                  {"offset_map", r.offset_map},
                  {"groups", r.groups},
                  {"created_topics", r.created_topics},
                  {"warnings", r.warnings}});
    } else if (!g.quiet) {
      std::cout << "replayed " << r.records << " records (" << human_bytes(r.bytes) << ") in "
                << human_duration(r.duration_s);
      for (const auto& [t, m] : r.offset_map.items()) std::cout << "; " << t << " → " << m["target"].get<std::string>();
      std::cout << "\n";
      for (const auto& t : r.created_topics) std::cout << "  created topic " << t << "\n";
      for (const auto& [grp, topics] : r.groups.items()) {
        size_t n = 0;
        for (const auto& [_, parts] : topics.items()) n += parts.size();
        std::cout << "  group " << grp << ": " << n << " partition offsets translated and committed\n";
      }
      if (!map_file->empty()) std::cout << "  offset map written to " << *map_file << "\n";
    }
    return kExitOk;
  });
}

void register_kafka_verify(CLI::App& kafka, GlobalOptions& g) {
  auto* cmd = kafka.add_subcommand("verify",
                                   "Check every archived segment against the counts and checksums recorded at "
                                   "backup time. Exit 12 if one differs");
  add_global_options(*cmd, g);
  auto snapshot = std::make_shared<std::string>("latest"), source = std::make_shared<std::string>();
  cmd->add_option("snapshot", *snapshot, "Recovery point (snapshot id or 'latest')")->capture_default_str();
  cmd->add_option("--source", *source, "With 'latest': the newest recovery point of this source name");
  set_command(*cmd, [&g, snapshot, source] {
    auto repo = open_repository(g);
    ProgressCounters progress;
    KafkaVerifyResult r;
    {
      ProgressDisplay display(progress, "kafka verify", "records", show_progress(g));
      r = kafka_verify(*repo, *snapshot, *source, progress);
    }
    bool ok = r.passed();
    if (g.json) {
      nlohmann::json parts = nlohmann::json::array();
      for (const auto& p : r.partitions)
        parts.push_back({{"topic", p.topic},
                         {"partition", p.partition},
                         {"records", p.records},
                         {"segments", p.segments},
                         {"first_offset", p.first},
                         {"last_offset", p.last},
                         {"passed", p.passed},
                         {"problem", p.problem}});
      print_json({{"snapshot", r.snapshot.id.hex()},
                  {"passed", ok},
                  {"records", r.records},
                  {"bytes", r.bytes},
                  {"duration_s", r.duration_s},
                  {"partitions", parts}});
    } else if (!g.quiet) {
      std::cout << "verify of kafka recovery point " << r.snapshot.id.short_hex() << " (" << r.snapshot.source_name
                << "): " << (ok ? "PASSED" : "FAILED") << ", " << r.records << " records, " << human_bytes(r.bytes)
                << " in " << human_duration(r.duration_s) << "\n";
      std::vector<std::vector<std::string>> rows;
      for (const auto& p : r.partitions)
        rows.push_back({p.topic, std::to_string(p.partition), std::to_string(p.records), std::to_string(p.segments),
                        p.first < 0 ? "-" : std::to_string(p.first) + ".." + std::to_string(p.last),
                        p.passed ? "ok" : "FAILED: " + p.problem});
      print_table({"Topic", "Partition", "Records", "Segments", "Offsets", "Status"}, rows,
                  {false, true, true, true, false, false});
    }
    return ok ? kExitOk : kExitCorrupt;
  });
}

}  // namespace

void register_kafka(CLI::App& app, GlobalOptions& g) {
  auto* kafka =
      app.add_subcommand("kafka", "Kafka: topic archives, replay restores with offset translation, verification");
  kafka->require_subcommand(1);
  register_kafka_backup(*kafka, g);
  register_kafka_restore(*kafka, g);
  register_kafka_verify(*kafka, g);
}

}  // namespace arca
