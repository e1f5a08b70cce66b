#!/usr/bin/env python3
# Writes Redis protocol commands to stdout for `redis-cli --pipe`: N keys of every type under a
# prefix — strings (short, long, integer-encoded), hashes, lists, sets (intset and listpack
# and hashtable encodings), sorted sets, streams with consumer groups and pending entries, keys
# with an expiry. Small and large variants, so both compact and full encodings are in the RDB.
import random
import sys

n = int(sys.argv[1])
prefix = sys.argv[2] if len(sys.argv) > 2 else "static"
seed = int(sys.argv[3]) if len(sys.argv) > 3 else 7
random.seed(seed)
out = []


def cmd(*args):
    parts = ["*%d\r\n" % len(args)]
    for a in args:
        b = str(a)
        parts.append("$%d\r\n%s\r\n" % (len(b.encode()), b))
    out.append("".join(parts))


for i in range(n):
    k = i % 7
    big = random.random() < 0.3
    if k == 0:
        cmd("SET", f"{prefix}:str:{i}", "v" * random.randint(1, 200) + str(i))
    elif k == 1:
        fields = []
        for j in range(200 if big else 3):
            fields += [f"f{j}", f"val{j}-{i}"]
        cmd("HSET", f"{prefix}:hash:{i}", *fields)
    elif k == 2:
        cmd("RPUSH", f"{prefix}:list:{i}", *[f"e{j}-{i}" for j in range(300 if big else 5)])
    elif k == 3:
        cmd("SADD", f"{prefix}:intset:{i}", *[str(j * 3) for j in range(600 if big else 4)])
    elif k == 4:
        cmd("SADD", f"{prefix}:set:{i}", *[f"m{j}" for j in range(200 if big else 4)])
    elif k == 5:
        members = []
        for j in range(200 if big else 4):
            members += [str(j * 1.5), f"m{j}"]
        cmd("ZADD", f"{prefix}:zset:{i}", *members)
    else:
        key = f"{prefix}:stream:{i}"
        for j in range(50 if big else 3):
            cmd("XADD", key, "*", "f", f"v{j}", "n", str(j))
        if i % 2 == 0:
            cmd("XGROUP", "CREATE", key, "g1", "0")
            cmd("XREADGROUP", "GROUP", "g1", "c1", "COUNT", "2", "STREAMS", key, ">")
    if i % 50 == 0:
        cmd("SET", f"{prefix}:ttl:{i}", "x", "EX", "3600")
    if i % 100 == 0:
        cmd("SET", f"{prefix}:long:{i}", "abc" * 1000)
        cmd("SET", f"{prefix}:int:{i}", str(i * 1000003))
sys.stdout.write("".join(out))
