// `arca kafka`: topic archives (one-shot or continuous), replay restores (cmd_kafka_restore.cpp),
// verification of the archive. Flags and printing; the work is in ops/kafka_*.h.
#include <iostream>

#include "cli/cli_job.h"
#include "cli/commands.h"
#include "cli/kafka_cli.h"
#include "ops/error_table.h"
#include "ops/kafka_backup.h"
#include "ops/kafka_verify.h"
#include "repo/config.h"
#include "util/clock.h"

namespace arca {

namespace {

// A continuous archive's progress lines on stderr, timestamped (JSON lines with --json: stdout
// holds the result); other events as every command prints them.
class KafkaLogEvents : public EventSink {
 public:
  explicit KafkaLogEvents(const GlobalOptions& g) : g_(g), others_(g.quiet, false) {}
  void emit(const Event& e) override {
    if (e.code != "kafka.backup.progress") return others_.emit(e);
    if (g_.json)
      std::cerr << nlohmann::json{{"time", now_rfc3339()}, {"event", e.message}}.dump() << std::endl;
    else if (!g_.quiet)
      std::cerr << now_rfc3339().substr(0, 19) << " arca kafka backup: " << e.message << std::endl;
  }

 private:
  const GlobalOptions& g_;
  StderrEvents others_;
};

void register_kafka_backup(CLI::App& kafka, GlobalOptions& g) {
  auto* cmd = kafka.add_subcommand("backup",
                                   "Archive the records of matching topics (and consumer-group offsets); with "
                                   "--continuous, keep archiving until stopped with SIGINT/SIGTERM");
  add_global_options(*cmd, g);
  auto o = std::make_shared<ops::KafkaBackupRequest>();
  add_kafka_cluster_options(*cmd, o->kafka);
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
    ops::KafkaBackupOpResult r;
    {
      KafkaLogEvents events(g);
      CliJob job(g);
      job.ctx().events = &events;
      if (!o->continuous) job.show_progress("kafka backup", "records");
      r = ops::kafka_backup(*repo, *o, job.ctx());
    }
    const Snapshot& s = r.last;
    if (report_saved_snapshot(g, s, r.to_json())) {
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

void print_verify(const ops::KafkaVerifyOpResult& r) {
  std::cout << "verify of kafka recovery point " << r.snapshot.id.short_hex() << " (" << r.snapshot.source_name
            << "): " << (r.passed() ? "PASSED" : "FAILED") << ", " << r.records << " records, " << human_bytes(r.bytes)
            << " in " << human_duration(r.duration_s) << "\n";
  std::vector<std::vector<std::string>> rows;
  for (const auto& p : r.partitions)
    rows.push_back({p.topic, std::to_string(p.partition), std::to_string(p.records), std::to_string(p.segments),
                    p.first < 0 ? "-" : std::to_string(p.first) + ".." + std::to_string(p.last),
                    p.passed ? "ok" : "FAILED: " + p.problem});
  print_table({"Topic", "Partition", "Records", "Segments", "Offsets", "Status"}, rows,
              {false, true, true, true, false, false});
}

void register_kafka_verify(CLI::App& kafka, GlobalOptions& g) {
  auto* cmd = kafka.add_subcommand("verify",
                                   "Check every archived segment against the counts and checksums recorded at "
                                   "backup time. Exit 12 if one differs");
  add_global_options(*cmd, g);
  auto o = std::make_shared<ops::KafkaVerifyRequest>();
  cmd->add_option("snapshot", o->snapshot, "Recovery point (snapshot id or 'latest')")->capture_default_str();
  cmd->add_option("--source", o->source, "With 'latest': the newest recovery point of this source name");
  set_command(*cmd, [&g, o] {
    auto repo = open_repository(g);
    ops::KafkaVerifyOpResult r;
    {
      CliJob job(g);
      job.show_progress("kafka verify", "records");
      r = ops::kafka_verify(*repo, *o, job.ctx());
    }
    if (g.json)
      print_json(r.to_json());
    else if (!g.quiet)
      print_verify(r);
    return r.passed() ? kExitOk : kExitCorrupt;
  });
}

}  // namespace

void add_kafka_cluster_options(CLI::App& cmd, KafkaOptions& k) {
  cmd.add_option("--brokers", k.brokers, "Bootstrap brokers host:port[,host:port…]")->required();
  cmd.add_option("-X,--kafka-option", k.properties,
                 "librdkafka setting NAME=VALUE (security.protocol, sasl.*, ssl.*…); repeatable")
      ->allow_extra_args(false);
  cmd.add_option("--kafka-timeout", k.timeout_ms, "Milliseconds to wait for metadata and admin answers")
      ->capture_default_str();
}

void register_kafka(CLI::App& app, GlobalOptions& g) {
  auto* kafka =
      app.add_subcommand("kafka", "Kafka: topic archives, replay restores with offset translation, verification");
  kafka->require_subcommand(1);
  register_kafka_backup(*kafka, g);
  register_kafka_restore(*kafka, g);
  register_kafka_verify(*kafka, g);
}

}  // namespace arca
