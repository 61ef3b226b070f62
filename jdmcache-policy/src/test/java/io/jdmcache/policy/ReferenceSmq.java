package io.jdmcache.policy;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A deliberately naive smq written from the algorithm's description with objects and java.util lists
 * (O(n) everywhere), to check the array implementation decision by decision. Same rules as {@link SmqPolicy}'s
 * documentation; no shared code.
 */
final class ReferenceSmq {
    static final int LEVELS = 64;
    static final long S = 1_000_000_000L;

    /** An entry: a cache block, a hotspot region or a sentinel. */
    static final class E {
        final int id;
        final boolean sentinel;
        long key;
        int level;
        boolean dirty;
        boolean pending;
        boolean mapped;

        E(int id, boolean sentinel) {
            this.id = id;
            this.sentinel = sentinel;
        }

        @Override
        public String toString() {
            return (sentinel ? "S" : "E") + id + "@" + level;
        }
    }

    /** A multiqueue: 64 lists, oldest first. */
    static final class Q {
        final List<LinkedList<E>> levels = new ArrayList<>();
        final int topLevels;
        final int inTop;
        final int[] target = new int[LEVELS];
        int lastSize;

        Q(int topLevels, int inTop) {
            for (int i = 0; i < LEVELS; i++) {
                levels.add(new LinkedList<>());
            }
            this.topLevels = topLevels;
            this.inTop = inTop;
        }

        int size() {
            int n = 0;
            for (LinkedList<E> l : levels) {
                for (E e : l) {
                    if (!e.sentinel) {
                        n++;
                    }
                }
            }
            return n;
        }

        int count(int level) {
            return (int) levels.get(level).stream().filter(e -> !e.sentinel).count();
        }

        void push(E e) {
            levels.get(e.level).addLast(e);
        }

        void pushFront(E e) {
            levels.get(e.level).addFirst(e);
        }

        void pushBefore(E old, E e) {
            LinkedList<E> l = levels.get(e.level);
            l.add(l.indexOf(old), e);
        }

        void remove(E e) {
            if (!levels.get(e.level).remove(e)) {
                throw new IllegalStateException(e + " not in its level");
            }
        }

        E peek(int maxLevel, boolean cross) {
            for (int level = 0; level < Math.min(maxLevel, LEVELS); level++) {
                for (E e : levels.get(level)) {
                    if (!e.sentinel) {
                        return e;
                    }
                    if (!cross) {
                        break;
                    }
                }
            }
            return null;
        }

        E pop() {
            E e = peek(LEVELS, true);
            if (e != null) {
                remove(e);
            }
            return e;
        }

        void requeue(E e, int extra, E older, E newer) {
            int old = e.level;
            int nl = Math.min(LEVELS - 1, old + extra);
            if (extra > 0 && old < LEVELS - 1) {
                int passed = 0;
                E swap = null;
                for (E x : levels.get(nl)) {
                    if (x.sentinel) {
                        passed++;
                    } else {
                        swap = x;
                        break;
                    }
                }
                if (swap != null) {
                    remove(swap);
                    swap.level = old;
                    if (older == null || passed > 1) {
                        push(swap);
                    } else if (passed == 0) {
                        pushBefore(older, swap);
                    } else {
                        pushBefore(newer, swap);
                    }
                }
            }
            remove(e);
            e.level = nl;
            push(e);
        }

        void redistribute() {
            int size = size();
            if (size != lastSize) {
                lastSize = size;
                if (topLevels > LEVELS) {
                    spread(size, 0, LEVELS);
                } else {
                    spread(inTop, LEVELS - topLevels, LEVELS);
                    spread(Math.max(0, size - inTop), 0, LEVELS - topLevels);
                }
            }
            for (int level = 0; level < LEVELS - 1; level++) {
                while (count(level) < target[level]) {
                    E e = null;
                    for (int up = level + 1; up < LEVELS && e == null; up++) {
                        for (E x : levels.get(up)) {
                            if (!x.sentinel) {
                                e = x;
                                break;
                            }
                        }
                    }
                    if (e == null) {
                        break;
                    }
                    remove(e);
                    e.level = level;
                    push(e);
                }
                while (count(level) > target[level]) {
                    E e = null;
                    for (E x : levels.get(level)) {
                        if (!x.sentinel) {
                            e = x; // keep the last non-sentinel
                        }
                    }
                    remove(e);
                    e.level = level + 1;
                    push(e);
                }
            }
        }

        private void spread(int n, int from, int to) {
            int levels = to - from;
            if (levels == 0) {
                return;
            }
            for (int l = from; l < to; l++) {
                target[l] = n / levels + (l < from + n % levels ? 1 : 0);
            }
        }
    }

    /** One background work item as the reference tracks it. */
    record W(WorkOp op, long oblock, int cblock) {
    }

