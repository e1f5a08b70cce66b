#include "sources/postgres/wal_batch.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <mutex>

#include "crypto/hash.h"
#include "util/error.h"
#include "util/fd.h"
#include "util/io.h"
#include "util/parallel_for.h"

namespace arca {

std::string default_push_spool(const std::string& wal_dir, const std::string& repository) {
  return wal_dir + "/arca-pushed/" + sha256(as_view(repository)).hex().substr(0, 16);
}

bool take_pushed_marker(const std::string& spool, const std::string& file) {
  return unlink((spool + "/" + file).c_str()) == 0;
}

size_t push_ready_segments(WalArchive& archive, const std::string& wal_dir, const std::string& spool,
                           const std::string& except, unsigned count, unsigned threads,
                           std::vector<std::string>& warnings) {
  std::vector<std::string> ready;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(wal_dir + "/archive_status", ec)) {
    std::string n = e.path().filename().string();
    if (n.size() <= 6 || n.compare(n.size() - 6, 6, ".ready") != 0) continue;
    n.resize(n.size() - 6);
    auto w = parse_wal_file_name(n, 16u << 20);
    if (!w || w->kind != WalFileName::Kind::Segment || n == except) continue;
    struct stat st;
    if (stat((spool + "/" + n).c_str(), &st) == 0) continue;  // pushed already, waiting for its turn
    ready.push_back(n);
  }
  if (ready.empty() || count == 0) return 0;
  std::sort(ready.begin(), ready.end());
  if (ready.size() > count) ready.resize(count);
  std::filesystem::create_directories(spool, ec);
  if (ec) {
    warnings.push_back("cannot create " + spool + ": " + ec.message());
    return 0;
  }
  std::mutex mu;
  size_t pushed = 0;
  parallel_for(ready.size(), threads, [&](size_t i) {
    const std::string& n = ready[i];
    try {
      archive.push(n, read_whole_file(wal_dir + "/" + n));
      UniqueFd fd(open((spool + "/" + n).c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
      if (!fd) throw_errno("create", spool + "/" + n, errno);
      std::lock_guard lk(mu);
      pushed++;
    } catch (const Error& e) {
      std::lock_guard lk(mu);
      warnings.push_back(n + ": " + e.what());
    }
  });
  return pushed;
}

}  // namespace arca
