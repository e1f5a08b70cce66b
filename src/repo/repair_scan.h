// Reading packs' own headers instead of the index: what `repair index` rebuilds the index from,
// and what readers fall back to when an index file is damaged (so one damaged index object
// does not make the packs it listed unreadable).
#pragma once
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "repo/index.h"
#include "storage/backend.h"
#include "util/progress.h"

namespace arca {

// Every stored pack: name -> size.
std::map<std::string, uint64_t> list_stored_packs(const Backend& backend);

struct ScannedPack {
  std::string name;
  IndexPack pack;                       // id, type and blobs from the header (when `error` is empty)
  std::string error;                    // why the header could not be read
  std::optional<uint32_t> key_version;  // the key version the header is sealed with, if known
};

// Reads the headers of `packs` (name -> size) in parallel; a pack whose header cannot be read
// is reported in its `error`, never thrown (storage failures other than damage are thrown).
std::vector<ScannedPack> scan_pack_headers(const Backend& backend, const Keyring& keys,
                                           const std::map<std::string, uint64_t>& packs, unsigned threads,
                                           ProgressCounters* progress = nullptr);

// The data key version a sealed object names (repository-format.md §2), if it is long enough.
std::optional<uint32_t> sealed_key_version(ByteView sealed);

// For readers when the index is incomplete (`why`: damaged index objects, or a blob no index
// object lists): adds to `into` every stored pack that `listed` does not list, read from the
// pack's own header, and puts their ids in `added` (`listed` and `into` may be the same index).
// Says once what happened and what to run; with `quiet_if_none`, nothing when no pack is unlisted.
void index_packs_from_headers(const Backend& backend, const Keyring& keys, const Index& listed, Index& into,
                              const std::string& why, bool quiet_if_none, std::vector<Id>& added,
                              const std::function<void(const std::string&)>& warn);

// `msg` without a leading "<name>: " or "<name> " (so a report that names the object first does
// not name it twice).
std::string without_name(const std::string& msg, const std::string& name);

}  // namespace arca