    final int n;
    final long per;
    final int nrHot;
    final E[] cache;
    final E[] wbSentinels = new E[2 * LEVELS];
    final E[] demoteSentinels = new E[2 * LEVELS];
    final Q clean = new Q(0, 0);
    final Q dirtyQ = new Q(0, 0);
    final Q hotQ;
    final Map<Long, E> mapping = new HashMap<>();
    final Map<Long, E> hotMap = new HashMap<>();
    final List<E> hotEntries = new ArrayList<>();
    final Set<E> hotHit = new HashSet<>();
    final Set<E> cacheHit = new HashSet<>();
    final ArrayDeque<Integer> free = new ArrayDeque<>();
    final LinkedList<W> queued = new LinkedList<>();
    final List<W> issuedWork = new ArrayList<>();
    boolean currentWb = true;
    boolean currentDemote = true;
    long hotHits;
    long hotMisses;
    int jump = 1;
    int promoteLevel = LEVELS;
    long nextWb;
    long nextDemote;
    long nextHot;
    long nextCache;
    boolean migrations;
    final boolean cleaner;

    ReferenceSmq(int cacheBlocks, long originBlocks, long now, boolean cleaner) {
        this.n = cacheBlocks;
        this.cleaner = cleaner;
        this.migrations = !cleaner;
        long nr = Math.max(cacheBlocks / 4, 1024);
        long p = 16;
        while (p > 1 && p * nr > originBlocks) {
            p /= 2;
        }
        this.per = p;
        this.nrHot = (int) nr;
        this.hotQ = new Q(8, (int) Math.min(nr / 64, cacheBlocks / p));
        this.cache = new E[cacheBlocks];
        for (int c = 0; c < cacheBlocks; c++) {
            cache[c] = new E(c, false);
            free.add(c);
        }
        for (int i = 0; i < 2 * LEVELS; i++) {
            wbSentinels[i] = new E(-1 - i, true);
            wbSentinels[i].level = i % LEVELS;
            demoteSentinels[i] = new E(-1000 - i, true);
            demoteSentinels[i].level = i % LEVELS;
        }
        for (boolean gen : new boolean[] {false, true}) {
            for (int l = 0; l < LEVELS; l++) {
                dirtyQ.push(wb(l, gen));
                clean.push(dem(l, gen));
            }
        }
        nextWb = now + 10 * S;
        nextDemote = now + 60 * S;
        nextHot = now;
        nextCache = now;
    }

    E wb(int level, boolean gen) {
        return wbSentinels[(gen ? 0 : LEVELS) + level];
    }

    E dem(int level, boolean gen) {
        return demoteSentinels[(gen ? 0 : LEVELS) + level];
    }

    Q q(E e) {
        return e.dirty ? dirtyQ : clean;
    }

    int allocated() {
        return n - free.size();
    }

    int lookup(long ob, boolean write, boolean fast) {
        E e = mapping.get(ob);
        if (e != null) {
            if (!e.pending && cacheHit.add(e)) {
                if (e.dirty) {
                    dirtyQ.requeue(e, 1, wb(e.level, !currentWb), wb(e.level, currentWb));
                } else {
                    clean.requeue(e, 1, null, null);
                }
            }
            return e.id;
        }
        int level = hotspot(ob);
        boolean promote = write && fast && !free.isEmpty() || level >= promoteLevel;
        if (!promote || !migrations) {
            return CachePolicy.MISS;
        }
        if (free.isEmpty()) {
            long target = (long) n * 25 / 100;
            long demotes = queued.stream().filter(w -> w.op() == WorkOp.DEMOTE).count()
                    + issuedWork.stream().filter(w -> w.op() == WorkOp.DEMOTE).count();
            if (demotes >= target) {
                return CachePolicy.MISS;
            }
            E d = clean.peek(LEVELS / 2, true);
            if (d == null) {
                if (dirtyQ.size() > 0) {
                    E w = dirtyQ.peek(LEVELS, false);
                    if (w != null && room()) {
                        dirtyQ.remove(w);
                        w.pending = true;
                        queued.add(new W(WorkOp.WRITEBACK, w.key, w.id));
                        return CachePolicy.MISS_WORK_QUEUED;
                    }
                }
                return CachePolicy.MISS;
            }
            if (!room()) {
                return CachePolicy.MISS;
            }
            clean.remove(d);
            d.pending = true;
            queued.add(new W(WorkOp.DEMOTE, d.key, d.id));
            return CachePolicy.MISS_WORK_QUEUED;
        }
        if (!room() || busy(ob)) {
            return CachePolicy.MISS;
        }
        int c = free.poll();
        cache[c].pending = true;
        cache[c].dirty = false;
        cache[c].level = 0;
        queued.add(new W(WorkOp.PROMOTE, ob, c));
        return CachePolicy.MISS_WORK_QUEUED;
    }

    boolean room() {
        return queued.size() + issuedWork.size() < SmqPolicy.MAX_BACKGROUND_WORK;
    }

    boolean busy(long ob) {
        return queued.stream().anyMatch(w -> w.oblock() == ob) || issuedWork.stream().anyMatch(w -> w.oblock() == ob);
    }

