package io.jdmcache.bench.policy;

import java.util.ArrayList;
import java.util.List;

/**
 * Command-line options of {@link PolicySimulator}.
 *
 * @param cacheBlocks cache size in blocks
 * @param ios         I/Os per trace
 * @param iops        virtual I/O rate: sets how many I/Os fall in each of smq's periods
 * @param tickEvery   the engine ticks the policy every this many I/Os (and every virtual second)
 * @param lagIos      migration latency, in I/Os, of the "lagged" smq column
 * @param seed        seed of the synthetic traces
 * @param traces      trace names to run (empty: all)
 */
record SimulatorOptions(int cacheBlocks, int ios, int iops, int tickEvery, int lagIos, long seed, List<String> traces) {
    static final java.util.List<String> TRACE_NAMES = java.util.List.of("zipf-0.9", "zipf-1.2", "zipf-0.9-local",
            "zipf+scan", "hot+scan", "loop", "phased");
    static final String USAGE = String.join("\n",
            "usage: policy-sim [--cache-blocks N] [--ios N] [--iops N] [--tick-every N] [--lag N] [--seed N] [--trace NAME]...",
            "  --cache-blocks N  cache size in blocks (default 4096)",
            "  --ios N           I/Os per trace (default 2000000)",
            "  --iops N          virtual I/O rate, sets how many I/Os fall in smq's 1 s/10 s/60 s periods (default 2000)",
            "  --tick-every N    the engine ticks the policy every N I/Os and every virtual second (default 16)",
            "  --lag N           migration latency in I/Os for the 'smq lag' column (default 256)",
            "  --seed N          seed of the synthetic traces (default 42)",
            "  --trace NAME      run only this trace (repeatable): " + String.join(", ", TRACE_NAMES));

    /** Thrown for a bad command line; the message is one line naming the option at fault. */
    static final class BadOptionException extends Exception {
        private static final long serialVersionUID = 1L;

        BadOptionException(String message) {
            super(message);
        }
    }

    static SimulatorOptions parse(String[] args) throws BadOptionException {
        int cacheBlocks = 4096;
        int ios = 2_000_000;
        int iops = 2000;
        int tickEvery = 16;
        int lag = 256;
        long seed = 42;
        List<String> traces = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            String opt = args[i];
            if (opt.equals("--help") || opt.equals("-h")) {
                throw new BadOptionException("help");
            }
            if (i + 1 >= args.length) {
                throw new BadOptionException("option " + opt + " needs a value");
            }
            String v = args[++i];
            switch (opt) {
                case "--cache-blocks" -> cacheBlocks = positiveInt(opt, v, 1 << 24);
                case "--ios" -> ios = positiveInt(opt, v, 200_000_000);
                case "--iops" -> iops = positiveInt(opt, v, 100_000_000);
                case "--tick-every" -> tickEvery = positiveInt(opt, v, Integer.MAX_VALUE);
                case "--lag" -> lag = positiveInt(opt, v, Integer.MAX_VALUE);
                case "--seed" -> seed = parseLong(opt, v);
                case "--trace" -> {
                    if (!TRACE_NAMES.contains(v)) {
                        throw new BadOptionException("unknown trace '" + v + "' (known: " + String.join(", ", TRACE_NAMES) + ")");
                    }
                    traces.add(v);
                }
                default -> throw new BadOptionException("unknown option " + opt);
            }
        }
        if ((long) cacheBlocks * 32 > 1 << 28) {
            throw new BadOptionException("--cache-blocks " + cacheBlocks + " is too big for the synthetic traces (at most "
                    + ((1 << 28) / 32) + ")");
        }
        return new SimulatorOptions(cacheBlocks, ios, iops, tickEvery, lag, seed, List.copyOf(traces));
    }

    private static int positiveInt(String opt, String v, int max) throws BadOptionException {
        long n = parseLong(opt, v);
        if (n < 1 || n > max) {
            throw new BadOptionException("option " + opt + " must be in [1, " + max + "]: " + v);
        }
        return (int) n;
    }

    private static long parseLong(String opt, String v) throws BadOptionException {
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new BadOptionException("option " + opt + " needs a number: '" + v + "'");
        }
    }
}
