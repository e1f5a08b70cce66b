#!/usr/bin/env python3
"""Measuring helpers for bench/server.sh (the `arca server` benchmark, issue 20).

  server_probe.py sample PID OUT SECONDS
      Once a second: wall time, the process's utime+stime (/proc/PID/stat, in seconds) and its
      VmRSS (KiB), one line per sample in OUT. Stops after SECONDS or when the process is gone.
  server_probe.py jobs URL TOKEN_FILE OUT SINCE
      Every job created at or after SINCE (unix seconds), from GET /api/v1/jobs (pages of 1000),
      as one JSON list in OUT.
  server_probe.py schedule SAMPLES JOBS LOG MAX_JOBS FROM TO
      The scheduling figures as markdown: start delays, creation delays, hand-off delays,
      CPU% of the seconds in which no job ran, idle and peak RSS. Only samples in [FROM, TO].
      The catalog's created_at and started_at are the `now` of the scheduler's pass that created
      or started the job, taken when the pass begins; the pass then writes to the catalog (one
      commit per job) before it launches each job's thread. The server's log line
      "job N (...) started", written just before the thread is launched, gives the real start.
  server_probe.py latency URL TOKEN_FILE N PATH...
      N GET requests per PATH over one keep-alive connection; median, p99 and max in ms.
"""
import http.client
import bisect
import datetime
import json
import os
import re
import statistics
import sys
import time
import urllib.parse

FINAL = {"SUCCESS", "PARTIAL", "FAILED", "SKIPPED", "EXPIRED", "CANCELED", "INTERRUPTED"}


def sample(pid, out, seconds):
    tick = os.sysconf("SC_CLK_TCK")
    end = time.time() + float(seconds)
    with open(out, "w") as f:
        while time.time() < end:
            try:
                with open(f"/proc/{pid}/stat") as s:
                    # Fields after the command name (which may hold spaces): utime, stime are 14, 15.
                    rest = s.read().rsplit(")", 1)[1].split()
                rss = 0
                with open(f"/proc/{pid}/status") as s:
                    for line in s:
                        if line.startswith("VmRSS:"):
                            rss = int(line.split()[1])
            except FileNotFoundError:
                break
            cpu = (int(rest[11]) + int(rest[12])) / tick
            f.write(f"{time.time():.3f} {cpu:.2f} {rss}\n")
            f.flush()
            # Sleep to the next whole second of our own timeline, so samples stay 1 s apart.
            time.sleep(1 - (time.time() % 1))


def connect(url):
    u = urllib.parse.urlsplit(url)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=60)


def get(conn, token, path):
    conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
    r = conn.getresponse()
    body = r.read()
    if r.status != 200:
        raise SystemExit(f"GET {path}: HTTP {r.status}: {body[:300]!r}")
    return body


def jobs(url, token_file, out, since):
    token = open(token_file).read().strip()
    conn = connect(url)
    result, before = [], None
    while True:
        q = {"limit": "1000", "since": str(since)}
        if before:
            q["before_id"] = str(before)
        page = json.loads(get(conn, token, "/api/v1/jobs?" + urllib.parse.urlencode(q)))
        result += page["jobs"]
        before = page.get("next_before_id")
        if not before:
            break
    with open(out, "w") as f:
        json.dump(result, f)


def pct(values, p):
    if not values:
        return float("nan")
    v = sorted(values)
    return v[min(len(v) - 1, max(0, int(round(p / 100 * len(v) + 0.5)) - 1))]


def line(name, values, unit="s", scale=1.0):
    if not values:
        return f"| {name} | 0 | – | – | – |"
    return (f"| {name} | {len(values)} | {statistics.median(values) * scale:.3f} {unit} | "
            f"{pct(values, 99) * scale:.3f} {unit} | {max(values) * scale:.3f} {unit} |")


def log_starts(log_file):
    """job id -> unix time of its "started" log line."""
    starts = {}
    pattern = re.compile(r"^(\S+)Z info job (\d+) \(.*\) started$")
    for line in open(log_file, errors="replace"):
        m = pattern.match(line.strip())
        if m:
            t = datetime.datetime.fromisoformat(m.group(1)).replace(tzinfo=datetime.timezone.utc)
            starts[int(m.group(2))] = t.timestamp()
    return starts