    int hotspot(long ob) {
        long hb = ob / per;
        E e = hotMap.get(hb);
        if (e != null) {
            if (e.level >= 48) {
                hotHits++;
            } else {
                hotMisses++;
            }
            hotQ.requeue(e, hotHit.add(e) ? jump : 0, null, null);
            return e.level;
        }
        hotMisses++;
        if (hotEntries.size() < nrHot) {
            e = new E(hotEntries.size(), false);
            hotEntries.add(e);
        } else {
            e = hotQ.pop();
            hotMap.remove(e.key);
            hotHit.remove(e);
        }
        e.key = hb;
        hotQ.push(e);
        hotMap.put(hb, e);
        return e.level;
    }

    W getWork(boolean idle) {
        if (queued.isEmpty()) {
            boolean met;
            if (idle || cleaner) {
                met = dirtyQ.size() == 0;
            } else {
                long dirtyCount = java.util.Arrays.stream(cache).filter(x -> x.mapped && x.dirty).count();
                long wbs = issuedWork.stream().filter(w -> w.op() == WorkOp.WRITEBACK).count();
                met = n - dirtyCount + wbs >= (long) n * 25 / 100;
            }
            if (!met) {
                E w = dirtyQ.peek(LEVELS, idle);
                if (w != null && room()) {
                    dirtyQ.remove(w);
                    w.pending = true;
                    queued.add(new W(WorkOp.WRITEBACK, w.key, w.id));
                }
            }
        }
        if (queued.isEmpty()) {
            return null;
        }
        W w = queued.poll();
        issuedWork.add(w);
        return w;
    }

    void complete(W w, boolean ok) {
        if (!issuedWork.remove(w)) {
            throw new IllegalStateException("not issued " + w);
        }
        E e = cache[w.cblock()];
        switch (w.op()) {
            case PROMOTE -> {
                e.pending = false;
                if (ok) {
                    e.key = w.oblock();
                    e.level = LEVELS - 1;
                    e.mapped = true;
                    mapping.put(e.key, e);
                    cacheHit.remove(e);
                    clean.push(e);
                } else {
                    free.add(e.id);
                }
            }
            case DEMOTE -> {
                if (ok) {
                    mapping.remove(e.key);
                    e.mapped = false;
                    e.pending = false;
                    e.dirty = false;
                    cacheHit.remove(e);
                    free.add(e.id);
                } else {
                    e.pending = false;
                    q(e).push(e);
                }
            }
            case WRITEBACK -> {
                e.pending = false;
                q(e).push(e);
            }
        }
    }

    void setDirty(int c, boolean d) {
        E e = cache[c];
        if (e.dirty == d) {
            return;
        }
        if (!e.pending) {
            q(e).remove(e);
            e.dirty = d;
            q(e).push(e);
            return;
        }
        W queuedWork = queued.stream().filter(w -> w.cblock() == c).findFirst().orElse(null);
        if (queuedWork != null && queuedWork.op() != WorkOp.PROMOTE) {
            queued.remove(queuedWork);
            e.pending = false;
            e.dirty = d;
            q(e).push(e);
            return;
        }
        e.dirty = d;
    }

    void load(long ob, int c, boolean d, int hint, boolean valid) {
        free.remove(c);
        E e = cache[c];
        e.key = ob;
        e.dirty = d;
        e.mapped = true;
        e.pending = false;
        e.level = valid ? (int) Math.min(Integer.toUnsignedLong(hint), 63) : SmqPolicy.pseudoRandomLevel(c);
        mapping.put(ob, e);
        cacheHit.remove(e);
        q(e).pushFront(e);
    }

    boolean invalidate(int c) {
        E e = cache[c];
        if (!e.mapped) {
            return false;
        }
        if (e.pending) {
            queued.removeIf(w -> w.cblock() == c);
            e.pending = false;
        } else {
            q(e).remove(e);
        }
        mapping.remove(e.key);
        e.mapped = false;
        e.dirty = false;
        cacheHit.remove(e);
        free.add(c);
        return true;
    }

    int hint(int c) {
        return cache[c].mapped ? cache[c].level : 0;
    }

    void tick(long now) {
        if (now - nextWb > 0) {
            nextWb = now + 10 * S;
            currentWb = !currentWb;
            for (int l = 0; l < LEVELS; l++) {
                dirtyQ.remove(wb(l, currentWb));
                dirtyQ.push(wb(l, currentWb));
            }
        }
        if (now - nextDemote > 0) {
            nextDemote = now + 60 * S;
            currentDemote = !currentDemote;
            for (int l = 0; l < LEVELS; l++) {
                clean.remove(dem(l, currentDemote));
                clean.push(dem(l, currentDemote));
            }
        }
        hotHit.clear();
        long total = hotHits + hotMisses;
        long conf = total == 0 ? 0 : (hotHits << 8) / total;
        int threshold = conf < 16 ? 16 : conf < 32 ? 32 : 64;
        promoteLevel = LEVELS - threshold;
        if (now - nextHot > 0) {
            jump = conf < 16 ? 4 : conf < 32 ? 2 : 1;
            hotQ.redistribute();
            hotHits = 0;
            hotMisses = 0;
            nextHot = now + S;
        }
        if (now - nextCache > 0) {
            cacheHit.clear();
            dirtyQ.redistribute();
            clean.redistribute();
            nextCache = now + 60 * S;
        }
    }
}
