package io.jdmcache.policy;

/** A virtual clock for tests: time moves only when the test says so. */
final class FakeClock implements PolicyClock {
    private long now = 1_000_000_000L;

    @Override
    public long nanoTime() {
        return now;
    }

    void advanceMicros(long micros) {
        now += micros * 1_000L;
    }

    void advanceMillis(long millis) {
        now += millis * 1_000_000L;
    }

    void advanceSeconds(long seconds) {
        now += seconds * 1_000_000_000L;
    }
}
