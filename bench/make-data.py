#!/usr/bin/env python3
"""Generate (or mutate) the deterministic data set for Arca's end-to-end benchmark.

    bench/make-data.py DIR [--size-mib N] [--seed S]      # create ~N MiB (default 1024) in DIR
    bench/make-data.py DIR --mutate [--mutate-seed S]     # change ~5% of the data set in place

The same seed and size always give byte-identical files (Python's Mersenne Twister is stable across
versions; only random.Random methods with documented reproducibility are used). Composition, as
fractions of the total size:

  large/    3 files of ~10/11/12% (100+ MiB at 1 GiB), segments of text and random binary mixed
            35:30, plus two zero-filled runs in one of them (like a disk or database image)
  text/     ~28% log, CSV and JSON-lines files, 64 KiB-16 MiB, words drawn Zipf-like from a generated
            word list (compresses like real logs, roughly 3-5x with zstd)
  binary/   ~24% random (incompressible) files, 64 KiB-32 MiB
  neardup/  ~10% copies of text/ and binary/ files with a few small insertions, deletions and overwrites
  small/    ~5000 files (scaled with the size: 5000 per GiB) of 1-16 KiB in nested directories, 80%
            text, 20% binary; plus a few empty files, an empty directory and two relative symlinks

Overall roughly 55% compressible text and 45% incompressible binary; text:binary is 35:30 as in
the benchmark's brief.

--mutate changes about 5% of the data, deterministically: insertions (which shift content-defined
chunk boundaries) and overwrites in the middle of every large file, appends to some logs, rewrites
of some small files, a few new files and directories, a few deleted files.

A manifest (.bench-manifest.json in DIR) records the parameters. Generating again with the same
parameters is a no-op when the manifest and the files' count and total size match; mutating again
with the seed of the last mutation is a no-op too, while another --mutate-seed changes another ~5%
(bench/prune.sh builds a daily history that way). A non-empty DIR without a manifest is refused (so a typo
cannot wipe an unrelated directory) unless --force is given.
"""

import argparse
import hashlib
import json
import os
import random
import shutil
import sys
import time

MANIFEST = ".bench-manifest.json"
MiB = 1024 * 1024
KiB = 1024
BLOCK = 1 * MiB  # generation block size

LEVELS = ["INFO"] * 14 + ["DEBUG"] * 8 + ["WARN"] * 3 + ["ERROR"]
STATUSES = ["ok", "ok", "ok", "ok", "pending", "failed", "refunded", "cancelled"]


