// Micro-benchmarks of the per-byte stages of the backup pipeline, in MB/s (bytes_per_second).
// Compare with the machine's limits: `openssl speed -evp aes-256-gcm`, `openssl speed -evp sha256`,
// `zstd -b3` (bench/machine-limits.sh prints them).
#include <benchmark/benchmark.h>

#include <random>

#include "chunk/fastcdc.h"
#include "crypto/aead.h"
#include "crypto/hash.h"
#include "crypto/random.h"
#include "repo/compress.h"
#include "repo/envelope.h"

using namespace arca;

namespace {

const Bytes& random_buf() {
  static Bytes b = [] {
    Bytes x(8 << 20);
    std::mt19937_64 rng(1);
    for (size_t i = 0; i < x.size(); i += 8) {
      uint64_t v = rng();
      std::memcpy(&x[i], &v, 8);
    }
    return x;
  }();
  return b;
}

const Bytes& text_buf() {
  static Bytes b = [] {
    std::mt19937_64 rng(2);
    const char* words[] = {"order", "payment", "customer", "INFO", "ERROR", "amount", "currency", "EUR",
                           "status", "shipped", "2026-11-25T10:00:00Z", "user_id", "latency_ms", "GET", "/api/v1"};
    std::string s;
    while (s.size() < (8u << 20)) {
      for (int i = 0; i < 10; i++) s += std::string(words[rng() % 15]) + " ";
      s += std::to_string(rng() % 1000000) + "\n";
    }
    s.resize(8 << 20);
    return Bytes(s.begin(), s.end());
  }();
  return b;
}

void BM_Chunking(benchmark::State& st) {
  Key seed = random_key();
  Chunker c(ChunkerParams{}, seed);
  const Bytes& data = random_buf();
  for (auto _ : st) {
    size_t pos = 0, n = 0;
    while (pos < data.size()) {
      pos += c.cut(ByteView(data).subspan(pos));
      n++;
    }
    benchmark::DoNotOptimize(n);
  }
  st.SetBytesProcessed(int64_t(st.iterations()) * int64_t(data.size()));
}
BENCHMARK(BM_Chunking)->Unit(benchmark::kMillisecond);

void BM_KeyedId_HmacSha256(benchmark::State& st) {
  Key k = random_key();
  ByteView chunk = ByteView(random_buf()).first(1 << 20);
  for (auto _ : st) benchmark::DoNotOptimize(hmac_sha256(k, chunk));
  st.SetBytesProcessed(int64_t(st.iterations()) * int64_t(chunk.size()));
}
BENCHMARK(BM_KeyedId_HmacSha256)->Unit(benchmark::kMicrosecond);

void BM_Sha256(benchmark::State& st) {
  ByteView chunk = ByteView(random_buf()).first(1 << 20);
  for (auto _ : st) benchmark::DoNotOptimize(sha256(chunk));
  st.SetBytesProcessed(int64_t(st.iterations()) * int64_t(chunk.size()));
}
BENCHMARK(BM_Sha256)->Unit(benchmark::kMicrosecond);

void BM_AesGcmSeal(benchmark::State& st) {
  Key k = random_key();
  ByteView chunk = ByteView(random_buf()).first(1 << 20);
  Bytes out;
  for (auto _ : st) {
    out.clear();
    aead_seal(k, {}, chunk, out);
    benchmark::DoNotOptimize(out.data());
  }
  st.SetBytesProcessed(int64_t(st.iterations()) * int64_t(chunk.size()));
}
BENCHMARK(BM_AesGcmSeal)->Unit(benchmark::kMicrosecond);

void compress_bench(benchmark::State& st, const Bytes& src) {
  ByteView chunk = ByteView(src).first(1 << 20);
  Bytes out;
  size_t compressed = 0;
  for (auto _ : st) {
    out.clear();
    compress_maybe(chunk, int(st.range(0)), out);
    compressed = out.size();
  }
  st.SetBytesProcessed(int64_t(st.iterations()) * int64_t(chunk.size()));
  st.counters["ratio"] = double(chunk.size()) / double(compressed);
}
void BM_ZstdText(benchmark::State& st) { compress_bench(st, text_buf()); }
void BM_ZstdRandom(benchmark::State& st) { compress_bench(st, random_buf()); }
BENCHMARK(BM_ZstdText)->Arg(1)->Arg(3)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ZstdRandom)->Arg(1)->Arg(3)->Unit(benchmark::kMicrosecond);

// The whole per-chunk work of a backup: id, compress (or skip), encrypt.
void BM_SealBlob(benchmark::State& st) {
  Keyring k;
  k.master = random_key();
  k.id_key = random_key();
  k.data_keys[1] = random_key();
  const Bytes& src = st.range(0) ? text_buf() : random_buf();
  ByteView chunk = ByteView(src).first(1 << 20);
  Bytes out;
  for (auto _ : st) {
    benchmark::DoNotOptimize(hmac_sha256(k.id_key, chunk));
    out.clear();
    seal(k, 1, chunk, 3, out);
  }
  st.SetBytesProcessed(int64_t(st.iterations()) * int64_t(chunk.size()));
}
BENCHMARK(BM_SealBlob)->Arg(0)->Arg(1)->ArgName("text")->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
