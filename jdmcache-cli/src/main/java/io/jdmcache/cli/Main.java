package io.jdmcache.cli;

import io.jdmcache.cli.compat.CacheTools;

import java.io.FileDescriptor;
import java.io.FileOutputStream;

/**
 * Entry point of the runnable jar: {@code java -jar jdmcache.jar <command> ...}; with the system property
 * {@code jdmcache.tool} set (by the {@code bin/cache_*} launchers) it is that reference tool instead.
 */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        String tool = System.getProperty("jdmcache.tool", "");
        int rc = tool.isEmpty() ? Jdmcache.run(args, System.out, System.err)
                : CacheTools.run(tool, args, System.out, System.err, new FileOutputStream(FileDescriptor.out));
        System.out.flush();
        System.exit(rc);
    }
}
