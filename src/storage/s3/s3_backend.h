// A repository in an S3-compatible bucket (AWS S3, Ceph RGW, Swift s3api, MinIO, Garage, …).
// Objects map 1:1 to keys under an optional prefix. Every request is retried with exponential
// backoff and jitter on network errors, 5xx, 429/SlowDown and truncated bodies; other failures
// end at once with the server's answer and what to do about it. See docs/storage-s3.md.
#pragma once
#include <atomic>
#include <mutex>

#include "net/http_client.h"
#include "storage/backend.h"
#include "storage/s3/s3_options.h"
#include "storage/s3/s3_wire.h"
#include "util/fd.h"

namespace arca {

class S3Backend : public Backend {
 public:
  explicit S3Backend(S3Options opts);
  ~S3Backend() override;

  std::string location() const override;
  bool exists() const override;
  void create() override;
  void put(const std::string& name, ByteView data) override;
  bool put_if_absent(const std::string& name, ByteView data) override;
  bool atomic_put_if_absent() override;  // probes the store once (s3.conditional-writes=auto)
  Bytes get(const std::string& name) const override;
  Bytes get_range_upto(const std::string& name, uint64_t offset, uint64_t length) const override;
  std::optional<ObjectInfo> stat(const std::string& name) const override;
  void list(const std::string& prefix, const std::function<void(const ObjectInfo&)>& fn) const override;
  void remove(const std::string& name) override;
  std::string staging_dir() override;
  void put_file(const std::string& name, const std::string& path) override;
  unsigned parallelism() const override { return opts_.connections; }
  bool supports_object_lock() const override { return true; }
  void lock_object(const std::string& name, const StoreLock& lock) override;

  // Requests retried so far (for progress and tests).
  uint64_t retries() const { return retries_; }

 private:
  struct Body {  // what a PUT sends: memory or a file range, with its digests
    ByteView data{};
    int fd = -1;
    uint64_t offset = 0, length = 0;
    Digests digests{};
    uint64_t size() const { return fd >= 0 ? length : data.size(); }
    void attach(HttpRequest& r) const {
      r.body = data;
      r.body_fd = fd;
      r.body_offset = offset;
      r.body_length = length;
    }
  };
  struct Sent {
    HttpResponse resp;
    bool ambiguous = false;  // an earlier attempt may have reached the server
  };
  std::string url(const std::string& key, const std::map<std::string, std::string>& query = {}) const;
  std::vector<std::string> base_headers(const std::string& payload_sha256) const;
  std::vector<std::string> object_headers() const;  // storage class, SSE, object lock
  Sent send(HttpRequest req, const std::string& what) const;
  [[noreturn]] void fail(const HttpResponse& r, const std::string& what) const;
  HttpResponse error_body_for(const HttpResponse& head, const std::string& key, const std::string& what) const;
  bool put_body(const std::string& name, const Body& body, bool if_absent);
  void put_multipart(const std::string& name, int fd, uint64_t size);
  bool same_content(const std::string& name, const Body& body) const;
  void probe_conditional_writes();
  bool bucket_has_object_lock() const;

  S3Options opts_;
  HttpClient http_;
  std::atomic<int> conditional_{0};  // 0 unknown, 1 supported, -1 not supported
  std::once_flag probe_once_;
  mutable std::once_flag lock_probe_once_;
  mutable bool bucket_object_lock_ = false;
  mutable std::atomic<uint64_t> retries_{0};
  std::mutex staging_mu_;
  std::string staging_;
  UniqueFd staging_lock_;  // flock held while this process uses staging_
};

}  // namespace arca
