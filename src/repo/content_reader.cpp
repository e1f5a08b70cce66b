#include "repo/content_reader.h"

#include <cstring>

#include "repo/tree_walk.h"
#include "util/error.h"

namespace arca {

ContentReader::ContentReader(Repository& repo, std::vector<Id> chunks) : repo_(repo), chunks_(std::move(chunks)) {
  prefetch();
}

void ContentReader::prefetch() {
  if (next_ < chunks_.size()) {
    Id id = chunks_[next_++];
    pending_ = std::async(std::launch::async, [this, id] { return repo_.read_blob(id); });
  }
}

size_t ContentReader::read(uint8_t* out, size_t max) {
  while (pos_ == cur_.size()) {
    if (!pending_.valid()) return 0;
    cur_ = pending_.get();
    pos_ = 0;
    prefetch();
  }
  size_t n = std::min(max, cur_.size() - pos_);
  std::memcpy(out, cur_.data() + pos_, n);
  pos_ += n;
  return n;
}

Node find_snapshot_node(Repository& repo, const Snapshot& snap, const std::string& path) {
  Id tree = content_root(repo, snap);
  size_t start = 0;
  while (true) {
    size_t slash = path.find('/', start);
    std::string name = path.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    Tree t = repo.load_tree(tree);
    const Node* found = nullptr;
    for (const auto& n : t.nodes)
      if (n.name == name) found = &n;
    if (!found) throw Error(ErrorKind::NotFound, "snapshot " + snap.id.short_hex() + " has no " + path);
    if (slash == std::string::npos) return *found;
    if (!found->subtree) throw Error(ErrorKind::NotFound, "snapshot " + snap.id.short_hex() + " has no " + path);
    tree = *found->subtree;
    start = slash + 1;
  }
}

}  // namespace arca
