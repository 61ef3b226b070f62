package io.jdmcache.policy;

/**
 * A fixed number of doubly linked lists threaded through one {@link Links}: heads, tails and the count of
 * non-sentinel members per list. An entry is in at most one list of one {@code LevelLists} at a time; the
 * caller knows which. All operations are O(1) except the pops, which skip sentinels.
 *
 * <p>Not thread-safe: used under the owning policy's lock.
 */
final class LevelLists {
    private final Links links;
    private final int[] head;
    private final int[] tail;
    private final int[] count;

    LevelLists(Links links, int lists) {
        this.links = links;
        this.head = new int[lists];
        this.tail = new int[lists];
        this.count = new int[lists];
        java.util.Arrays.fill(head, Links.NULL);
        java.util.Arrays.fill(tail, Links.NULL);
    }

    int head(int l) {
        return head[l];
    }

    int tail(int l) {
        return tail[l];
    }

    /** Non-sentinel members of list {@code l}. */
    int count(int l) {
        return count[l];
    }

    boolean isEmpty(int l) {
        return head[l] == Links.NULL;
    }

    void addHead(int l, int e) {
        int h = head[l];
        links.next[e] = h;
        links.prev[e] = Links.NULL;
        if (h != Links.NULL) {
            links.prev[h] = e;
        } else {
            tail[l] = e;
        }
        head[l] = e;
        countIn(e, l);
    }

    void addTail(int l, int e) {
        int t = tail[l];
        links.next[e] = Links.NULL;
        links.prev[e] = t;
        if (t != Links.NULL) {
            links.next[t] = e;
        } else {
            head[l] = e;
        }
        tail[l] = e;
        countIn(e, l);
    }

    /** Inserts {@code e} just before {@code old}, which must be in list {@code l}. */
    void addBefore(int l, int old, int e) {
        int p = links.prev[old];
        if (p == Links.NULL) {
            addHead(l, e);
            return;
        }
        links.prev[e] = p;
        links.next[e] = old;
        links.next[p] = e;
        links.prev[old] = e;
        countIn(e, l);
    }

    void remove(int l, int e) {
        int p = links.prev[e];
        int n = links.next[e];
        if (p != Links.NULL) {
            links.next[p] = n;
        } else {
            head[l] = n;
        }
        if (n != Links.NULL) {
            links.prev[n] = p;
        } else {
            tail[l] = p;
        }
        links.next[e] = Links.NULL;
        links.prev[e] = Links.NULL;
        if (!links.isSentinel(e)) {
            count[l]--;
        }
    }

    /** Removes and returns the first non-sentinel entry, or {@link Links#NULL}. */
    int popHead(int l) {
        for (int e = head[l]; e != Links.NULL; e = links.next[e]) {
            if (!links.isSentinel(e)) {
                remove(l, e);
                return e;
            }
        }
        return Links.NULL;
    }

    /** Removes and returns the last non-sentinel entry, or {@link Links#NULL}. */
    int popTail(int l) {
        for (int e = tail[l]; e != Links.NULL; e = links.prev[e]) {
            if (!links.isSentinel(e)) {
                remove(l, e);
                return e;
            }
        }
        return Links.NULL;
    }

    private void countIn(int e, int l) {
        if (!links.isSentinel(e)) {
            count[l]++;
        }
    }
}
