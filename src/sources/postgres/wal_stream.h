// `arca pg wal-stream`: receives WAL continuously over a physical replication slot, as
// pg_receivewal does, and stores it in the repository's WAL archive: each completed segment
// whole, and the segment being written as pieces every `flush_interval` seconds, so the
// data-loss window is about that interval instead of a segment or archive_timeout.
//
// The slot makes the server keep WAL until Arca has stored it: the position Arca reports back
// as flushed is what is durable in the repository. Connection losses are retried; a restart
// resumes from the end of what the archive holds.
#pragma once
#include <atomic>
#include <functional>
#include <string>

#include "repo/repository.h"
#include "util/job_context.h"

namespace arca {

struct WalStreamOptions {
  std::string conninfo;
  std::string slot = "arca";
  bool create_slot = false;
  double flush_interval = 1.0;          // seconds
  double retry_interval = 5.0;          // seconds between reconnection attempts
  double give_up_after = 0;             // seconds without a connection before failing (0 = never)
  const CancelToken* cancel = nullptr;  // cancelled: ends the stream as `stop` does (stores, returns)
};

struct WalStreamStatus {
  std::atomic<uint64_t> received{0};     // bytes of WAL received
  std::atomic<uint64_t> flushed_lsn{0};  // durable in the repository up to here
  std::atomic<uint64_t> server_lsn{0};   // the server's end of WAL as it last said (0: not yet)
  std::atomic<bool> streaming{false};    // connected, and the server is streaming
  std::atomic<uint64_t> segments{0};     // whole segments stored
  std::atomic<uint64_t> pieces{0};       // pieces stored
  std::atomic<uint64_t> reconnects{0};
  std::atomic<int64_t> last_contact_ns{0};  // steady clock: the server last sent something
};

// Runs until `stop` becomes true (then stores what it has and returns) or an error that retrying
// cannot fix. `log` gets one line per notable event.
void pg_wal_stream(Repository& repo, const WalStreamOptions& opts, WalStreamStatus& status,
                   const std::atomic<bool>& stop, const std::function<void(const std::string&)>& log);

}  // namespace arca
