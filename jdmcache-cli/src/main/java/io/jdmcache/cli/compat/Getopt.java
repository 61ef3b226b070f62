package io.jdmcache.cli.compat;

import java.util.ArrayList;
import java.util.List;

/**
 * GNU getopt_long as the reference tools use it: options and operands mixed in any order, {@code --} ends
 * the options, {@code --opt=value} and {@code --opt value}, bundled short options ({@code -qV}),
 * {@code -ovalue}, and any unambiguous prefix of a long option. Options are returned one at a time, left to
 * right, so a caller can act on {@code -h} or {@code -V} before a later bad option is seen. Error messages
 * are glibc's, word for word.
 */
final class Getopt {
    /** A long option; {@code id} is what {@link #next()} returns for it. */
    record LongOpt(String name, boolean hasArg, int id) {
    }

    /** A usage error, with glibc's message. */
    static final class Error extends Exception {
        private static final long serialVersionUID = 1L;

        Error(String message) {
            super(message, null, false, false);
        }
    }

    private final String prog;
    private final String[] args;
    private final String shorts;
    private final LongOpt[] longs;
    private final List<String> operands = new ArrayList<>();
    private int i;
    private int bundle = -1;
    private String optarg;

    /**
     * @param shorts the short options, getopt style: a letter followed by ':' takes an argument
     */
    Getopt(String prog, String[] args, String shorts, LongOpt... longs) {
        this.prog = prog;
        this.args = args;
        this.shorts = shorts;
        this.longs = longs;
    }

    /** The argument of the option last returned, or null. */
    String optarg() {
        return optarg;
    }

    /** The operands (non-option arguments), complete once {@link #next()} returned -1. */
    List<String> operands() {
        return operands;
    }

    /** The next option (its letter, or its long option's id), or -1 when there are no more. */
    int next() throws Error {
        optarg = null;
        if (bundle > 0) {
            return shortOpt();
        }
        while (i < args.length) {
            String a = args[i];
            if (a.equals("--")) {
                for (i++; i < args.length; i++) {
                    operands.add(args[i]);
                }
                return -1;
            }
            if (a.startsWith("--")) {
                i++;
                return longOpt(a.substring(2));
            }
            if (a.startsWith("-") && a.length() > 1) {
                bundle = 1;
                return shortOpt();
            }
            operands.add(a);
            i++;
        }
        return -1;
    }

    private int shortOpt() throws Error {
        String a = args[i];
        char c = a.charAt(bundle++);
        boolean last = bundle >= a.length();
        int at = shorts.indexOf(c);
        if (at < 0 || c == ':') {
            if (last) {
                finishBundle();
            }
            throw new Error(prog + ": invalid option -- '" + c + "'");
        }
        boolean hasArg = at + 1 < shorts.length() && shorts.charAt(at + 1) == ':';
        if (hasArg) {
            if (!last) {
                optarg = a.substring(bundle);
                finishBundle();
            } else {
                finishBundle();
                if (i >= args.length) {
                    throw new Error(prog + ": option requires an argument -- '" + c + "'");
                }
                optarg = args[i++];
            }
        } else if (last) {
            finishBundle();
        }
        return c;
    }

    private void finishBundle() {
        bundle = -1;
        i++;
    }

    private int longOpt(String body) throws Error {
        int eq = body.indexOf('=');
        String name = eq < 0 ? body : body.substring(0, eq);
        LongOpt match = null;
        List<LongOpt> candidates = new ArrayList<>();
        for (LongOpt o : longs) {
            if (o.name().equals(name)) {
                match = o;
                candidates.clear();
                break;
            }
            if (o.name().startsWith(name)) {
                candidates.add(o);
            }
        }
        if (match == null) {
            if (candidates.isEmpty()) {
                throw new Error(prog + ": unrecognized option '--" + name + "'");
            }
            if (candidates.size() > 1) {
                StringBuilder sb = new StringBuilder(prog + ": option '--" + name + "' is ambiguous; possibilities:");
                for (LongOpt o : candidates) {
                    sb.append(" '--").append(o.name()).append('\'');
                }
                throw new Error(sb.toString());
            }
            match = candidates.get(0);
        }
        if (match.hasArg()) {
            if (eq >= 0) {
                optarg = body.substring(eq + 1);
            } else if (i < args.length) {
                optarg = args[i++];
            } else {
                throw new Error(prog + ": option '--" + match.name() + "' requires an argument");
            }
        } else if (eq >= 0) {
            throw new Error(prog + ": option '--" + match.name() + "' doesn't allow an argument");
        }
        return match.id();
    }
}
