package io.jdmcache.cli;

/** Entry point of the runnable jar: {@code java -jar jdmcache.jar <command> ...}. */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        int rc = Jdmcache.run(args, System.out, System.err);
        System.out.flush();
        System.exit(rc);
    }
}
