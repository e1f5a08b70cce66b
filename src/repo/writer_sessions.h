// Writing sessions (`writers/<id>`, docs/repository-format.md §9): a backup registers itself for
// as long as it writes, so that an operation that deletes at once (`prune --grace 0`) can refuse
// while one runs, and a backup can refuse while such a prune runs. Both sides create their own
// object first and look for the other's second, so at least one of two racing sides sees the other.
#pragma once
#include <optional>
#include <string>
#include <vector>

namespace arca {

class Repository;

struct WriterRecord {
  std::string name;  // writers/<64 hex>
  std::string host, domain, started;
  int pid = 0;
  bool done = false;     // a writer whose key cannot delete left writers/<id>.done when it ended
  bool damaged = false;  // unreadable: treated as running
};

// Where a process runs: a pid means something only on the same host, boot and pid namespace.
std::string process_domain();
// True if the record's process is known to be gone (same domain, no such pid) or it ended.
bool writer_is_stale(const WriterRecord& w);
// True if the record's process is known to run: same domain and the pid exists. Nothing may
// remove such a record, not even `unlock --remove-all`.
bool writer_is_running_here(const WriterRecord& w);

// Registers this process's session; returns the object's name.
std::string register_writer(Repository& repo);
// Ends it: removes the object, or where the key cannot delete, adds writers/<id>.done. Never throws.
void unregister_writer(Repository& repo, const std::string& name) noexcept;
std::vector<WriterRecord> list_writers(const Repository& repo);
// One record (a registration or the prune lock, which has the same fields); nullopt if it is
// gone, `damaged` if it cannot be read.
std::optional<WriterRecord> read_writer_record(const Repository& repo, const std::string& name);
// Removes a record (and its .done companion).
void remove_writer(Repository& repo, const WriterRecord& w);
std::string describe(const WriterRecord& w);  // "host h, pid 12, since …"

}  // namespace arca
