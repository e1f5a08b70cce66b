#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <exception>
#include <string>

#include "restore/file_restore.h"
#include "restore/holes.h"
#include "util/aligned_buffer.h"
#include "util/beneath.h"
#include "util/error.h"
#include "util/fd.h"
#include "util/io.h"

// Writing: the writers' loop, restoring (or, in a dry run, comparing) ranges of chunks, holes,
// direct I/O, and verifying restored files.
namespace arca::restore_detail {

constexpr uint64_t kDirectMin = 1 << 20;  // smaller ranges: a direct write's latency would dominate

void FileRestore::restore_range(const WorkItem& item) {
  PlannedFile& f = *item.file;
  if (f.failed) return;
  if (opts_.dry_run) {
    compare_range(item);
    return;
  }
  uint64_t start = f.offsets[item.first];
  uint64_t end = f.offsets[item.last - 1] + f.locs[item.last - 1].raw_length;
  if (!f.existed && direct_io_ && end - start >= kDirectMin) {
    restore_range_direct(f, item, start, end);
    return;
  }
  // An existing file is compared with the snapshot as it is (it is never changed) and the
  // differing chunks written to its copy; a new file is written under its temporary name.
  UniqueFd fd, cmp;
  if (f.existed)
    cmp = UniqueFd(open_beneath(root_.get(), f.rel, O_RDONLY));
  else
    fd = UniqueFd(open_beneath(root_.get(), f.write_rel, O_WRONLY));
  if (!fd && !cmp) {
    fail(f, std::string(f.existed ? "cannot open: " : "cannot open for writing: ") + std::strerror(errno));
    return;
  }
  Bytes existing;
  for (size_t i = item.first; i < item.last; i++) {
    const BlobLocation& loc = f.locs[i];
    const Id& id = f.node.content[i];
    if (f.existed) {
      existing.resize(loc.raw_length);
      size_t n = pread_full(cmp.get(), existing, off_t(f.offsets[i]), f.rel);
      if (n == existing.size() && repo_.blob_id(existing) == id) {
        progress_.bytes_done += loc.raw_length;
        continue;
      }
    }
    Bytes data;
    try {
      data = repo_.read_blob(id, loc);
    } catch (const Error& e) {
      fail(f, e.what(), RestoreProblemSource::Repository);
      return;
    }
    if (!fd) fd = open_copy(f);
    uint64_t n = write_with_holes(f, fd.get(), data.data(), f.offsets[i], data.size());
    count_written(n);
    f.written += n;
    progress_.bytes_done += data.size();
  }
}

// A dry run: counts what an existing file would need written (reads the target, never the repository).
void FileRestore::compare_range(const WorkItem& item) {
  PlannedFile& f = *item.file;
  UniqueFd fd(open_beneath(root_.get(), f.rel, O_RDONLY));
  Bytes existing;
  for (size_t i = item.first; i < item.last; i++) {
    const BlobLocation& loc = f.locs[i];
    existing.resize(loc.raw_length);
    bool same = fd && pread_full(fd.get(), existing, off_t(f.offsets[i]), f.rel) == existing.size() &&
                repo_.blob_id(existing) == f.node.content[i];
    if (!same) {
      uint64_t w = would_write(f, i);
      count_written(w);
      f.written += w;
    }
    progress_.bytes_done += loc.raw_length;
  }
}

// What restoring chunk i would write. Long zero runs become chunks of the chunker's largest size,
// all zeros: a dry run recognises them by id (without reading the repository) and leaves out
// the holes they would become (as write_with_holes would, per chunk).
uint64_t FileRestore::would_write(const PlannedFile& f, size_t i) const {
  uint64_t off = f.offsets[i], len = f.locs[i].raw_length;
  if (opts_.no_sparse || len != zero_chunk_len_ || f.node.content[i] != zero_chunk_id_) return len;
  uint64_t a = (off + kHoleBlock - 1) / kHoleBlock * kHoleBlock, b = (off + len) / kHoleBlock * kHoleBlock;
  if (b <= a || b - a < kHoleMin) return len;
  return len - (b - a);
}

// Writes `len` bytes of `data` at file offset `off`, leaving its long zero runs as holes.
// Returns the bytes written.
uint64_t FileRestore::write_with_holes(PlannedFile& f, int fd, const uint8_t* data, uint64_t off, uint64_t len) {
  uint64_t pos = off, wrote = 0;
  auto put = [&](uint64_t from, uint64_t to) {
    if (to <= from) return;
    pwrite_all(fd, ByteView(data + (from - off), to - from), off_t(from), f.rel);
    wrote += to - from;
  };
  for (auto [h0, h1] : holes_in(data, off, len)) {
    put(pos, h0);
    if (!make_hole(f, fd, h0, h1)) put(h0, h1);
    pos = h1;
  }
  put(pos, off + len);
  return wrote;
}

// Leaves [from, to) of the file as a hole; false if the zeros must be written instead.
bool FileRestore::make_hole(PlannedFile& f, int fd, uint64_t from, uint64_t to) {
  if (!f.existed && !f.allocated) return true;  // a new file's unwritten range is a hole already
  if (!punch_ok_) return false;
  if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off_t(from), off_t(to - from)) == 0) return true;
  if (errno == EOPNOTSUPP || errno == ENOSYS) punch_ok_ = false;  // this filesystem has no holes
  return false;
}

