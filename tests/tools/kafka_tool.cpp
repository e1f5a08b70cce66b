// Test helper for the Kafka end-to-end tests and benchmarks, a separate process from arca:
//   kafka_tool mock -f FILE [-b BROKERS] [-t TOPIC:PARTITIONS[:RF]]… [-k BROKER_ID]
//       runs librdkafka's mock cluster (real Kafka protocol over TCP on 127.0.0.1) until SIGTERM;
//       writes the bootstrap list to FILE; SIGUSR1 takes broker -k (the leader of every topic's
//       partition 0) down, SIGUSR2 brings it up; each prints "broker N down|up" on stderr.
//   kafka_tool produce BOOTSTRAP TOPIC COUNT [FIRST] [VALUE_BYTES]
//       deterministic records numbered FIRST…: keys (some null), values (some null: tombstones),
//       headers (one with a null value), explicit CreateTime timestamps; keyed partitioning.
//   kafka_tool dump BOOTSTRAP TOPIC [--offsets]
//       every record, one line each, sorted by partition then offset: partition, [offset,]
//       timestamp type and value, key, value SHA-256, headers — to compare two topics.
//   kafka_tool get BOOTSTRAP TOPIC PARTITION OFFSET      the record at an offset, as dump prints it
//   kafka_tool commit BOOTSTRAP GROUP TOPIC P=OFFSET…    commits offsets for a group (not joining it)
//   kafka_tool committed BOOTSTRAP GROUP TOPIC PARTITIONS  prints "partition offset" lines
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <openssl/sha.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <vector>

namespace {

volatile sig_atomic_t g_stop = 0, g_down = 0, g_up = 0;

[[noreturn]] void die(const std::string& msg) {
  std::cerr << "kafka_tool: " << msg << "\n";
  std::exit(1);
}

rd_kafka_t* client(rd_kafka_type_t type, const std::string& bootstrap,
                   const std::map<std::string, std::string>& extra = {}) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[512];
  std::map<std::string, std::string> all = {{"bootstrap.servers", bootstrap}, {"log_level", "3"}};
  for (const auto& [k, v] : extra) all[k] = v;
  for (const auto& [k, v] : all)
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) die(k + ": " + err);
  rd_kafka_t* rk = rd_kafka_new(type, conf, err, sizeof err);
  if (!rk) die(err);
  return rk;
}

