package io.jdmcache.metadata;

/**
 * The number of holders of a shared object, safe against overflow and against releasing more often than
 * retaining. Not thread-safe: its owner (the registry) serialises calls.
 */
final class RefCount {
    private int count;

    RefCount(int initial) {
        if (initial < 0) {
            throw new IllegalArgumentException("negative reference count " + initial);
        }
        this.count = initial;
    }

    /** One more holder; refused (nothing changes) when the count would overflow or the object is gone. */
    void retain(String what) {
        if (count == 0) {
            throw new IllegalStateException(what + " was already released by its last holder");
        }
        if (count == Integer.MAX_VALUE) {
            throw new IllegalStateException("too many holders of " + what + " (" + count + ")");
        }
        count++;
    }

    /** One fewer holder: returns how many remain, or -1 (and changes nothing) when none was left. */
    int release() {
        if (count == 0) {
            return -1;
        }
        return --count;
    }

    int count() {
        return count;
    }
}
