package io.jdmcache.cli.compat;

import io.jdmcache.metadata.ExternalTools;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/** Runs one of the reference-named tools in-process (jdmcache) or as Debian's program (the reference). */
record ToolRun(int rc, String out, String err) {
    static ToolRun ours(String tool, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream o = new PrintStream(out, true);
        int rc = CacheTools.run(tool, args, o, new PrintStream(err, true), o);
        return new ToolRun(rc, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    static ToolRun reference(String tool, String... args) throws Exception {
        ExternalTools.Result r = ExternalTools.run(tool, args);
        return new ToolRun(r.rc(), r.stdout(), r.stderr());
    }
}
