package io.jdmcache.bench.policy;

import java.io.PrintStream;

/**
 * Replays synthetic traces through smq (with migrations completing at once and after a lag), the cleaner,
 * a plain LRU and Belady's MIN with the same cache size, and prints the hit ratios side by side.
 *
 * <p>Run with {@code bench/policy-sim.sh [options]}, or {@code java -cp jdmcache-bench/target/benchmarks.jar
 * io.jdmcache.bench.policy.PolicySimulator [options]}; {@code --help} lists the options.
 */
public final class PolicySimulator {
    private PolicySimulator() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** Runs the simulator; returns the exit code (0, or 2 for a bad command line). */
    static int run(String[] args, PrintStream out, PrintStream err) {
        SimulatorOptions options;
        try {
            options = SimulatorOptions.parse(args);
        } catch (SimulatorOptions.BadOptionException e) {
            if (e.getMessage().equals("help")) {
                out.println(SimulatorOptions.USAGE);
                return 0;
            }
            err.println("policy-sim: " + e.getMessage());
            err.println("try --help");
            return 2;
        }
        Simulation sim = new Simulation(options);
        out.print(sim.render(sim.run()));
        return 0;
    }
}