// Large new ranges bypass the page cache: the range is assembled in an aligned buffer, its
// block-aligned interior written with O_DIRECT and only the partial blocks at its ends through
// the page cache. Restores of big files then cost the kernel almost nothing, do not evict the
// host's working set, and are on disk when the command returns.
void FileRestore::restore_range_direct(PlannedFile& f, const WorkItem& item, uint64_t start, uint64_t end) {
  thread_local AlignedBuffer buf;
  uint64_t base = align_down(start);
  buf.reserve(end - base);
  for (size_t i = item.first; i < item.last; i++) {
    try {
      repo_.read_blob_into(f.node.content[i], f.locs[i], {buf.data() + (f.offsets[i] - base), f.locs[i].raw_length});
    } catch (const Error& e) {
      fail(f, e.what(), RestoreProblemSource::Repository);
      return;
    }
  }
  uint64_t a = std::min(align_up(start), end), b = std::max(align_down(end), a);
  UniqueFd fd(open_beneath(root_.get(), f.write_rel, O_WRONLY));
  if (!fd) {
    fail(f, std::string("cannot open for writing: ") + std::strerror(errno));
    return;
  }
  uint64_t wrote = 0;
  auto buffered = [&](uint64_t from, uint64_t to) {
    if (to > from) pwrite_all(fd.get(), ByteView(buf.data() + (from - base), to - from), off_t(from), f.rel);
    wrote += to > from ? to - from : 0;
  };
  buffered(start, a);
  if (b > a) {
    UniqueFd dfd(open_beneath(root_.get(), f.write_rel, O_WRONLY | O_DIRECT));
    bool direct = bool(dfd);
    // The aligned interior, without its long zero runs (holes; their bounds are block-aligned).
    auto put = [&](uint64_t from, uint64_t to) {
      if (to <= from) return;
      if (direct) {
        ssize_t n = pwrite(dfd.get(), buf.data() + (from - base), to - from, off_t(from));
        if (n == ssize_t(to - from)) {
          wrote += to - from;
          return;
        }
        if (n < 0 && errno != EINVAL) throw_errno("write", f.rel, errno);
        direct = false;
        direct_io_ = false;  // this filesystem does not do O_DIRECT (tmpfs, some network filesystems)
      }
      buffered(from, to);
    };
    uint64_t pos = a;
    for (auto [h0, h1] : holes_in(buf.data() + (a - base), a, b - a)) {
      put(pos, h0);
      if (!make_hole(f, fd.get(), h0, h1)) put(h0, h1);
      pos = h1;
    }
    put(pos, b);
  }
  buffered(b, end);
  count_written(wrote);
  f.written += wrote;
  progress_.bytes_done += end - start;
}

bool FileRestore::verify_file(PlannedFile& f) {
  UniqueFd fd(open_beneath(root_.get(), f.rel, O_RDONLY));
  if (!fd) return false;
  struct stat st;
  if (fstat(fd.get(), &st) != 0 || uint64_t(st.st_size) != f.node.size) return false;
  Bytes buf;
  for (size_t i = 0; i < f.locs.size(); i++) {
    buf.resize(f.locs[i].raw_length);
    if (pread_full(fd.get(), buf, off_t(f.offsets[i]), f.rel) != buf.size()) return false;
    if (repo_.blob_id(buf) != f.node.content[i]) return false;
  }
  return true;
}

void FileRestore::work() {
  while (auto item = queue_.pop()) {
    PlannedFile& f = *item->file;
    if (cancelled()) stop_ = true;
    if (stop_) {  // drain after a full disk or a signal: what was not written is not restored
      f.unfinished = true;
      continue;
    }
    try {
      restore_range(*item);
      if (--f.items_left == 0) {
        finish_file(f);
        progress_.files_done++;
      }
    } catch (const Error& e) {
      fail(f, e.what());
      if (e.kind() == ErrorKind::NoSpace) {
        no_space_ = true;
        stop_ = true;  // a full disk stops the restore; the error says what to do
      }
    } catch (const std::exception& e) {
      fail(f, e.what());
    }
  }
}

}  // namespace arca::restore_detail
