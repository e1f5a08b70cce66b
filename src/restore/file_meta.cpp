#include "restore/file_meta.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <unordered_map>

#include "util/fd.h"

namespace arca {
namespace {

template <typename Lookup>
std::string cached_name(std::unordered_map<uint32_t, std::string>& cache, std::mutex& mu, uint32_t id, Lookup fn) {
  std::lock_guard lk(mu);
  auto it = cache.find(id);
  if (it != cache.end()) return it->second;
  return cache[id] = fn(id);
}

std::string user_name(uint32_t uid) {
  static std::unordered_map<uint32_t, std::string> cache;
  static std::mutex mu;
  return cached_name(cache, mu, uid, [](uint32_t id) -> std::string {
    passwd* pw = getpwuid(id);
    return pw ? pw->pw_name : "";
  });
}

std::string group_name(uint32_t gid) {
  static std::unordered_map<uint32_t, std::string> cache;
  static std::mutex mu;
  return cached_name(cache, mu, gid, [](uint32_t id) -> std::string {
    group* gr = getgrgid(id);
    return gr ? gr->gr_name : "";
  });
}

int64_t ns(const timespec& t) { return int64_t(t.tv_sec) * 1000000000 + t.tv_nsec; }
timespec ts(int64_t n) {
  timespec t;
  t.tv_sec = n / 1000000000;
  t.tv_nsec = n % 1000000000;
  if (t.tv_nsec < 0) {
    t.tv_sec--;
    t.tv_nsec += 1000000000;
  }
  return t;
}

void read_xattrs(const std::string& path, Node& node) {
  ssize_t n = llistxattr(path.c_str(), nullptr, 0);
  if (n <= 0) return;
  std::string names(size_t(n), '\0');
  n = llistxattr(path.c_str(), names.data(), names.size());
  if (n <= 0) return;
  for (size_t p = 0; p < size_t(n);) {
    std::string key(names.c_str() + p);
    p += key.size() + 1;
    ssize_t vn = lgetxattr(path.c_str(), key.c_str(), nullptr, 0);
    if (vn < 0) continue;
    Bytes v(static_cast<size_t>(vn));
    vn = lgetxattr(path.c_str(), key.c_str(), v.data(), v.size());
    if (vn < 0) continue;
    v.resize(size_t(vn));
    node.xattrs.emplace_back(key, std::move(v));
  }
}

}  // namespace

Node node_from_stat(const std::string& name, const std::string& path, const struct stat& st) {
  Node n;
  n.name = name;
  if (S_ISDIR(st.st_mode))
    n.type = NodeType::Dir;
  else if (S_ISLNK(st.st_mode))
    n.type = NodeType::Symlink;
  else if (S_ISFIFO(st.st_mode))
    n.type = NodeType::Fifo;
  else if (S_ISSOCK(st.st_mode))
    n.type = NodeType::Socket;
  else if (S_ISCHR(st.st_mode))
    n.type = NodeType::CharDev;
  else if (S_ISBLK(st.st_mode))
    n.type = NodeType::BlockDev;
  else
    n.type = NodeType::File;
  if (n.type == NodeType::CharDev || n.type == NodeType::BlockDev) n.rdev = st.st_rdev;
  n.mode = st.st_mode & 07777;
  n.uid = st.st_uid;
  n.gid = st.st_gid;
  n.user = user_name(st.st_uid);
  n.group = group_name(st.st_gid);
  n.mtime_ns = ns(st.st_mtim);
  n.ctime_ns = ns(st.st_ctim);
  n.inode = st.st_ino;
  n.device = st.st_dev;
  n.links = n.type == NodeType::Dir ? 1 : uint32_t(st.st_nlink);
  if (n.type == NodeType::File) n.size = uint64_t(st.st_size);
  read_xattrs(path, n);
  return n;
}

int make_special(int dirfd, const std::string& name, const Node& node) {
  mode_t type = node.type == NodeType::Fifo      ? S_IFIFO
                : node.type == NodeType::Socket  ? S_IFSOCK
                : node.type == NodeType::CharDev ? S_IFCHR
                                                 : S_IFBLK;
  // Created owner-only; apply_metadata sets the recorded mode afterwards.
  return mknodat(dirfd, name.c_str(), type | 0600, dev_t(node.rdev)) == 0 ? 0 : errno;
}

std::string apply_metadata(int dirfd, const std::string& name, const Node& node) {
  std::string err;
  auto note = [&](const char* what) {
    if (err.empty()) err = std::string(what) + ": " + std::strerror(errno);
  };
  timespec times[2] = {ts(node.mtime_ns), ts(node.mtime_ns)};
  if (node.type == NodeType::Symlink) {
    if (geteuid() == 0 && fchownat(dirfd, name.c_str(), node.uid, node.gid, AT_SYMLINK_NOFOLLOW) != 0) note("chown");
    if (utimensat(dirfd, name.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) note("set times");
    return err;
  }
  if (is_special(node.type)) {
    // Never opened: opening a device can act on it (a tape rewinds), a socket cannot be opened.
    // Every call names the entry without following a symlink; xattrs are not restored on them.
    if (geteuid() == 0 && fchownat(dirfd, name.c_str(), node.uid, node.gid, AT_SYMLINK_NOFOLLOW) != 0) note("chown");
    if (fchmodat(dirfd, name.c_str(), node.mode, AT_SYMLINK_NOFOLLOW) != 0) note("chmod");
    if (utimensat(dirfd, name.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) note("set times");
    return err;
  }
  // Everything else goes through a descriptor opened without following symlinks: if the entry
  // was replaced by a symlink meanwhile, nothing is applied to whatever it points at.
  int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | (node.type == NodeType::Dir ? O_DIRECTORY : 0);
  UniqueFd fd(openat(dirfd, name.c_str(), flags));
  if (!fd) {
    note("open to apply metadata");
    return err;
  }
  struct stat st;
  if (fstat(fd.get(), &st) != 0 || (node.type == NodeType::Dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode))) {
    errno = EEXIST;
    note("entry changed type during restore; metadata not applied");
    return err;
  }
  // Order matters: chown clears security.capability, so xattrs come after it; a read-only mode
  // must not block them, so chmod comes last.
  if (geteuid() == 0 && fchown(fd.get(), node.uid, node.gid) != 0) note("chown");
  for (const auto& [k, v] : node.xattrs)
    if (fsetxattr(fd.get(), k.c_str(), v.data(), v.size(), 0) != 0 && errno != ENOTSUP && errno != EPERM)
      note("setxattr");
  if (fchmod(fd.get(), node.mode) != 0) note("chmod");
  if (futimens(fd.get(), times) != 0) note("set times");
  return err;
}

}  // namespace arca
