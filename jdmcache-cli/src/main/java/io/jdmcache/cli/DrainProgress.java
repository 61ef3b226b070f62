package io.jdmcache.cli;

import io.jdmcache.engine.CacheDevice;
import io.jdmcache.tools.run.Progress;

import java.io.PrintStream;

/** A progress line while the cleaner policy drains dirty blocks (stderr, terminals only). */
final class DrainProgress {
    private DrainProgress() {
    }

    static void startIfCleaning(CacheDevice dev, PrintStream err) {
        if (!dev.config().policy().equals("cleaner") || dev.dirtyBlocks() == 0) {
            return;
        }
        Progress bar = Progress.start(err, "Cleaning");
        long total = dev.dirtyBlocks();
        bar.total(total);
        Thread t = new Thread(() -> {
            try {
                while (dev.dirtyBlocks() > 0) {
                    bar.update(total - dev.dirtyBlocks());
                    Thread.sleep(250);
                }
                bar.finish();
                err.println("jdmcache: the cleaner has written back every dirty block");
            } catch (InterruptedException | RuntimeException e) {
                bar.finish();
            }
        }, "jdmcache-drain-progress");
        t.setDaemon(true);
        t.start();
    }
}
