#!/usr/bin/env python3
"""An independent LRU and OPT simulator, to cross-check `jdmcache sim` (Python 3 standard library only).

    bench/refsim.py --cache-blocks N[,N...] TRACE...

N is a number of cache blocks, or a percentage of each trace's distinct blocks (5%: at least 1, rounded half
up, as `jdmcache sim` does).

TRACE is a block-number trace (`blocks` format: one block number a line; lines starting with '#' or '*' and
blank lines are skipped), plain or gzip-compressed. Prints the TSV of `jdmcache sim --tsv`
(trace, policy, cache_blocks, accesses, hits, hit_ratio) for lru and opt, the trace column being the file's
name without a .gz suffix.

Written from the definitions, sharing no code with jdmcache:
- lru: demand LRU, every miss admitted, the least recently used block evicted (an OrderedDict in recency order).
- opt: Belady's MIN with bypass. Every access's next use is found by a backward pass; the cache keeps the
  blocks whose next use is soonest. On a miss with the cache full, the missed block is admitted only if its
  next use comes before the furthest next use in the cache (whose block is evicted); else it bypasses the
  cache. A max-heap of (next use, block) with lazy deletion finds the furthest.
"""
import gzip
import heapq
import math
import os
import sys
from collections import OrderedDict

INF = float("inf")


def read_blocks(path):
    opener = gzip.open if open(path, "rb").read(2) == b"\x1f\x8b" else open
    out = []
    with opener(path, "rt", encoding="ascii") as f:
        for n, line in enumerate(f, 1):
            s = line.strip()
            if not s or s[0] in "#*":
                continue
            try:
                out.append(int(s.split()[0]))
            except ValueError:
                sys.exit(f"{path}:{n}: expected a block number, got {s!r}")
    return out


def lru(trace, size):
    cache = OrderedDict()
    hits = 0
    for b in trace:
        if b in cache:
            hits += 1
            cache.move_to_end(b)
        else:
            cache[b] = True
            if len(cache) > size:
                cache.popitem(last=False)
    return hits


def next_uses(trace):
    nxt = [INF] * len(trace)
    seen = {}
    for i in range(len(trace) - 1, -1, -1):
        b = trace[i]
        nxt[i] = seen.get(b, INF)
        seen[b] = i
    return nxt


def opt(trace, size, nxt):
    cached = {}  # block -> its next use
    heap = []  # (-next use, block); entries whose next use is stale are skipped
    hits = 0
    for i, b in enumerate(trace):
        n = nxt[i]
        if b in cached:
            hits += 1
        elif len(cached) >= size:
            while True:  # the cached block used furthest away
                far, victim = heap[0]
                if cached.get(victim) == -far:
                    break
                heapq.heappop(heap)
            if n >= -far:
                continue  # bypass: this block is needed no sooner than any cached one
            heapq.heappop(heap)
            del cached[victim]
        cached[b] = n
        heapq.heappush(heap, (-n, b))
    return hits


def main(argv):
    if len(argv) < 3 or argv[0] != "--cache-blocks":
        sys.exit(__doc__.strip().splitlines()[2].strip())
    sizes = argv[1].split(",")
    for s in sizes:
        if not (s[:-1] if s.endswith("%") else s).replace(".", "", 1).isdigit() or (
                not s.endswith("%") and int(s) < 1):
            sys.exit(f"--cache-blocks {s}: a number of blocks (at least 1) or a percentage expected")
    print("trace\tpolicy\tcache_blocks\taccesses\thits\thit_ratio")
    for path in argv[2:]:
        trace = read_blocks(path)
        name = os.path.basename(path)
        if name.endswith(".gz"):
            name = name[:-3]
        nxt = next_uses(trace)
        distinct = len(set(trace))
        for text in sizes:
            size = max(1, math.floor(distinct * float(text[:-1]) / 100 + 0.5)) if text.endswith("%") else int(text)
            for policy, hits in (("lru", lru(trace, size)), ("opt", opt(trace, size, nxt))):
                ratio = hits / len(trace) if trace else 0.0
                print(f"{name}\t{policy}\t{size}\t{len(trace)}\t{hits}\t{ratio:.4f}")


if __name__ == "__main__":
    main(sys.argv[1:])
