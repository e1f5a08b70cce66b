#include "server/runtime.h"

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
  std::lock_guard lk(mu_);
  point_updates_.push_back(PointUpdate{"", {p}});
}

void Runtime::replace_points(const std::string& repository, std::vector<RecoveryPointRecord> points) {
  std::lock_guard lk(mu_);
  point_updates_.push_back(PointUpdate{repository, std::move(points)});
}

std::vector<Runtime::PointUpdate> Runtime::take_point_updates() {
  std::lock_guard lk(mu_);
  return std::exchange(point_updates_, {});
}

}  // namespace arca::server
