// `arca kafka restore`: flags and printing; the replay is ops::kafka_restore.
#include <fstream>
#include <iostream>

#include "cli/cli_job.h"
#include "cli/kafka_cli.h"
#include "ops/error_table.h"
#include "ops/kafka_restore.h"
#include "repo/config.h"
#include "util/clock.h"

namespace arca {

namespace {

int64_t time_ms(const std::string& s, const char* flag) {
  auto t = parse_time(s);
  // Years 1..9999 only: "…T10:00:1e300Z" parses as a number of seconds that no int64 of
  // milliseconds holds, and converting it would be undefined behaviour.
  if (!t || !(*t >= -62135596800.0 && *t < 253402300800.0))
    throw Error(ErrorKind::Usage,
                std::string(flag) + " '" + s + "': give a time like 2026-12-01T10:00:00Z (years 1 to 9999)");
  return int64_t(*t * 1000);
}

void print_summary(const ops::KafkaRestoreOpResult& r, const std::string& map_file) {
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
  if (!map_file.empty()) std::cout << "  offset map written to " << map_file << "\n";
}

}  // namespace

void register_kafka_restore(CLI::App& kafka, GlobalOptions& g) {
  auto* cmd = kafka.add_subcommand("restore",
                                   "Replay archived records into a topic (idempotent producer) and restore "
                                   "consumer-group offsets translated to the new offsets");
  add_global_options(*cmd, g);
  auto o = std::make_shared<ops::KafkaRestoreRequest>();
  auto from_time = std::make_shared<std::string>(), to_time = std::make_shared<std::string>(),
       map_file = std::make_shared<std::string>();
  auto no_groups = std::make_shared<bool>(false);
  cmd->add_option("snapshot", o->snapshot, "Recovery point (snapshot id or 'latest')")->capture_default_str();
  cmd->add_option("--source", o->source, "With 'latest': the newest recovery point of this source name");
  add_kafka_cluster_options(*cmd, o->kafka);
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
    ops::KafkaRestoreOpResult r;
    {
      CliJob job(g);
      job.show_progress("kafka restore", "records");
      r = ops::kafka_restore(*repo, *o, job.ctx());
    }
    if (!map_file->empty()) {
      std::ofstream f(*map_file);
      f << r.offset_map.dump(1) << "\n";
      if (!f) throw Error(ErrorKind::Io, "cannot write the offset map to " + *map_file);
    }
    for (const auto& w : r.warnings)
      if (!g.quiet && !g.json) std::cerr << "warning: " << w << "\n";
    if (g.json)
      print_json(r.to_json());
    else if (!g.quiet)
      print_summary(r, *map_file);
    return kExitOk;
  });
}

}  // namespace arca
