package io.jdmcache.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code jdmcache message}: sends a dm-cache target message to the running server. */
@Command(name = "message", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = {"Send a message to a running 'jdmcache serve', as 'dmsetup message DEV 0 WORDS...':",
                "migration_threshold SECTORS; invalidate_cblocks BEGIN[-END]... (passthrough only); with the mq "
                        + "policy its old tunables (sequential_threshold, random_threshold, read_promote_adjustment, "
                        + "write_promote_adjustment, discard_promote_adjustment), accepted and ignored as the "
                        + "kernel does (smq and cleaner have none).",
                "And serve's own: trace start FILE (record the volume's NBD requests to FILE, in jdmcache's "
                        + "trace format; a relative FILE is taken from this command's directory) and trace stop."})
final class MessageCommand implements Callable<Integer> {
    @ParentCommand
    Jdmcache root;

    @Parameters(arity = "1..*", paramLabel = "WORD", description = "the message")
    List<String> words;

    @Option(names = "--control", paramLabel = "PATH", description = "the server's control socket (default: "
            + Control.DEFAULT_HINT + ")")
    Path control;

    @Option(names = "--volume", paramLabel = "NAME", description = "the volume the message is for (needed when "
            + "the server serves several)")
    String volume;

    @Override
    public Integer call() {
        for (String w : words) {
            for (int i = 0; i < w.length(); i++) {
                char c = w.charAt(i);
                if (c < 0x20 || c == 0x7f) {
                    root.err.printf("message: word %s contains a control character (0x%02x at %d); "
                            + "words are printable text%n", quoted(w), (int) c, i);
                    return 1;
                }
            }
        }
        List<String> send = words;
        if (words.size() == 3 && words.get(0).equals("trace") && words.get(1).equals("start")) {
            String file = words.get(2);
            if (file.isEmpty() || file.chars().anyMatch(Character::isWhitespace)) {
                root.err.println("message: trace start " + quoted(file) + ": a trace file's path cannot hold "
                        + "spaces or be empty here");
                return 1;
            }
            // the server may run in another directory: send the path as this command means it
            send = List.of("trace", "start", Path.of(file).toAbsolutePath().normalize().toString());
        }
        return StatusCommand.ask(root, control, "message", volume, String.join(" ", send));
    }

    private static String quoted(String w) {
        StringBuilder b = new StringBuilder("'");
        for (char c : w.toCharArray()) {
            b.append(c < 0x20 || c == 0x7f ? String.format("\\x%02x", (int) c) : String.valueOf(c));
        }
        return b.append("'").toString();
    }
}