int mock(int argc, char** argv) {
  int brokers = 3, toggle = 1;
  std::string file;
  std::vector<std::string> topics;
  for (int i = 2; i < argc; i++) {
    std::string a = argv[i];
    if (i + 1 >= argc) die("missing value for " + a);
    if (a == "-b")
      brokers = std::atoi(argv[++i]);
    else if (a == "-t")
      topics.push_back(argv[++i]);
    else if (a == "-f")
      file = argv[++i];
    else if (a == "-k")
      toggle = std::atoi(argv[++i]);
    else
      die("unknown option " + a);
  }
  rd_kafka_t* rk = client(RD_KAFKA_PRODUCER, "", {{"bootstrap.servers", ""}});
  rd_kafka_mock_cluster_t* mc = rd_kafka_mock_cluster_new(rk, brokers);
  if (!mc) die("cannot start the mock cluster");
  for (const auto& t : topics) {
    std::string name = t.substr(0, t.find(':'));
    int parts = 1, rf = 1;
    std::sscanf(t.c_str() + name.size(), ":%d:%d", &parts, &rf);
    rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(mc, name.c_str(), parts, std::min(rf, brokers));
    if (e) die("creating " + name + ": " + rd_kafka_err2str(e));
    // The broker SIGUSR1 takes down leads partition 0 of every topic, so that taking it down
    // always stalls something (the mock's own choice of leaders varies).
    rd_kafka_mock_partition_set_leader(mc, name.c_str(), 0, toggle);
  }
  std::string bs = rd_kafka_mock_cluster_bootstraps(mc);
  if (!file.empty()) {
    std::ofstream(file + ".tmp") << bs << "\n";
    std::rename((file + ".tmp").c_str(), file.c_str());
  }
  struct sigaction sa {};
  sa.sa_handler = [](int s) {
    if (s == SIGUSR1)
      g_down = 1;
    else if (s == SIGUSR2)
      g_up = 1;
    else
      g_stop = 1;
  };
  for (int s : {SIGINT, SIGTERM, SIGUSR1, SIGUSR2}) sigaction(s, &sa, nullptr);
  while (!g_stop) {
    if (g_down) {
      g_down = 0;
      std::cerr << "mock: broker " << toggle << " down: " << rd_kafka_err2str(rd_kafka_mock_broker_set_down(mc, toggle))
                << "\n";
    }
    if (g_up) {
      g_up = 0;
      std::cerr << "mock: broker " << toggle << " up: " << rd_kafka_err2str(rd_kafka_mock_broker_set_up(mc, toggle))
                << "\n";
    }
    usleep(20'000);
  }
  rd_kafka_mock_cluster_destroy(mc);
  rd_kafka_destroy(rk);
  return 0;
}

int produce(int argc, char** argv) {
  if (argc < 5) die("produce BOOTSTRAP TOPIC COUNT [FIRST] [VALUE_BYTES]");
  long count = std::atol(argv[4]), first = argc > 5 ? std::atol(argv[5]) : 0,
       vbytes = argc > 6 ? std::atol(argv[6]) : 40;
  rd_kafka_t* rk = client(RD_KAFKA_PRODUCER, argv[2],
                          {{"enable.idempotence", "true"}, {"linger.ms", "5"}, {"message.timeout.ms", "120000"}});
  std::string pad(size_t(std::max(0L, vbytes)), 'x');
  int64_t base = 1'700'000'000'000;
  for (long n = first; n < first + count; n++) {
    std::string key = "key-" + std::to_string(n % 97), value = "value-" + std::to_string(n) + "-" + pad;
    for (size_t i = 0; i < value.size(); i += 7) value[i] = char('a' + (n + i) % 26);
    bool null_key = n % 17 == 0, null_value = n % 29 == 0;
    rd_kafka_headers_t* h = rd_kafka_headers_new(3);
    std::string seq = std::to_string(n);
    rd_kafka_header_add(h, "seq", -1, seq.data(), ssize_t(seq.size()));
    if (n % 3 == 0) rd_kafka_header_add(h, "trace", -1, "\x00\x01\xff", 3);
    if (n % 5 == 0) rd_kafka_header_add(h, "empty", -1, nullptr, 0);
    while (true) {
      rd_kafka_resp_err_t e =
          rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(argv[3]), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                            RD_KAFKA_V_KEY(null_key ? nullptr : key.data(), null_key ? 0 : key.size()),
                            RD_KAFKA_V_VALUE(null_value ? nullptr : value.data(), null_value ? 0 : value.size()),
                            RD_KAFKA_V_TIMESTAMP(base + n * 10), RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_END);
      if (!e) break;
      if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) die(std::string("produce: ") + rd_kafka_err2str(e));
      rd_kafka_poll(rk, 50);
    }
    rd_kafka_poll(rk, 0);
  }
  if (rd_kafka_flush(rk, 120'000) != RD_KAFKA_RESP_ERR_NO_ERROR) die("flush timed out");
  rd_kafka_destroy(rk);
  return 0;
}

std::string hex(const void* p, size_t n) {
  static const char* d = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; i++) {
    uint8_t b = static_cast<const uint8_t*>(p)[i];
    s += d[b >> 4];
    s += d[b & 15];
  }
  return s;
}

