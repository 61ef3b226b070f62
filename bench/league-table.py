#!/usr/bin/env python3
"""The league table in Markdown, from `jdmcache sim`'s readable output (bench/policy-sim.sh's) on stdin:

    bench/policy-sim.sh | bench/league-table.py

One row per trace and cache size, a column per policy, each cell `hit ratio (fills per 1,000 accesses)`; then
per policy the mean of its ratio to OPT and to LRU over every row, how many rows it is the best online policy
in (within 0.5 point of the best of all but opt), and its mean fills.
"""
import re
import sys

head = re.compile(r"^(\S+) \((\S+)\): ([\d,]+) accesses, ([\d,]+) distinct blocks")
row = re.compile(r"^\|\s*([\d,]+)\s*\|\s*([\d.]+)%\s*\|\s*(\S+)\s*\|\s*([\d.]+)%\s*\|\s*([\d.]+)x\s*\|"
                 r"\s*([\d.]+)x\s*\|\s*([\d.]+)\s*\|")
rows = {}  # (trace, size%) -> {policy: (ratio, fills)}
order, policies, distinct = [], [], {}
trace = None
for line in sys.stdin:
    m = head.match(line)
    if m:
        trace = m.group(1)
        distinct[trace] = m.group(4)
        continue
    m = row.match(line)
    if m and trace:
        key = (trace, float(m.group(2)))
        if key not in rows:
            rows[key] = {}
            order.append(key)
        p = m.group(3)
        if p not in policies:
            policies.append(p)
        rows[key][p] = (float(m.group(4)), float(m.group(7)))
if not rows:
    sys.exit("league-table: no table of jdmcache sim on stdin")
print("| trace | distinct | size | " + " | ".join(policies) + " |")
print("| --- | ---: | ---: | " + " | ".join("---:" for _ in policies) + " |")
for key in order:
    r = rows[key]
    cells = [f"{r[p][0]:.2f}% ({r[p][1]:.1f})" if p in r else "-" for p in policies]
    print(f"| {key[0]} | {distinct[key[0]]} | {key[1]:.1f}% | " + " | ".join(cells) + " |")
online = [p for p in policies if p != "opt"]


def mean(xs):
    xs = list(xs)
    return sum(xs) / len(xs) if xs else float("nan")


stats = {}
for p in policies:
    vs_opt = mean(r[p][0] / r["opt"][0] for r in rows.values() if p in r and r.get("opt", (0,))[0] > 0)
    vs_lru = mean(r[p][0] / r["lru"][0] for r in rows.values() if p in r and r.get("lru", (0,))[0] > 0)
    best = sum(1 for r in rows.values() if p in r and p != "opt"
               and r[p][0] >= max(r[q][0] for q in online if q in r) - 0.5)
    stats[p] = (vs_opt, vs_lru, best, mean(r[p][1] for r in rows.values() if p in r))
print(f"| mean vs opt | | | " + " | ".join(f"{stats[p][0]:.3f}" for p in policies) + " |")
print(f"| mean vs lru (rows where lru hits) | | | " + " | ".join(f"{stats[p][1]:.3f}" for p in policies) + " |")
print(f"| rows within 0.5 point of the best online policy (of {len(rows)}) | | | "
      + " | ".join("-" if p == "opt" else str(stats[p][2]) for p in policies) + " |")
print(f"| mean fills per 1,000 accesses | | | " + " | ".join(f"{stats[p][3]:.1f}" for p in policies) + " |")
