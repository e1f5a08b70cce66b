#include "storage/local_backend.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "crypto/random.h"
#include "util/error.h"
#include "util/fd.h"
#include "util/io.h"

namespace arca {
namespace {

void fsync_dir(const std::string& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) throw_errno("open directory", dir, errno);
  if (::fsync(fd.get()) != 0) throw_errno("fsync directory", dir, errno);
}

std::string parent_of(const std::string& p) { return p.substr(0, p.rfind('/')); }

// mkdir -p, fsyncing each parent that gained an entry, so new directories survive a crash.
void make_dirs(const std::string& dir) {
  struct stat st;
  if (::stat(dir.c_str(), &st) == 0) return;
  make_dirs(parent_of(dir));
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) throw_errno("create directory", dir, errno);
  fsync_dir(parent_of(dir));
}

}  // namespace

LocalBackend::LocalBackend(std::string root) : root_(std::move(root)) {
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
}

std::string LocalBackend::path(const std::string& name) const { return root_ + "/" + name; }

bool LocalBackend::exists() const {
  struct stat st;
  return ::stat(root_.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

void LocalBackend::create() {
  std::error_code ec;
  std::filesystem::create_directories(root_, ec);
  if (ec) throw Error(ErrorKind::Io, "cannot create repository directory " + root_ + ": " + ec.message());
}

std::string LocalBackend::write_temp(const std::string& final_path, ByteView data) {
  std::string dir = parent_of(final_path);
  make_dirs(dir);
  std::string tmp = dir + "/.tmp-" + random_id().short_hex();
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!fd) throw_errno("create", tmp, errno);
  try {
    write_all(fd.get(), data, tmp);
    if (::fsync(fd.get()) != 0) throw_errno("fsync", tmp, errno);
  } catch (...) {
    ::unlink(tmp.c_str());
    throw;
  }
  return tmp;
}

void LocalBackend::put(const std::string& name, ByteView data) {
  std::string final_path = path(name);
  std::string tmp = write_temp(final_path, data);
  if (::rename(tmp.c_str(), final_path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    throw_errno("rename into", final_path, err);
  }
  fsync_dir(parent_of(final_path));
}

bool LocalBackend::put_if_absent(const std::string& name, ByteView data) {
  std::string final_path = path(name);
  std::string tmp = write_temp(final_path, data);
  // link() fails with EEXIST atomically, unlike rename(), which would replace.
  int rc = ::link(tmp.c_str(), final_path.c_str());
  int err = errno;
  ::unlink(tmp.c_str());
  if (rc != 0) {
    if (err == EEXIST) return false;
    throw_errno("link into", final_path, err);
  }
  fsync_dir(parent_of(final_path));
  return true;
}

Bytes LocalBackend::get(const std::string& name) const {
  std::string p = path(name);
  UniqueFd fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) throw Error(ErrorKind::NotFound, "object " + name + " is missing from the repository");
    throw_errno("open", p, errno);
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) throw_errno("stat", p, errno);
  Bytes out(size_t(st.st_size));
  out.resize(pread_full(fd.get(), out, 0, p));
  return out;
}

Bytes LocalBackend::get_range_upto(const std::string& name, uint64_t offset, uint64_t length) const {
  std::string p = path(name);
  UniqueFd fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) throw Error(ErrorKind::NotFound, "object " + name + " is missing from the repository");
    throw_errno("open", p, errno);
  }
  Bytes out(length);
  out.resize(pread_full(fd.get(), out, off_t(offset), p));
  return out;
}

std::optional<ObjectInfo> LocalBackend::stat(const std::string& name) const {
  struct stat st;
  if (::stat(path(name).c_str(), &st) != 0) {
    if (errno == ENOENT) return std::nullopt;
    throw_errno("stat", path(name), errno);
  }
  return ObjectInfo{name, uint64_t(st.st_size)};
}

void LocalBackend::list(const std::string& prefix, const std::function<void(const ObjectInfo&)>& fn) const {
  // Walk the directory named by the prefix, recursing into fan-out subdirectories.
  std::function<void(const std::string&)> walk = [&](const std::string& rel) {
    std::string dir = path(rel);
    DIR* d = ::opendir(dir.c_str());
    if (!d) {
      if (errno == ENOENT) return;
      throw_errno("list", dir, errno);
    }
    std::unique_ptr<DIR, int (*)(DIR*)> guard(d, ::closedir);
    while (dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n == "." || n == ".." || n.rfind(".tmp-", 0) == 0) continue;
      std::string child = rel + n;
      struct stat st;
      if (::lstat(path(child).c_str(), &st) != 0) continue;  // removed concurrently
      if (S_ISDIR(st.st_mode))
        walk(child + "/");
      else if (S_ISREG(st.st_mode))
        fn(ObjectInfo{child, uint64_t(st.st_size)});
    }
  };
  walk(prefix);
}

void LocalBackend::remove(const std::string& name) {
  if (::unlink(path(name).c_str()) != 0) {
    if (errno == ENOENT) return;
    throw_errno("remove", path(name), errno);
  }
  fsync_dir(parent_of(path(name)));  // a removed key must stay removed after a crash
}

std::string LocalBackend::staging_dir() {
  std::string dir = root_ + "/tmp";
  make_dirs(dir);
  return dir;
}

void LocalBackend::put_file(const std::string& name, const std::string& src) {
  std::string final_path = path(name);
  {
    UniqueFd fd(::open(src.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) throw_errno("open", src, errno);
    if (::fsync(fd.get()) != 0) throw_errno("fsync", src, errno);
  }
  make_dirs(parent_of(final_path));
  if (::rename(src.c_str(), final_path.c_str()) != 0) throw_errno("rename into", final_path, errno);
  fsync_dir(parent_of(final_path));
}

}  // namespace arca
