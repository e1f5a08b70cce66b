// jemalloc's settings for the arca binary (read by jemalloc at start-up; the MALLOC_CONF
// environment variable still overrides them).
//
// One arena instead of jemalloc's default of four per CPU: Arca's threads pass buffers of up to
// a few MiB to each other, and every arena would keep its own freed pages; with one, an S3
// restore peaks at ~115 MiB instead of ~170 MiB, at no measured cost in speed (small allocations
// are served from per-thread caches either way). See docs/benchmarks.md.
extern "C" {
extern const char* malloc_conf;
const char* malloc_conf = "narenas:1";
}