std::string line(const rd_kafka_message_t* m, bool offsets) {
  std::string s = std::to_string(m->partition) + "\t";
  if (offsets) s += std::to_string(m->offset) + "\t";
  rd_kafka_timestamp_type_t tt;
  int64_t ts = rd_kafka_message_timestamp(m, &tt);
  s += std::to_string(int(tt)) + ":" + std::to_string(ts) + "\t";
  s += m->key ? hex(m->key, m->key_len) : "NULL";
  s += "\t";
  if (m->payload) {
    uint8_t md[SHA256_DIGEST_LENGTH];
    SHA256(static_cast<const uint8_t*>(m->payload), m->len, md);
    s += hex(md, 16);
  } else {
    s += "NULL";
  }
  rd_kafka_headers_t* h = nullptr;
  if (rd_kafka_message_headers(m, &h) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    const char* name;
    const void* val;
    size_t size;
    for (size_t i = 0; rd_kafka_header_get_all(h, i, &name, &val, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; i++)
      s.append("\t").append(name).append("=").append(val ? hex(val, size) : "NULL");
  }
  return s;
}

int num_partitions(rd_kafka_t* rk, const std::string& topic) {
  const rd_kafka_metadata_t* md;
  rd_kafka_topic_t* t = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
  if (rd_kafka_metadata(rk, 0, t, &md, 10'000)) die("metadata");
  int n = md->topic_cnt ? md->topics[0].partition_cnt : 0;
  rd_kafka_metadata_destroy(md);
  rd_kafka_topic_destroy(t);
  return n;
}

// Records of `topic` (all partitions, or one from `offset`, at most `limit`) in partition/offset order.
std::vector<std::string> read_topic(const std::string& bs, const std::string& topic, bool offsets, int only = -1,
                                    int64_t from = -2, long limit = -1) {
  rd_kafka_t* rk =
      client(RD_KAFKA_CONSUMER, bs,
             {{"group.id", "kafka-tool"}, {"enable.auto.commit", "false"}, {"enable.partition.eof", "true"}});
  int n = num_partitions(rk, topic);
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(n);
  std::map<int, int64_t> high;
  for (int p = 0; p < n; p++) {
    if (only >= 0 && p != only) continue;
    int64_t lo, hi;
    if (rd_kafka_query_watermark_offsets(rk, topic.c_str(), p, &lo, &hi, 10'000)) die("watermarks");
    if (hi <= std::max<int64_t>(lo, from)) continue;
    high[p] = hi;
    rd_kafka_topic_partition_list_add(list, topic.c_str(), p)->offset = from >= 0 ? from : RD_KAFKA_OFFSET_BEGINNING;
  }
  rd_kafka_assign(rk, list);
  std::map<int, std::vector<std::string>> out;
  size_t done = 0, total = high.size();
  while (done < total) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 1000);
    if (!m) continue;
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      if (high.count(m->partition) && m->offset >= high[m->partition]) high.erase(m->partition), done++;
    } else if (m->err) {
      die(std::string("consume: ") + rd_kafka_message_errstr(m));
    } else if (high.count(m->partition)) {
      auto& v = out[m->partition];
      if (limit < 0 || long(v.size()) < limit) v.push_back(line(m, offsets));
      if (m->offset + 1 >= high[m->partition] || (limit >= 0 && long(v.size()) >= limit))
        high.erase(m->partition), done++;
    }
    rd_kafka_message_destroy(m);
  }
  rd_kafka_topic_partition_list_destroy(list);
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  std::vector<std::string> all;
  for (auto& [p, v] : out) all.insert(all.end(), v.begin(), v.end());
  return all;
}

int commit(int argc, char** argv, bool show) {
  if (argc < 6) die("commit|committed BOOTSTRAP GROUP TOPIC …");
  rd_kafka_t* rk = client(RD_KAFKA_CONSUMER, argv[2], {{"group.id", argv[3]}, {"enable.auto.commit", "false"}});
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(8);
  if (show) {
    for (int p = 0; p < std::atoi(argv[5]); p++) rd_kafka_topic_partition_list_add(list, argv[4], p);
    if (rd_kafka_resp_err_t e = rd_kafka_committed(rk, list, 10'000))
      die(std::string("committed: ") + rd_kafka_err2str(e));
    for (int i = 0; i < list->cnt; i++) std::cout << list->elems[i].partition << " " << list->elems[i].offset << "\n";
  } else {
    for (int i = 5; i < argc; i++) {
      int p;
      long long off;
      if (std::sscanf(argv[i], "%d=%lld", &p, &off) != 2) die(std::string("bad P=OFFSET: ") + argv[i]);
      rd_kafka_topic_partition_list_add(list, argv[4], p)->offset = off;
    }
    if (rd_kafka_resp_err_t e = rd_kafka_commit(rk, list, 0)) die(std::string("commit: ") + rd_kafka_err2str(e));
  }
  rd_kafka_topic_partition_list_destroy(list);
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) die("mock|produce|dump|get|commit|committed …");
  std::string cmd = argv[1];
  if (cmd == "mock") return mock(argc, argv);
  if (cmd == "produce") return produce(argc, argv);
  if (cmd == "dump") {
    if (argc < 4) die("dump BOOTSTRAP TOPIC [--offsets]");
    for (const auto& l : read_topic(argv[2], argv[3], argc > 4)) std::cout << l << "\n";
    return 0;
  }
  if (cmd == "get") {
    if (argc < 6) die("get BOOTSTRAP TOPIC PARTITION OFFSET");
    for (const auto& l : read_topic(argv[2], argv[3], true, std::atoi(argv[4]), std::atoll(argv[5]), 1))
      std::cout << l << "\n";
    return 0;
  }
  if (cmd == "commit") return commit(argc, argv, false);
  if (cmd == "committed") return commit(argc, argv, true);
  die("unknown command " + cmd);
}