def script_digest():
    with open(os.path.abspath(__file__), "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()[:16]


class TextGen:
    """Fast generator of log / CSV / JSON-lines text with realistic (Zipf-like) redundancy."""

    def __init__(self, rng):
        self.rng = rng
        cons, vow = "bcdfghjklmnprstvwz", "aeiou"
        words = set()
        while len(words) < 4000:
            n = rng.choice((1, 2, 2, 3, 3, 4))
            words.add("".join(rng.choice(cons) + rng.choice(vow) + (rng.choice(cons) if rng.random() < 0.3 else "")
                              for _ in range(n)))
        self.words = sorted(words)
        rng.shuffle(self.words)
        self.cum = []
        acc = 0.0
        for i in range(len(self.words)):
            acc += 1.0 / (i + 1) ** 1.1
            self.cum.append(acc)
        self.components = [self.word() + "." + self.word() for _ in range(40)]
        self.users = ["%s%d" % (self.word(), rng.randrange(100)) for _ in range(3000)]
        self.cities = [self.word().capitalize() for _ in range(300)]
        self.events = [self.word() + "_" + self.word() for _ in range(60)]
        # Log messages come from templates, as in real programs.
        self.messages = [self.sentence(rng.randint(3, 12)) for _ in range(8000)]
        self.clock = 1_700_000_000 + rng.randrange(10_000_000)  # seconds

    def word(self):
        return self.rng.choices(self.words, cum_weights=self.cum, k=1)[0]

    def sentence(self, n):
        return " ".join(self.rng.choices(self.words, cum_weights=self.cum, k=n))

    def _stamps(self, n):
        """n increasing ISO timestamps (ms resolution)."""
        rng = self.rng
        incs = rng.choices((0, 1, 3, 7, 15, 40, 120, 900, 5000), k=n)
        out = []
        ms_total = self.clock * 1000
        cached_sec, prefix = -1, ""
        for inc in incs:
            ms_total += inc
            sec = ms_total // 1000
            if sec != cached_sec:
                cached_sec = sec
                prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec))
            out.append("%s.%03dZ" % (prefix, ms_total % 1000))
        self.clock = ms_total // 1000
        return out

    def lines(self, kind, n):
        rng = self.rng
        ts = self._stamps(n)
        rb = rng.getrandbits
        if kind == "log":
            lv = rng.choices(LEVELS, k=n)
            co = rng.choices(self.components, k=n)
            ms = rng.choices(self.messages, k=n)
            return ["%s %-5s [%s] %s req=%08x dur=%dms\n" % (ts[i], lv[i], co[i], ms[i], rb(32), rb(10))
                    for i in range(n)]
        if kind == "csv":
            us = rng.choices(self.users, k=n)
            ci = rng.choices(self.cities, k=n)
            st = rng.choices(STATUSES, k=n)
            ms = rng.choices(self.messages, k=n)
            return ["%d,%s,%s,%s,%d.%02d,%s,\"%s\"\n" % (rb(40), ts[i], us[i], ci[i], rb(14), rb(7) % 100, st[i], ms[i])
                    for i in range(n)]
        # jsonl
        us = rng.choices(self.users, k=n)
        ev = rng.choices(self.events, k=n)
        ms = rng.choices(self.messages, k=n)
        tg = rng.choices(self.cities, k=2 * n)
        return ['{"ts":"%s","user":"%s","event":"%s","value":%d,"tags":["%s","%s"],"msg":"%s"}\n'
                % (ts[i], us[i], ev[i], rb(20), tg[2 * i], tg[2 * i + 1], ms[i]) for i in range(n)]

    def block(self, kind, nbytes):
        """About nbytes (whole lines, at least one) of text of the given kind."""
        parts, size = [], 0
        while size < nbytes:
            n = max(1, min(4000, (nbytes - size) // 160 + 1))  # lines are ~100-160 bytes
            s = "".join(self.lines(kind, n)).encode()
            parts.append(s)
            size += len(s)
        return b"".join(parts)

    def exact(self, kind, nbytes):
        return self.block(kind, nbytes)[:nbytes]


class Writer:
    def __init__(self, root, rng, text):
        self.root, self.rng, self.text = root, rng, text
        self.bytes_by_kind = {"text": 0, "binary": 0, "zero": 0}
        self.files = 0

    def path(self, rel):
        p = os.path.join(self.root, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        return p

    def write(self, rel, pieces):
        """pieces: iterable of (kind, bytes)."""
        with open(self.path(rel), "wb") as f:
            for kind, data in pieces:
                f.write(data)
                self.bytes_by_kind[kind] += len(data)
        self.files += 1

    def text_pieces(self, kind, size):
        done = 0
        while done < size:
            b = self.text.exact(kind, min(BLOCK, size - done))
            done += len(b)
            yield "text", b

    def binary_pieces(self, size):
        done = 0
        while done < size:
            n = min(BLOCK, size - done)
            done += n
            yield "binary", self.rng.randbytes(n)


def log_uniform(rng, lo, hi):
    import math
    return int(math.exp(rng.uniform(math.log(lo), math.log(hi))))


def generate(root, size_mib, seed, small_files):
    total = size_mib * MiB
    rng = random.Random(seed)
    text = TextGen(rng)
    w = Writer(root, rng, text)
    kinds = ("log", "csv", "jsonl")
    ext = {"log": "log", "csv": "csv", "jsonl": "jsonl"}

    # 1. Large files: text and binary segments 35:30.
    for i, frac in enumerate((0.10, 0.11, 0.12)):
        size = int(total * frac)

        def pieces(size=size, i=i):
            done, zero_runs = 0, (2 if i == 1 else 0)
            while done < size:
                seg = min(size - done, rng.randint(128 * KiB, max(256 * KiB, min(4 * MiB, size // 25))))
                r = rng.random()
                if zero_runs and r < 0.06:
                    zero_runs -= 1
                    yield "zero", bytes(seg)
                elif r < 35 / 65:
                    yield from w.text_pieces(rng.choice(kinds), seg)
                else:
                    yield from w.binary_pieces(seg)
                done += seg

        w.write("large/image-%d.img" % i, pieces())

    # 2. Medium text and binary files.
    medium = []  # (rel, kind) for near-duplicates
    small_count = small_files if small_files is not None else max(20, round(5000 * size_mib / 1024))
    small_budget = small_count * (8 * KiB + 512)
    rest = max(0, total - w.bytes_by_kind["text"] - w.bytes_by_kind["binary"] - w.bytes_by_kind["zero"]
               - int(total * 0.10) - small_budget)
    text_budget, bin_budget = rest * 35 // 65, rest * 30 // 65
    n = 0
    while text_budget > 0:
        kind = kinds[n % 3]
        size = min(text_budget, log_uniform(rng, 64 * KiB, 16 * MiB))
        rel = "text/%s/%s-%04d.%s" % (kind, kind, n, ext[kind])
        w.write(rel, w.text_pieces(kind, size))
        medium.append((rel, kind))
        text_budget -= size
        n += 1
    n = 0
    while bin_budget > 0:
        size = min(bin_budget, log_uniform(rng, 64 * KiB, 32 * MiB))
        rel = "binary/blob-%04d.%s" % (n, rng.choice(("bin", "jpg", "zst", "pak")))
        w.write(rel, w.binary_pieces(size))
        medium.append((rel, "binary"))
        bin_budget -= size
        n += 1

    # 3. Near-duplicates: copies of medium files with small edits.
    dup_budget = int(total * 0.10)
    n = 0
    candidates = [m for m in medium if os.path.getsize(os.path.join(root, m[0])) <= dup_budget] or medium[:1]
    while dup_budget > 0 and candidates:
        rel, kind = candidates[rng.randrange(len(candidates))]
        with open(os.path.join(root, rel), "rb") as f:
            data = bytearray(f.read())
        for _ in range(rng.randint(1, 4)):
            pos = rng.randrange(len(data) + 1)
            op = rng.random()
            if op < 0.5:
                ins = (text.exact(kind, rng.randint(16, 8 * KiB)) if kind != "binary"
                       else rng.randbytes(rng.randint(16, 8 * KiB)))
                data[pos:pos] = ins
            elif op < 0.75:
                ln = rng.randint(16, 4 * KiB)
                data[pos:pos + ln] = (text.exact(kind, ln) if kind != "binary" else rng.randbytes(ln))[:len(data) - pos]
            else:
                del data[pos:pos + rng.randint(16, 4 * KiB)]
        base = os.path.basename(rel)
        w.write("neardup/v%03d/%s" % (n, base), [("text" if kind != "binary" else "binary", bytes(data))])
        dup_budget -= len(data)
        n += 1

    # 4. Small files in nested directories.
    ndirs = max(1, small_count // 25)
    dirs = []
    for j in range(ndirs):
        depth = rng.choice((1, 2, 2, 3))
        parts = ["small", "p%02d" % rng.randrange(max(1, ndirs // 20))]
        parts += ["%s%02d" % (text.word()[:8], rng.randrange(10)) for _ in range(depth - 1)]
        parts.append("d%03d" % j)
        dirs.append("/".join(parts))
    small_rels = []
    for i in range(small_count):
        size = rng.randint(1 * KiB, 16 * KiB)
        d = dirs[rng.randrange(ndirs)]
        if rng.random() < 0.8:
            kind = rng.choice(kinds)
            rel = "%s/f%05d.%s" % (d, i, ext[kind])
            w.write(rel, [("text", text.exact(kind, size))])
        else:
            rel = "%s/f%05d.dat" % (d, i)
            w.write(rel, [("binary", rng.randbytes(size))])
        small_rels.append(rel)
    # Edge cases: empty files, an empty directory, relative symlinks (one dangling).
    w.write("small/edge/empty-1", [])
    w.write("small/edge/empty-2.txt", [])
    os.makedirs(os.path.join(root, "small/edge/empty-dir"), exist_ok=True)
    os.symlink(os.path.relpath(small_rels[0], "small/edge"), os.path.join(root, "small/edge/link-to-small"))
    os.symlink("dangling-target", os.path.join(root, "small/edge/link-dangling"))
    return w


def tree_stats(root):
    files = total = 0
    for dirpath, dirnames, filenames in os.walk(root):
        for name in filenames:
            if dirpath == root and name == MANIFEST:
                continue
            st = os.lstat(os.path.join(dirpath, name))
            files += 1
            total += st.st_size
    return files, total


def read_manifest(root):
    try:
        with open(os.path.join(root, MANIFEST)) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def write_manifest(root, m):
    tmp = os.path.join(root, MANIFEST + ".tmp")
    with open(tmp, "w") as f:
        json.dump(m, f, indent=2, sort_keys=True)
        f.write("\n")
    os.replace(tmp, os.path.join(root, MANIFEST))


def clear_dir(root):
    for name in os.listdir(root):
        p = os.path.join(root, name)
        if os.path.isdir(p) and not os.path.islink(p):
            shutil.rmtree(p)
        else:
            os.unlink(p)


def cmd_generate(args):
    root = os.path.abspath(args.dir)
    want = {"size_mib": args.size_mib, "seed": args.seed, "small_files": args.small_files,
            "generator": script_digest()}
    if os.path.isdir(root) and os.listdir(root):
        m = read_manifest(root)
        if m is None and not args.force:
            sys.exit("make-data: %s is not empty and has no %s; refusing to overwrite it (use --force)"
                     % (root, MANIFEST))
        if (m and not args.force and m.get("state") == "complete" and not m.get("mutated")
                and all(m.get(k) == v for k, v in want.items())
                and tree_stats(root) == (m.get("files"), m.get("bytes"))):
            print("make-data: %s is up to date (%d files, %.1f MiB); nothing to do"
                  % (root, m["files"], m["bytes"] / MiB))
            return
        clear_dir(root)
    os.makedirs(root, exist_ok=True)
    write_manifest(root, dict(want, state="generating"))
    t0 = time.time()
    w = generate(root, args.size_mib, args.seed, args.small_files)
    files, total = tree_stats(root)
    write_manifest(root, dict(want, state="complete", mutated=False, files=files, bytes=total,
                              bytes_by_kind=w.bytes_by_kind))
    print("make-data: wrote %d files, %.1f MiB (text %.1f, binary %.1f, zero %.1f MiB) to %s in %.1fs"
          % (files, total / MiB, w.bytes_by_kind["text"] / MiB, w.bytes_by_kind["binary"] / MiB,
             w.bytes_by_kind["zero"] / MiB, root, time.time() - t0))


def cmd_mutate(args):
    root = os.path.abspath(args.dir)
    m = read_manifest(root)
    if not m or m.get("state") != "complete":
        sys.exit("make-data: %s is not a complete generated data set (no valid %s)" % (root, MANIFEST))
    if m.get("mutated") and m.get("mutate_seed") == args.mutate_seed:
        print("make-data: %s is already mutated (seed %s); nothing to do" % (root, m.get("mutate_seed")))
        return
    t0 = time.time()
    rng = random.Random("mutate-%s-%s" % (m["seed"], args.mutate_seed))
    text = TextGen(rng)
    total = m["bytes"]
    changed = {"inserted": 0, "overwritten": 0, "appended": 0, "new": 0, "deleted": 0, "rewritten": 0}

    def listing(sub):
        out = []
        for dirpath, dirnames, filenames in os.walk(os.path.join(root, sub)):
            dirnames.sort()
            for name in sorted(filenames):
                p = os.path.join(dirpath, name)
                if not os.path.islink(p):
                    out.append(p)
        return out

    # 1. Large files: insertions (shift chunk boundaries) and overwrites in the middle.
    for p in listing("large"):
        with open(p, "rb") as f:
            data = bytearray(f.read())
        for _ in range(rng.randint(3, 5)):
            pos = rng.randrange(len(data) // 8, len(data) * 7 // 8)
            ins = rng.randbytes(rng.randint(100, 64 * KiB)) if rng.random() < 0.5 else \
                text.block("log", rng.randint(100, 64 * KiB))
            data[pos:pos] = ins
            changed["inserted"] += len(ins)
        for _ in range(2):
            ln = rng.randint(4 * KiB, 64 * KiB)
            pos = rng.randrange(len(data) // 8, len(data) * 7 // 8 - ln)
            data[pos:pos + ln] = rng.randbytes(ln)
            changed["overwritten"] += ln
        with open(p, "r+b") as f:  # in place: same inode, like an application updating its file
            f.write(data)
            f.truncate()

    # 2. Appends to some logs (~1.5%).
    logs = [p for p in listing("text") if p.endswith((".log", ".jsonl", ".csv"))]
    targets = rng.sample(logs, min(len(logs), max(1, len(logs) // 4)))
    per = int(total * 0.015) // max(1, len(targets))
    for p in targets:
        kind = "log" if p.endswith(".log") else "jsonl" if p.endswith(".jsonl") else "csv"
        b = text.block(kind, per)
        with open(p, "ab") as f:
            f.write(b)
        changed["appended"] += len(b)

    # 3. Rewrite ~3% of the small files (new content, same size class).
    small = [p for p in listing("small") if os.path.getsize(p) > 0]
    for p in rng.sample(small, len(small) * 3 // 100):
        size = rng.randint(1 * KiB, 16 * KiB)
        with open(p, "wb") as f:
            f.write(text.exact("jsonl", size) if not p.endswith(".dat") else rng.randbytes(size))
        changed["rewritten"] += size

    # 4. Deletions: ~1% of the small files and a couple of medium files (~1% of the data).
    for p in rng.sample(small, len(small) // 100):
        if os.path.exists(p):
            changed["deleted"] += os.path.getsize(p)
            os.unlink(p)
    medium = [p for p in listing("text") + listing("binary") if p not in targets]
    budget = int(total * 0.01)
    for p in rng.sample(medium, len(medium)):
        sz = os.path.getsize(p)
        if sz > budget:
            continue
        os.unlink(p)
        changed["deleted"] += sz
        budget -= sz
        if budget < 64 * KiB:
            break

    # 5. New files (~2%): a new directory of small files, new logs and new binaries.
    new_budget = int(total * 0.02)
    for i in range(max(5, len(small) // 50)):
        size = rng.randint(1 * KiB, 16 * KiB)
        d = os.path.join(root, "new/batch-%02d" % (i % 7))
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "n%04d.jsonl" % i), "wb") as f:
            f.write(text.exact("jsonl", size))
        changed["new"] += size
        new_budget -= size
    i = 0
    while new_budget > 0:
        size = min(new_budget, rng.randint(256 * KiB, 8 * MiB))
        d = os.path.join(root, "new")
        os.makedirs(d, exist_ok=True)
        if i % 2 == 0:
            data = text.exact("log", size)
            name = "fresh-%02d.log" % i
        else:
            data = rng.randbytes(size)
            name = "fresh-%02d.bin" % i
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
        changed["new"] += size
        new_budget -= size
        i += 1

    files, nbytes = tree_stats(root)
    m.update(mutated=True, mutate_seed=args.mutate_seed, files=files, bytes=nbytes, mutation=changed)
    write_manifest(root, m)
    touched = sum(changed.values())
    print("make-data: mutated %s in %.1fs: %s bytes touched (%.1f%% of %.1f MiB); now %d files, %.1f MiB"
          % (root, time.time() - t0, touched, 100.0 * touched / total, total / MiB, files, nbytes / MiB))
    print("make-data: " + ", ".join("%s %.2f MiB" % (k, v / MiB) for k, v in changed.items()))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dir", help="directory to create the data set in (or to mutate)")
    ap.add_argument("--size-mib", type=int, default=1024, help="total size in MiB (default 1024)")
    ap.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    ap.add_argument("--small-files", type=int, default=None,
                    help="number of small files (default 5000 per GiB of --size-mib)")
    ap.add_argument("--mutate", action="store_true", help="change ~5%% of an existing data set in place")
    ap.add_argument("--mutate-seed", type=int, default=1, help="seed for --mutate (default 1)")
    ap.add_argument("--force", action="store_true",
                    help="regenerate even if up to date, or overwrite a directory without a manifest")
    args = ap.parse_args()
    if args.size_mib < 8:
        ap.error("--size-mib must be at least 8")
    if args.mutate:
        cmd_mutate(args)
    else:
        cmd_generate(args)


if __name__ == "__main__":
    main()
