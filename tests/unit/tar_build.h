// Building tar archives in tests (and fuzz seeds) the way PostgreSQL's BASE_BACKUP sends them,
// and collecting what TarReader makes of them.
#pragma once
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "sources/common/tar_reader.h"
#include "util/bytes.h"

namespace arca::test {

// Recomputes a header block's checksum (after a test edited a field).
inline void tar_checksum(Bytes& h) {
  std::memset(h.data() + 148, ' ', 8);
  unsigned sum = 0;
  for (size_t i = 0; i < 512; i++) sum += h[i];
  std::snprintf(reinterpret_cast<char*>(h.data() + 148), 8, "%06o", sum);
}

// One ustar header block (with a valid checksum) for `name`.
inline Bytes tar_header(const std::string& name, char type, uint64_t size, const std::string& link = "",
                        unsigned mode = 0600) {
  Bytes h(512, 0);
  std::memcpy(h.data(), name.data(), std::min<size_t>(name.size(), 100));
  std::snprintf(reinterpret_cast<char*>(h.data() + 100), 8, "%07o", mode);
  std::snprintf(reinterpret_cast<char*>(h.data() + 108), 8, "%07o", 26);
  std::snprintf(reinterpret_cast<char*>(h.data() + 116), 8, "%07o", 27);
  std::snprintf(reinterpret_cast<char*>(h.data() + 124), 12, "%011llo", static_cast<unsigned long long>(size));
  std::snprintf(reinterpret_cast<char*>(h.data() + 136), 12, "%011o", 1700000000);
  h[156] = uint8_t(type);
  std::memcpy(h.data() + 157, link.data(), std::min<size_t>(link.size(), 100));
  std::memcpy(h.data() + 257,
              "ustar\0"
              "00",
              8);
  std::memcpy(h.data() + 265, "postgres", 8);
  tar_checksum(h);
  return h;
}

// Appends a header and its data, padded to the 512-byte block.
inline void tar_append(Bytes& tar, const Bytes& h, const std::string& data) {
  tar.insert(tar.end(), h.begin(), h.end());
  tar.insert(tar.end(), data.begin(), data.end());
  tar.resize(tar.size() + (512 - data.size() % 512) % 512, 0);
}

inline void append_entry(Bytes& tar, const std::string& name, char type, const std::string& data = "",
                         const std::string& link = "", unsigned mode = 0600) {
  tar_append(tar, tar_header(name, type, data.size(), link, mode), data);
}

struct Collected {
  std::vector<TarEntry> entries;
  std::vector<std::string> contents;
};

inline TarReader::Callbacks collector(Collected& c) {
  return {[&c](const TarEntry& e) {
            c.entries.push_back(e);
            c.contents.emplace_back();
          },
          [&c](ByteView d) { c.contents.back().append(reinterpret_cast<const char*>(d.data()), d.size()); }, nullptr};
}

}  // namespace arca::test
