#include "server/runtime.h"

#include <chrono>
#include <utility>

namespace arca::server {

void Runtime::update_stream(const std::string& source, const std::function<void(StreamStatus&)>& f) {
  std::lock_guard lk(mu_);
  f(streams_[source]);
}
std::optional<StreamStatus> Runtime::stream(const std::string& source) const {
  std::lock_guard lk(mu_);
  auto it = streams_.find(source);
  if (it == streams_.end()) return std::nullopt;
  return it->second;
}
void Runtime::update_repository(const std::string& repository, const std::function<void(RepositoryStatus&)>& f) {
  std::lock_guard lk(mu_);
  f(repos_[repository]);
}
std::optional<RepositoryStatus> Runtime::repository(const std::string& repository) const {
  std::lock_guard lk(mu_);
  auto it = repos_.find(repository);
  if (it == repos_.end()) return std::nullopt;
  return it->second;
}
std::map<std::string, StreamStatus> Runtime::streams() const {
  std::lock_guard lk(mu_);
  return streams_;
}
std::map<std::string, RepositoryStatus> Runtime::repositories() const {
  std::lock_guard lk(mu_);
  return repos_;
}

void Runtime::add_point(const RecoveryPointRecord& p) {
  {
    std::lock_guard lk(mu_);
    point_updates_.push_back(PointUpdate{"", {p}});
  }
  notify_written(p.repository);
}

void Runtime::replace_points(const std::string& repository, std::vector<RecoveryPointRecord> points) {
  std::lock_guard lk(mu_);
  point_updates_.push_back(PointUpdate{repository, std::move(points)});
}

std::vector<Runtime::PointUpdate> Runtime::take_point_updates() {
  std::lock_guard lk(mu_);
  return std::exchange(point_updates_, {});
}

void Runtime::update_replication(const std::string& plan, const std::function<void(ReplicationStatus&)>& f) {
  std::lock_guard lk(mu_);
  f(replications_[plan]);
}

std::map<std::string, ReplicationStatus> Runtime::replications() const {
  std::lock_guard lk(mu_);
  return replications_;
}

void Runtime::notify_written(const std::string& repository) {
  {
    std::lock_guard lk(mu_);
    ++written_[repository];
  }
  written_cv_.notify_all();
}

bool Runtime::wait_written(const std::string& repository, uint64_t& seen, double timeout_s, const CancelToken& cancel) {
  auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  std::unique_lock lk(mu_);
  // Woken in short slices to see the cancel (a token has no way to wake a condition variable).
  while (written_[repository] == seen && !cancel.cancelled() && std::chrono::steady_clock::now() < until)
    written_cv_.wait_for(lk, std::chrono::milliseconds(200));
  bool news = written_[repository] != seen;
  seen = written_[repository];
  return news;
}

}  // namespace arca::server