def schedule(samples_file, jobs_file, log_file, max_jobs, t_from, t_to):
    max_jobs, t_from, t_to = int(max_jobs), float(t_from), float(t_to)
    samples = [tuple(map(float, l.split())) for l in open(samples_file) if l.strip()]
    js = [j for j in json.load(open(jobs_file)) if j["trigger"] == "schedule"]
    logged = log_starts(log_file)
    real_delay = [logged[j["id"]] - j["scheduled_at_unix"] for j in js if j["id"] in logged]
    first_real = {}
    for j in js:
        if j["id"] in logged:
            d = logged[j["id"]] - j["scheduled_at_unix"]
            first_real[j["scheduled_at_unix"]] = min(first_real.get(j["scheduled_at_unix"], d), d)
    states = {}
    for j in js:
        states[j["state"]] = states.get(j["state"], 0) + 1
    started = [j for j in js if j["started_at_unix"]]
    start_delay = [j["started_at_unix"] - j["scheduled_at_unix"] for j in started]
    create_delay = [j["created_at_unix"] - j["scheduled_at_unix"] for j in js]
    # Hand-off delay: from the moment the job could have started (its time, or the end of the
    # job whose slot it took when all max-jobs slots were busy) to its start. It is the part of
    # the start delay the scheduler itself adds; the rest is waiting for a slot.
    finishes = sorted(j["finished_at_unix"] for j in js if j["finished_at_unix"] and j["started_at_unix"])
    handoff, first_slots = [], []
    by_time = {}
    for j in started:
        by_time.setdefault(j["scheduled_at_unix"], []).append(j)
    for j in started:
        s = j["started_at_unix"]
        i = bisect.bisect_right(finishes, s) - 1
        freed = finishes[i] if i >= 0 else 0
        handoff.append(s - max(j["scheduled_at_unix"], freed))
    for group in by_time.values():  # per scheduled time: the first max-jobs jobs to start
        group.sort(key=lambda j: j["started_at_unix"])
        first_slots += [j["started_at_unix"] - j["scheduled_at_unix"] for j in group[:max_jobs]]
    durations = [j["finished_at_unix"] - j["started_at_unix"] for j in started if j["finished_at_unix"]]

    # CPU between runs: a 1-second sample interval counts when no job was pending or running in it
    # (with 0.5 s of margin on each side for the scheduler's own bookkeeping around a job).
    busy = []
    for j in js:
        a = j["created_at_unix"] - 0.5
        b = (j["finished_at_unix"] or 1e18) + 0.5
        busy.append((a, b))
    busy.sort()
    idle_cpu, idle_rss, all_rss, busy_cpu = [], [], [], []
    for (t0, c0, _), (t1, c1, r1) in zip(samples, samples[1:]):
        if t0 < t_from or t1 > t_to:
            continue
        all_rss.append(r1)
        overlaps = any(a < t1 and b > t0 for a, b in busy)
        share = (c1 - c0) / (t1 - t0) * 100
        if overlaps:
            busy_cpu.append(share)
        else:
            idle_cpu.append(share)
            idle_rss.append(r1)
    mib = 1 / 1024
    print(f"jobs (trigger schedule): {len(js)}; states: " + ", ".join(f"{k} {v}" for k, v in sorted(states.items())))
    if durations:
        print(f"job run time: median {statistics.median(durations):.3f} s, max {max(durations):.3f} s")
    print()
    print("| delay | jobs | median | p99 | max |")
    print("|---|---:|---:|---:|---:|")
    print(line("catalog created_at − scheduled", create_delay))
    print(line("catalog started_at − scheduled (all jobs)", start_delay))
    print(line(f"catalog started_at − scheduled (first {max_jobs} of each scheduled time)", first_slots))
    print(line("catalog hand-off: started − max(scheduled, a slot freed)", handoff))
    print(line("log \"started\" − scheduled (all jobs: the real start)", real_delay))
    print(line("log \"started\" − scheduled (the first job of each scheduled time)", list(first_real.values())))
    print()
    print("| server process | samples | median | p99 | max |")
    print("|---|---:|---:|---:|---:|")
    print(line("CPU, seconds with no job pending or running", idle_cpu, "%"))
    print(line("CPU, seconds with jobs", busy_cpu, "%"))
    print(line("RSS, seconds with no job", idle_rss, "MiB", mib))
    print(line("RSS, all seconds", all_rss, "MiB", mib))
    if idle_cpu:
        print(f"\nmean CPU over the {len(idle_cpu)} idle seconds: {statistics.mean(idle_cpu):.2f}% of one core")


def latency(url, token_file, n, paths):
    token = open(token_file).read().strip()
    conn = connect(url)
    print("| request | n | median | p99 | max | bytes |")
    print("|---|---:|---:|---:|---:|---:|")
    for path in paths:
        get(conn, token, path)  # warm-up: connection, first page cache
        times, size = [], 0
        for _ in range(int(n)):
            t = time.perf_counter()
            size = len(get(conn, token, path))
            times.append(time.perf_counter() - t)
        print(line(f"GET {path}", times, "ms", 1000) + f" {size} |")


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "sample":
        sample(*args)
    elif cmd == "jobs":
        jobs(*args)
    elif cmd == "schedule":
        schedule(*args)
    elif cmd == "latency":
        latency(args[0], args[1], args[2], args[3:])
    else:
        raise SystemExit(__doc__)
