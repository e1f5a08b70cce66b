#!/usr/bin/env python3
"""Summarize bench/run.sh measurements: Markdown (medians, ratios) on stdout, everything as JSON.

    bench/summarize.py META.json MEASUREMENTS.jsonl OUT.json
"""

import json
import statistics
import sys

PHASES = [  # (key, label, has throughput)
    ("init", "init", False),
    ("backup-initial", "initial backup", True),
    ("backup-nochange", "no-change backup", True),
    ("backup-mutated", "backup after mutation", True),
    ("restore", "full restore (latest)", True),
    ("check", "check, reading all data", True),
    ("snapshots", "list snapshots", False),
]
SIZES = [("size-initial", "repo after initial backup"), ("size-final", "repo after 3 backups"),
         ("cache-size", "local cache (outside the repo)")]
MiB = 1024 * 1024


def median(xs):
    return statistics.median(xs) if xs else None


def fmt(x, digits=2):
    if x is None:
        return "–"
    return "%.*f" % (digits, x)


def ratio(a, b):
    return a / b if a is not None and b else None


def main():
    meta_path, raw_path, out_path = sys.argv[1:4]
    meta = json.load(open(meta_path))
    rows = [json.loads(line) for line in open(raw_path) if line.strip()]
    tools = meta["tools"]

    med = {}  # tool -> phase -> {...}
    for t in tools:
        med[t] = {}
        for key, _, thr in PHASES:
            ms = [r for r in rows if r["tool"] == t and r["phase"] == key]
            if not ms:
                continue
            wall = median([m["wall_s"] for m in ms])
            nbytes = ms[0]["bytes"]
            med[t][key] = {
                "runs": len(ms),
                "wall_s": wall,
                "wall_s_all": [m["wall_s"] for m in ms],
                "mb_per_s": (nbytes / 1e6 / wall) if thr and wall > 0 else None,
                "max_rss_mib": median([m["max_rss_kib"] / 1024 for m in ms]),
                "cpu_s": median([m["user_s"] + m["sys_s"] for m in ms]),
                "bytes": nbytes,
            }
        for key, _ in SIZES:
            ms = [r["bytes"] for r in rows if r["tool"] == t and r["phase"] == key]
            if ms:
                med[t][key] = {"bytes": median(ms), "bytes_all": ms}

    ratios = {}
    if "arca" in tools:
        for other in (t for t in tools if t != "arca"):
            r = {}
            for key, _, _ in PHASES:
                a, o = med["arca"].get(key), med[other].get(key)
                if a and o:
                    r[key] = {"time": ratio(a["wall_s"], o["wall_s"]),
                              "max_rss": ratio(a["max_rss_mib"], o["max_rss_mib"])}
            for key, _ in SIZES[:2]:
                a, o = med["arca"].get(key), med[other].get(key)
                if a and o:
                    r[key] = {"bytes": ratio(a["bytes"], o["bytes"])}
            ratios["arca/" + other] = r

    json.dump({"meta": meta, "medians": med, "ratios": ratios, "measurements": rows},
              open(out_path, "w"), indent=2)

    # --- Markdown ---
    p = print
    p("## Arca vs restic vs borg: end-to-end benchmark")
    p()
    p("Command: `%s`" % meta["command"])
    p()
    p("- Data set: %.1f MiB in %d files (seed %d); after `make-data.py --mutate`: %.1f MiB in %d files"
      % (meta["data_bytes"] / MiB, meta["data_files"], meta["seed"], meta["mutated_bytes"] / MiB,
         meta["mutated_files"]))
    m = meta["machine"]
    p("- Machine: %d CPUs (%s), %d MiB RAM, Linux %s; warm page cache; %s UTC"
      % (m["cpus"], m["cpu"], m["mem_mib"], m["kernel"], meta["date_utc"]))
    for t in tools:
        p("- %s: %s; %s" % (t, meta["versions"][t], meta["settings"][t]))
    p("- Medians of %d run(s), fresh repositories per run. MB/s = data set size (10^6 bytes) / wall time;"
      " peak RSS from `/usr/bin/time -v`; CPU = user + system seconds." % meta["runs"])
    p()
    p("| Phase | Tool | Time (s) | MB/s | Peak RSS (MiB) | CPU (s) |")
    p("|---|---|---:|---:|---:|---:|")
    for key, label, _ in PHASES:
        for t in tools:
            x = med[t].get(key)
            if x:
                p("| %s | %s | %s | %s | %s | %s |" % (label, t, fmt(x["wall_s"]), fmt(x["mb_per_s"], 1),
                                                       fmt(x["max_rss_mib"], 1), fmt(x["cpu_s"])))
    p()
    p("| Repository size | %s |" % " | ".join(tools))
    p("|---|%s|" % "|".join("---:" for _ in tools))
    for key, label in SIZES:
        cells = []
        for t in tools:
            x = med[t].get(key)
            cells.append("%.1f MiB" % (x["bytes"] / MiB) if x else "–")
        p("| %s | %s |" % (label, " | ".join(cells)))
    if ratios:
        others = [t for t in tools if t != "arca"]
        p()
        p("Ratios Arca / other (below 1: Arca is faster, uses less memory, or is smaller):")
        p()
        p("| Phase | %s |" % " | ".join("time vs %s | RSS vs %s" % (o, o) for o in others))
        p("|---|%s|" % "|".join("---:|---:" for _ in others))
        for key, label, _ in PHASES:
            cells = []
            for o in others:
                r = ratios["arca/" + o].get(key, {})
                cells += [fmt(r.get("time")), fmt(r.get("max_rss"))]
            p("| %s | %s |" % (label, " | ".join(cells)))
        for key, label in SIZES[:2]:
            cells = []
            for o in others:
                r = ratios["arca/" + o].get(key, {})
                cells += [fmt(r.get("bytes")), ""]
            p("| %s (size) | %s |" % (label, " | ".join(cells)))


if __name__ == "__main__":
    main()
