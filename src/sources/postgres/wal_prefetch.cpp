#include "sources/postgres/wal_prefetch.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

#include "util/error.h"
#include "util/fd.h"
#include "util/io.h"
#include "util/parallel_for.h"

namespace arca {

std::string default_wal_spool(const std::string& datadir) { return datadir + "/pg_wal/arca-prefetch"; }

void write_wal_file(const std::string& dest, ByteView content) {
  std::string tmp = dest + ".arca-tmp";
  {
    UniqueFd fd(open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (!fd) throw_errno("create", tmp, errno);
    write_all(fd.get(), content, tmp);
  }
  if (rename(tmp.c_str(), dest.c_str()) != 0) {
    int e = errno;
    unlink(tmp.c_str());
    throw_errno("rename", dest, e);
  }
}

bool take_spooled_wal(const std::string& spool, const std::string& file, const std::string& dest) {
  std::string src = spool + "/" + file;
  if (rename(src.c_str(), dest.c_str()) == 0) return true;
  if (errno == ENOENT) return false;
  throw_errno("move the prefetched WAL file", src, errno);
}

void prefetch_wal(const WalArchive& archive, const std::string& spool, const std::string& segment, ByteView content,
                  unsigned count, unsigned threads) {
  auto name = parse_wal_file_name(segment, 16u << 20);
  auto header = read_wal_segment_header(content);
  if (!name || name->kind != WalFileName::Kind::Segment || !header || count == 0) return;
  auto parsed = parse_wal_file_name(segment, header->segment_size);
  if (mkdir(spool.c_str(), 0700) != 0 && errno != EEXIST) return;  // read-ahead is only an optimization
  std::atomic<uint64_t> first_missing{~0ull};
  parallel_for(count, threads, [&](size_t i) {
    uint64_t segno = parsed->segno + 1 + i;
    if (segno >= first_missing) return;
    std::string file = wal_segment_name(parsed->timeline, segno, header->segment_size);
    struct stat st;
    if (stat((spool + "/" + file).c_str(), &st) == 0) return;
    auto c = archive.fetch(file, false);
    if (!c) {
      uint64_t cur = first_missing;
      while (segno < cur && !first_missing.compare_exchange_weak(cur, segno)) {}
      return;
    }
    write_wal_file(spool + "/" + file, *c);
  });
}

}  // namespace arca
