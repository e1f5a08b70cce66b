#include "storage/fault_backend.h"

#include <chrono>
#include <ctime>
#include <thread>

namespace arca {

const char* backend_call_name(BackendCall c) {
  switch (c) {
    case BackendCall::Get:
      return "get";
    case BackendCall::GetRange:
      return "get_range";
    case BackendCall::Stat:
      return "stat";
    case BackendCall::List:
      return "list";
    case BackendCall::Put:
      return "put";
    case BackendCall::PutIfAbsent:
      return "put_if_absent";
    case BackendCall::PutFile:
      return "put_file";
    case BackendCall::Remove:
      return "remove";
    case BackendCall::LockObject:
      return "lock_object";
    case BackendCall::Any:
      return "any";
  }
  return "?";
}

int FaultBackend::add_rule(const FaultRule& rule) {
  std::lock_guard lk(mu_);
  rules_.push_back(RuleState{rule});
  return int(rules_.size() - 1);
}

namespace {
// A rule for the `nth` call of kind `call` on names starting with `prefix`; callers set the rest.
FaultRule rule_on(BackendCall call, uint64_t nth, const std::string& prefix) {
  FaultRule r;
  r.call = call;
  r.nth = nth;
  r.prefix = prefix;
  return r;
}
}  // namespace

int FaultBackend::fail_on(BackendCall call, uint64_t nth, ErrorKind kind, const std::string& prefix) {
  FaultRule r = rule_on(call, nth, prefix);
  r.kind = kind;
  return add_rule(r);
}

int FaultBackend::crash_at(BackendCall call, uint64_t nth, const std::string& prefix) {
  FaultRule r = rule_on(call, nth, prefix);
  r.and_later = true;
  return add_rule(r);
}

int FaultBackend::pause_on(BackendCall call, uint64_t nth, const std::string& prefix) {
  FaultRule r = rule_on(call, nth, prefix);
  r.action = FaultRule::Action::Pause;
  return add_rule(r);
}

int FaultBackend::sleep_on_each(BackendCall call, int ms, const std::string& prefix) {
  FaultRule r = rule_on(call, 1, prefix);  // the first call and every one after it
  r.and_later = true;
  r.action = FaultRule::Action::Sleep;
  r.sleep_ms = ms;
  return add_rule(r);
}

void FaultBackend::clear_rules() {
  release_all();
  std::lock_guard lk(mu_);
  for (auto& r : rules_) {  // disarmed, not erased: handles stay valid
    r.rule.nth = UINT64_MAX;
    r.rule.and_later = false;
  }
}

bool FaultBackend::wait_paused(int id, int timeout_ms) {
  std::unique_lock lk(mu_);
  return cv_.wait_for(lk, std::chrono::milliseconds(timeout_ms), [&] { return rules_.at(size_t(id)).held > 0; });
}

void FaultBackend::release(int id) {
  std::lock_guard lk(mu_);
  rules_.at(size_t(id)).released = true;
  cv_.notify_all();
}

void FaultBackend::release_all() {
  std::lock_guard lk(mu_);
  for (auto& r : rules_) r.released = true;
  cv_.notify_all();
}

uint64_t FaultBackend::calls(BackendCall call) const {
  std::lock_guard lk(mu_);
  return counts_[size_t(call)];
}

void FaultBackend::reset_counts() {
  std::lock_guard lk(mu_);
  counts_ = {};
}

void FaultBackend::protect(const std::string& prefix, int64_t until_unix) {
  std::lock_guard lk(mu_);
  protected_.emplace_back(prefix, until_unix);
}

void FaultBackend::unprotect() {
  std::lock_guard lk(mu_);
  protected_.clear();
}

void FaultBackend::refuse_if_protected(const std::string& name, const char* what) const {
  std::lock_guard lk(mu_);
  for (const auto& [prefix, until] : protected_)
    if (name.starts_with(prefix) && (until == 0 || int64_t(::time(nullptr)) < until))
      throw Error(ErrorKind::Refused, std::string("cannot ") + what + " " + name + " at " + location() +
                                          ": the store's Object Lock protects it" +
                                          (until ? " until unix time " + std::to_string(until) : std::string()));
}

std::optional<ErrorKind> FaultBackend::before(BackendCall call, const std::string& name) const {
  std::unique_lock lk(mu_);
  counts_[size_t(call)]++;
  counts_[size_t(BackendCall::Any)]++;
  std::optional<ErrorKind> fail_after;
  for (size_t i = 0; i < rules_.size(); i++) {
    auto& st = rules_[i];
    const FaultRule& r = st.rule;
    if ((r.call != BackendCall::Any && r.call != call) || !name.starts_with(r.prefix)) continue;
    uint64_t n = ++st.seen;
    if (n != r.nth && !(r.and_later && n > r.nth)) continue;
    switch (r.action) {
      case FaultRule::Action::Fail:
        if (r.after_call) {
          fail_after = r.kind;
          break;
        }
        throw Error(r.kind, std::string("injected fault: ") + backend_call_name(call) + " " + name + " (call " +
                                std::to_string(n) + " matching rule " + std::to_string(i) + ")");
      case FaultRule::Action::Pause:
        if (st.released) break;
        st.held++;
        cv_.notify_all();
        cv_.wait(lk, [&] { return rules_[i].released; });
        rules_[i].held--;
        break;
      case FaultRule::Action::Sleep: {
        int ms = r.sleep_ms;
        lk.unlock();
        std::this_thread::sleep_for(std::chrono::milliseconds(ms));
        lk.lock();
        break;
      }
    }
  }
  return fail_after;
}

void FaultBackend::after(std::optional<ErrorKind> fail, BackendCall call, const std::string& name) const {
  if (fail)
    throw Error(
        *fail, std::string("injected fault after the call reached the store: ") + backend_call_name(call) + " " + name);
}

template <typename F>
auto FaultBackend::run(BackendCall call, const std::string& name, F&& f) const {
  auto fail = before(call, name);
  if constexpr (std::is_void_v<decltype(f())>) {
    f();
    after(fail, call, name);
  } else {
    auto r = f();
    after(fail, call, name);
    return r;
  }
}

void FaultBackend::put(const std::string& name, ByteView data) {
  run(BackendCall::Put, name, [&] {
    refuse_if_protected(name, "replace");
    inner_->put(name, data);
  });
}

bool FaultBackend::put_if_absent(const std::string& name, ByteView data) {
  return run(BackendCall::PutIfAbsent, name, [&] { return inner_->put_if_absent(name, data); });
}

Bytes FaultBackend::get(const std::string& name) const {
  return run(BackendCall::Get, name, [&] { return inner_->get(name); });
}

Bytes FaultBackend::get_range_upto(const std::string& name, uint64_t offset, uint64_t length) const {
  return run(BackendCall::GetRange, name, [&] { return inner_->get_range_upto(name, offset, length); });
}

std::optional<ObjectInfo> FaultBackend::stat(const std::string& name) const {
  return run(BackendCall::Stat, name, [&] { return inner_->stat(name); });
}

void FaultBackend::list(const std::string& prefix, const std::function<void(const ObjectInfo&)>& fn) const {
  run(BackendCall::List, prefix, [&] { inner_->list(prefix, fn); });
}

void FaultBackend::remove(const std::string& name) {
  run(BackendCall::Remove, name, [&] {
    refuse_if_protected(name, "delete");
    inner_->remove(name);
  });
}

void FaultBackend::put_file(const std::string& name, const std::string& path) {
  run(BackendCall::PutFile, name, [&] {
    refuse_if_protected(name, "replace");
    inner_->put_file(name, path);
  });
}

void FaultBackend::lock_object(const std::string& name, const StoreLock& lock) {
  run(BackendCall::LockObject, name, [&] { inner_->lock_object(name, lock); });
}

}  // namespace arca
