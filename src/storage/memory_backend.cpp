#include "storage/memory_backend.h"

#include <unistd.h>

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>

#include "util/error.h"
#include "util/fd.h"
#include "util/io.h"

namespace arca {
namespace {

// One allocation and a memcpy: tests put and get tens of MiB, also in unoptimized builds.
std::shared_ptr<const Bytes> copy_of(ByteView data) {
  auto b = std::make_shared<Bytes>(data.size());
  if (!data.empty()) std::memcpy(b->data(), data.data(), data.size());
  return b;
}

Bytes slice(const Bytes& from, uint64_t offset, uint64_t n) {
  Bytes out(n);
  if (n) std::memcpy(out.data(), from.data() + offset, n);
  return out;
}

}  // namespace

MemoryBackend::MemoryBackend(Options opts) : opts_(std::move(opts)) {}

MemoryBackend::~MemoryBackend() {
  if (!staging_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(staging_, ec);
  }
}

bool MemoryBackend::exists() const {
  std::lock_guard lk(mu_);
  return created_;
}

void MemoryBackend::create() {
  std::lock_guard lk(mu_);
  created_ = true;
}

void MemoryBackend::refuse_if_locked(const std::string& name, const char* what) const {
  auto it = locks_.find(name);
  if (it == locks_.end()) return;
  const StoreLock& l = it->second;
  if (l.mode != StoreLock::Mode::LegalHold && l.until_unix <= int64_t(::time(nullptr))) return;
  throw Error(ErrorKind::Refused,
              std::string("cannot ") + what + " " + name + " at " + opts_.location +
                  ": the store's Object Lock protects it" +
                  (l.mode == StoreLock::Mode::LegalHold ? std::string(" (legal hold)")
                                                        : " until unix time " + std::to_string(l.until_unix)));
}

void MemoryBackend::put(const std::string& name, ByteView data) {
  auto obj = copy_of(data);
  std::lock_guard lk(mu_);
  refuse_if_locked(name, "replace");
  objects_[name] = std::move(obj);
}

bool MemoryBackend::put_if_absent(const std::string& name, ByteView data) {
  auto obj = copy_of(data);
  std::lock_guard lk(mu_);
  return objects_.try_emplace(name, std::move(obj)).second;
}

Bytes MemoryBackend::get(const std::string& name) const {
  std::shared_ptr<const Bytes> obj;
  {
    std::lock_guard lk(mu_);
    auto it = objects_.find(name);
    if (it == objects_.end()) throw Error(ErrorKind::NotFound, "object " + name + " is missing from the repository");
    obj = it->second;
  }
  return slice(*obj, 0, obj->size());
}

Bytes MemoryBackend::get_range_upto(const std::string& name, uint64_t offset, uint64_t length) const {
  std::shared_ptr<const Bytes> obj;
  {
    std::lock_guard lk(mu_);
    auto it = objects_.find(name);
    if (it == objects_.end()) throw Error(ErrorKind::NotFound, "object " + name + " is missing from the repository");
    obj = it->second;
  }
  if (offset >= obj->size()) return {};
  uint64_t n = std::min<uint64_t>(length, obj->size() - offset);
  return slice(*obj, offset, n);
}

std::optional<ObjectInfo> MemoryBackend::stat(const std::string& name) const {
  std::lock_guard lk(mu_);
  auto it = objects_.find(name);
  if (it == objects_.end()) return std::nullopt;
  return ObjectInfo{name, it->second->size()};
}

void MemoryBackend::list(const std::string& prefix, const std::function<void(const ObjectInfo&)>& fn) const {
  // A snapshot of the listing: `fn` may call back into the backend (get, remove).
  std::vector<ObjectInfo> found;
  {
    std::lock_guard lk(mu_);
    for (auto it = objects_.lower_bound(prefix); it != objects_.end() && it->first.starts_with(prefix); ++it)
      found.push_back(ObjectInfo{it->first, it->second->size()});
  }
  for (const auto& o : found) fn(o);
}

void MemoryBackend::remove(const std::string& name) {
  std::lock_guard lk(mu_);
  if (!objects_.count(name)) return;
  refuse_if_locked(name, "delete");
  objects_.erase(name);
}

std::string MemoryBackend::staging_dir() {
  std::lock_guard lk(mu_);
  if (staging_.empty()) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "arca-mem-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw_errno("create staging directory", tmpl, errno);
    staging_ = tmpl;
  }
  return staging_;
}

void MemoryBackend::put_file(const std::string& name, const std::string& path) {
  Bytes data;
  {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) throw_errno("open", path, errno);
    struct stat st;
    if (::fstat(fd.get(), &st) != 0) throw_errno("stat", path, errno);
    data.resize(size_t(st.st_size));
    data.resize(pread_full(fd.get(), data, 0, path));
  }
  put(name, data);
  if (::unlink(path.c_str()) != 0) throw_errno("remove", path, errno);
}

void MemoryBackend::lock_object(const std::string& name, const StoreLock& lock) {
  if (!opts_.object_lock) Backend::lock_object(name, lock);
  std::lock_guard lk(mu_);
  if (!objects_.count(name)) throw Error(ErrorKind::NotFound, "cannot lock " + name + ": no such object");
  locks_[name] = lock;
}

std::optional<StoreLock> MemoryBackend::store_lock(const std::string& name) const {
  std::lock_guard lk(mu_);
  auto it = locks_.find(name);
  if (it == locks_.end()) return std::nullopt;
  return it->second;
}

std::shared_ptr<MemoryBackend> MemoryBackend::clone() const {
  auto c = std::make_shared<MemoryBackend>(opts_);
  std::lock_guard lk(mu_);
  c->created_ = created_;
  c->objects_ = objects_;
  c->locks_ = locks_;
  return c;
}

size_t MemoryBackend::object_count() const {
  std::lock_guard lk(mu_);
  return objects_.size();
}

void MemoryBackend::overwrite_raw(const std::string& name, ByteView data) {
  auto obj = copy_of(data);
  std::lock_guard lk(mu_);
  objects_[name] = std::move(obj);
}

}  // namespace arca
