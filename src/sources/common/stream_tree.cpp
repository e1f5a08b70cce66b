#include "sources/common/stream_tree.h"

#include <algorithm>
#include <cstring>

#include "util/error.h"

namespace arca {

static std::string parent_of(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? "" : path.substr(0, slash);
}

static std::string name_of(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

static void check_path(const std::string& path) {
  if (path.empty()) throw Error(ErrorKind::Corrupt, "empty entry path in the stream");
  // Trees are stored recursively and read back by every walker only this deep: a server that
  // sends deeper paths is refused here, at backup time (docs/security.md, "Tree depth").
  if (size_t(std::count(path.begin(), path.end(), '/')) + 1 >= kMaxTreeDepth)
    throw tree_too_deep("the backup stream", path);
  size_t start = 0;
  while (true) {
    size_t slash = path.find('/', start);
    std::string part = path.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (!is_safe_name(part)) throw Error(ErrorKind::Corrupt, "unsafe entry path '" + path + "' in the stream");
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
}

StreamTree::StreamTree(Repository& repo, BlobWriter& writer, ProgressCounters& progress, unsigned threads)
    : repo_(repo), writer_(writer), progress_(progress), queue_(16) {
  dirs_[""] = true;
  unsigned n = threads ? threads : std::max(1u, std::thread::hardware_concurrency());
  for (unsigned i = 0; i < n; i++) workers_.emplace_back([this] { worker(); });
}

StreamTree::~StreamTree() {
  queue_.close();
  for (auto& w : workers_)
    if (w.joinable()) w.join();
}

void StreamTree::fail(std::exception_ptr e) {
  std::lock_guard lk(err_mu_);
  if (!error_) error_ = e;
  failed_ = true;
  queue_.close();
}

void StreamTree::check_failed() {
  if (!failed_) return;
  std::lock_guard lk(err_mu_);
  std::rethrow_exception(error_);
}

void StreamTree::worker() {
  while (auto job = queue_.pop()) {
    try {
      Id id = repo_.blob_id(job->data);
      writer_.add(BlobType::Data, id, job->data);
      std::lock_guard lk(job->file->mu);
      job->file->ids[job->index] = id;
    } catch (...) {
      fail(std::current_exception());
    }
    progress_.bytes_done += job->data.size();
  }
}

void StreamTree::ensure_parents(const std::string& path) {
  for (std::string p = parent_of(path); !p.empty() && !dirs_.count(p); p = parent_of(p)) {
    dirs_[p] = true;
    Entry e;
    e.node.name = name_of(p);
    e.node.type = NodeType::Dir;
    e.node.mode = 0700;
    entries_[p] = std::move(e);
  }
}

void StreamTree::put(const std::string& path, Entry e) {
  check_path(path);
  ensure_parents(path);
  e.node.name = name_of(path);
  auto it = entries_.find(path);
  if (it != entries_.end() && it->second.node.type == NodeType::Dir && e.node.type != NodeType::Dir)
    throw Error(ErrorKind::Corrupt, "the stream has both a directory and a file at '" + path + "'");
  if (e.node.type == NodeType::Dir) dirs_[path] = true;
  entries_[path] = std::move(e);
}

void StreamTree::add_dir(const std::string& path, Node meta) {
  check_failed();
  meta.type = NodeType::Dir;
  put(path, Entry{std::move(meta), nullptr});
}

void StreamTree::add_symlink(const std::string& path, Node meta) {
  check_failed();
  meta.type = NodeType::Symlink;
  put(path, Entry{std::move(meta), nullptr});
  symlinks_++;
}

void StreamTree::begin_file(const std::string& path, Node meta, size_t fixed_chunk) {
  check_failed();
  if (in_file_) throw std::logic_error("StreamTree: begin_file inside a file");
  meta.type = NodeType::File;
  cur_ = std::make_shared<FileContent>();
  put(path, Entry{std::move(meta), cur_});
  cur_path_ = path;
  cur_fixed_ = fixed_chunk;
  cur_index_ = 0;
  cur_size_ = 0;
  buf_.clear();
  in_file_ = true;
  files_++;
  progress_.set_current(path);
}

void StreamTree::emit(size_t len) {
  Job job{cur_, cur_index_++, Bytes(buf_.begin(), buf_.begin() + ptrdiff_t(len))};
  {
    std::lock_guard lk(cur_->mu);
    cur_->ids.emplace_back();
  }
  buf_.erase(buf_.begin(), buf_.begin() + ptrdiff_t(len));
  if (!queue_.push(std::move(job))) check_failed();
}

// Cuts every chunk that is certain: with fixed sizes, each full one; with content-defined
// chunking, only while a full maximum-size window is buffered (unless at the end of the file).
void StreamTree::cut(bool final) {
  if (cur_fixed_) {
    while (buf_.size() >= cur_fixed_ || (final && !buf_.empty())) emit(std::min(buf_.size(), cur_fixed_));
    return;
  }
  size_t max = repo_.chunker().params().max_size;
  while (buf_.size() >= max || (final && !buf_.empty())) emit(repo_.chunker().cut(ByteView(buf_.data(), buf_.size())));
}

void StreamTree::write(ByteView data) {
  if (!in_file_) throw std::logic_error("StreamTree: write outside a file");
  check_failed();
  buf_.insert(buf_.end(), data.begin(), data.end());
  cur_size_ += data.size();
  size_t threshold = cur_fixed_ ? cur_fixed_ : 2 * size_t(repo_.chunker().params().max_size);
  if (buf_.size() >= threshold) cut(false);
}

void StreamTree::end_file() {
  if (!in_file_) throw std::logic_error("StreamTree: end_file outside a file");
  cut(true);
  entries_[cur_path_].node.size = cur_size_;
  bytes_ += cur_size_;
  progress_.files_done++;
  in_file_ = false;
  cur_.reset();
}

// One directory's tree, its subdirectories' trees already in `stored`.
Id StreamTree::store_dir(const std::string& path, const std::map<std::string, Id>& stored) {
  // Children of `path` are the entries whose parent is `path`; the map is sorted by path, and a
  // directory's children all start with "path/". A child directory's own descendants ("c/…",
  // contiguous, sorting before "c0") are jumped over, so deep paths cost no quadratic scan.
  Tree t;
  std::string prefix = path.empty() ? "" : path + "/";
  for (auto it = entries_.lower_bound(prefix);
       it != entries_.end() && it->first.compare(0, prefix.size(), prefix) == 0;) {
    if (it->first.find('/', prefix.size()) != std::string::npos) {  // not reached: parents are entries
      ++it;
      continue;
    }
    Node n = it->second.node;
    if (n.type == NodeType::File) {
      std::lock_guard lk(it->second.content->mu);
      n.content = it->second.content->ids;
    }
    if (n.type == NodeType::Dir) {
      n.subtree = stored.at(it->first);
      it = entries_.lower_bound(it->first + '0');  // '0' follows '/'
    } else {
      ++it;
    }
    t.nodes.push_back(std::move(n));
  }
  std::sort(t.nodes.begin(), t.nodes.end(), [](const Node& a, const Node& b) { return a.name < b.name; });
  Bytes enc = encode_tree(t);
  Id id = repo_.blob_id(enc);
  writer_.add(BlobType::Tree, id, enc);
  return id;
}

// Deepest first, so that every directory's subtrees exist before it: no recursion as deep as
// the paths a server sends (docs/security.md, "Tree depth").
Id StreamTree::store_dirs() {
  std::vector<std::pair<size_t, const std::string*>> order;
  for (const auto& [path, is_dir] : dirs_)
    order.emplace_back(path.empty() ? 0 : 1 + size_t(std::count(path.begin(), path.end(), '/')), &path);
  std::stable_sort(order.begin(), order.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  std::map<std::string, Id> stored;
  for (const auto& [depth, path] : order) stored[*path] = store_dir(*path, stored);
  return stored.at("");
}

SnapshotStats StreamTree::stats(const BlobWriter& writer, double duration_s) const {
  SnapshotStats s;
  s.files = s.files_new = files_;
  s.dirs = dirs();
  s.symlinks = symlinks_;
  s.bytes = s.bytes_read = bytes_;
  s.blobs_added = writer.blobs_added();
  s.bytes_added = writer.bytes_added();
  s.stored_added = writer.stored_bytes();
  s.duration_s = duration_s;
  return s;
}

Id StreamTree::finish() {
  if (finished_) throw std::logic_error("StreamTree: finish called twice");
  finished_ = true;
  if (in_file_) throw Error(ErrorKind::Corrupt, "the stream ended inside file '" + cur_path_ + "'");
  queue_.close();
  for (auto& w : workers_) w.join();
  check_failed();
  return store_dirs();
}

}  // namespace arca
