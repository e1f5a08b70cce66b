#include <iostream>
#include <unordered_set>

#include "cli/commands.h"
#include "ops/error_table.h"
#include "repo/envelope.h"
#include "repo/tree_walk.h"

namespace arca {

void register_stats(CLI::App& app, GlobalOptions& g) {
  auto* cmd = app.add_subcommand("stats",
                                 "Show sizes: logical (what the snapshots hold), after deduplication, "
                                 "and stored (after compression and encryption), with ratios");
  add_global_options(*cmd, g);
  auto refs = std::make_shared<std::vector<std::string>>();
  auto filter = std::make_shared<SnapshotFilter>();
  cmd->add_option("snapshots", *refs,
                  "Only these snapshots: ids (or unique prefixes) or 'latest' (default: every one the selectors match, "
                  "or the whole repository)");
  add_snapshot_filter_options(*cmd, *filter);
  set_command(*cmd, [&g, refs, filter] {
    auto repo = open_repository(g);
    const Index& index = repo->index();
    std::vector<Snapshot> snaps;
    bool whole = refs->empty() && filter->empty();  // then the whole index counts, not just the walked trees
    if (refs->empty())
      snaps = filter_snapshots(repo->list_snapshots(), *filter);
    else
      for (const auto& r : *refs) snaps.push_back(resolve_snapshot(*repo, r, *filter));
    uint64_t logical = 0, files = 0;
    for (const auto& s : snaps) {
      logical += s.stats.bytes;
      files += s.stats.files;
    }
    // Unique data: blobs referenced by the chosen snapshots (the whole index if all of them).
    uint64_t unique_raw = 0, unique_stored = 0, blobs = 0;
    if (whole) {
      auto count = [&](const BlobLocation& loc) {
        if (loc.type != BlobType::Data) return;
        unique_raw += loc.raw_length;
        unique_stored += loc.length;
        blobs++;
      };
      index.for_each([&](const Id&, const BlobLocation& loc) { count(loc); });
      // Packs whose index object is gone or damaged count too (read from their headers, with a warning).
      repo->unindexed_packs().for_each([&](const Id& id, const BlobLocation& loc) {
        if (!index.has(id)) count(loc);
      });
    } else {
      std::unordered_set<Id, IdHash> seen;
      for (const auto& s : snaps)
        walk_tree(
            *repo, s.tree,
            [&](const std::string&, const Node& n) {
              for (const auto& id : n.content)
                if (seen.insert(id).second)
                  if (auto loc = repo->find_blob(id)) {
                    unique_raw += loc->raw_length;
                    unique_stored += loc->length;
                    blobs++;
                  }
              return true;
            },
            "", "snapshot " + s.id.short_hex());
    }
    uint64_t repo_bytes = 0, pack_count = 0;
    for (const char* dir : {"data/", "meta/", "index/", "snapshots/"})
      repo->backend().list(dir, [&](const ObjectInfo& o) {
        repo_bytes += o.size;
        pack_count += std::string(dir) != "index/" && std::string(dir) != "snapshots/";
      });
    // Every stored blob carries a fixed envelope (key version, nonce, tag, codec byte). On tiny
    // points that overhead outweighs compression, so it is shown apart: the compression ratio
    // compares the data with its compressed form only, and is never below 1 (data that does not
    // shrink is stored uncompressed).
    uint64_t overhead = std::min<uint64_t>(unique_stored, blobs * kEnvelopeOverhead);
    uint64_t compressed = unique_stored - overhead;
    double dedup = unique_raw ? double(logical) / double(unique_raw) : 0;
    double comp = compressed ? double(unique_raw) / double(compressed) : 0;
    double per_blob = index.blob_count() ? double(index.memory_bytes()) / double(index.blob_count()) : 0;
    if (g.json) {
      print_json({{"snapshots", snaps.size()},
                  {"files", files},
                  {"logical_bytes", logical},
                  {"unique_bytes", unique_raw},
                  {"unique_stored_bytes", unique_stored},
                  {"data_blobs", blobs},
                  {"repository_bytes", repo_bytes},
                  {"packs", pack_count},
                  {"dedup_ratio", dedup},
                  {"compression_ratio", comp},
                  {"compressed_bytes", compressed},
                  {"envelope_bytes", overhead},
                  {"index_blobs", index.blob_count()},
                  {"index_memory_bytes", index.memory_bytes()},
                  {"index_bytes_per_blob", per_blob}});
      return kExitOk;
    }
    char buf[64];
    auto ratio = [&](double r) {  // no data, no ratio
      if (r <= 0) return std::string("-");
      snprintf(buf, sizeof buf, "%.2fx", r);
      return std::string(buf);
    };
    std::cout << "snapshots:            " << snaps.size() << " (" << counted(files, "file", "files") << ")\n"
              << "logical size:         " << human_bytes(logical) << "\n"
              << "after deduplication:  " << human_bytes(unique_raw) << " in " << counted(blobs, "blob", "blobs")
              << "\n"
              << "stored:               " << human_bytes(unique_stored) << " (" << human_bytes(compressed)
              << " compressed data + " << human_bytes(overhead) << " encryption envelopes, " << kEnvelopeOverhead
              << " bytes per blob)\n"
              << "repository on disk:   " << human_bytes(repo_bytes) << " (" << counted(pack_count, "pack", "packs")
              << ")\n"
              << "deduplication ratio:  " << ratio(dedup) << "\n"
              << "compression ratio:    " << ratio(comp) << " (data / compressed data, envelopes not counted)\n";
    snprintf(buf, sizeof buf, "%.1f", per_blob);
    std::cout << "index in memory:      " << human_bytes(index.memory_bytes()) << " for "
              << counted(index.blob_count(), "blob", "blobs") << " (" << buf << " bytes/blob)\n";
    return kExitOk;
  });
}

}  // namespace arca
