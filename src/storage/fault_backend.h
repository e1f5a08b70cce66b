// A backend wrapper for tests that injects faults at the storage seam (LevelDB's
// fault_injection_test, Kopia's blobtesting): a rule makes the Nth call of a kind (optionally
// only for names under a prefix) fail with a given error kind, block until the test releases it,
// or sleep; every call is counted by kind; names can be protected the way S3 Object Lock does.
// With no rules it only forwards, so it also shares one backend between several owners.
#pragma once
#include <array>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

#include "storage/backend.h"
#include "util/error.h"

namespace arca {

// The calls a rule can match. Any matches every call (counted in call order across kinds).
enum class BackendCall { Get, GetRange, Stat, List, Put, PutIfAbsent, PutFile, Remove, LockObject, Any };
constexpr size_t kBackendCallKinds = size_t(BackendCall::Any) + 1;
const char* backend_call_name(BackendCall c);

struct FaultRule {
  enum class Action { Fail, Pause, Sleep };
  BackendCall call = BackendCall::Any;
  uint64_t nth = 1;        // fires on the nth matching call (1-based)
  bool and_later = false;  // and on every matching call after it: a crash, nothing more lands
  std::string prefix;      // only names starting with this ("" = every name)
  Action action = Action::Fail;
  ErrorKind kind = ErrorKind::Io;  // Fail: the error thrown
  bool after_call = false;         // Fail: the call reaches the store first, then the answer is lost
  int sleep_ms = 0;                // Sleep: how long
};

class FaultBackend : public Backend {
 public:
  explicit FaultBackend(std::shared_ptr<Backend> inner) : inner_(std::move(inner)) {}

  // Adds a rule; returns its handle (for pauses).
  int add_rule(const FaultRule& rule);
  int fail_on(BackendCall call, uint64_t nth, ErrorKind kind = ErrorKind::Io, const std::string& prefix = {});
  // Fails the nth matching call and every one after it (a process that died at that call).
  int crash_at(BackendCall call, uint64_t nth, const std::string& prefix = {});
  int pause_on(BackendCall call, uint64_t nth, const std::string& prefix = {});
  int sleep_on_each(BackendCall call, int ms, const std::string& prefix = {});
  void clear_rules();

  // Pauses: blocks until a call is held by rule `id` (false on timeout); lets held calls go on
  // (and later ones pass); the rule then no longer pauses.
  bool wait_paused(int id, int timeout_ms = 10000);
  void release(int id);
  void release_all();

  // Calls made so far (of a kind, or all with Any), whether they failed or not.
  uint64_t calls(BackendCall call) const;
  void reset_counts();

  // Simulated Object Lock: names under `prefix` refuse remove() and put() (replacement) with
  // Error(Refused) while the clock is before `until_unix` (0: until unprotect()).
  void protect(const std::string& prefix, int64_t until_unix = 0);
  void unprotect();

  std::string location() const override { return inner_->location(); }
  bool exists() const override { return inner_->exists(); }
  void create() override { inner_->create(); }
  void put(const std::string& name, ByteView data) override;
  bool put_if_absent(const std::string& name, ByteView data) override;
  bool atomic_put_if_absent() override { return inner_->atomic_put_if_absent(); }
  Bytes get(const std::string& name) const override;
  Bytes get_range_upto(const std::string& name, uint64_t offset, uint64_t length) const override;
  std::optional<ObjectInfo> stat(const std::string& name) const override;
  void list(const std::string& prefix, const std::function<void(const ObjectInfo&)>& fn) const override;
  void remove(const std::string& name) override;
  std::string staging_dir() override { return inner_->staging_dir(); }
  void put_file(const std::string& name, const std::string& path) override;
  bool staged_files_become_objects() const override { return inner_->staged_files_become_objects(); }
  unsigned parallelism() const override { return inner_->parallelism(); }
  bool supports_object_lock() const override { return inner_->supports_object_lock(); }
  void lock_object(const std::string& name, const StoreLock& lock) override;

 private:
  struct RuleState {
    FaultRule rule;
    uint64_t seen = 0;  // matching calls
    int held = 0;       // calls paused now
    bool released = false;
  };
  // Counts the call and applies the rules that fire on it (failing, holding or sleeping before
  // the call reaches the store); returns the kind to throw once it has, for after_call rules.
  std::optional<ErrorKind> before(BackendCall call, const std::string& name) const;
  void after(std::optional<ErrorKind> fail, BackendCall call, const std::string& name) const;
  void refuse_if_protected(const std::string& name, const char* what) const;
  template <typename F>
  auto run(BackendCall call, const std::string& name, F&& f) const;

  std::shared_ptr<Backend> inner_;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  mutable std::vector<RuleState> rules_;
  mutable std::array<uint64_t, kBackendCallKinds> counts_{};
  std::vector<std::pair<std::string, int64_t>> protected_;
};

}  // namespace arca
