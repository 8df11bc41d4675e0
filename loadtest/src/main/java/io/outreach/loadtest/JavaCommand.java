package io.outreach.loadtest;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The command line of a JVM process started from this one (an engine, the sandbox, the database,
 * the {@code token} subcommand): this JVM's {@code java}, the JVM options of the system property
 * {@code outreach.test.jvm-options} (the build sets them for processes that start and stop within a
 * test, see the root pom; unset when a benchmark runs), then the arguments.
 */
public final class JavaCommand {
  private JavaCommand() {}

  /** This JVM's {@code java} executable. */
  public static String java() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  /** {@code java}, the test JVM options, then {@code args}; a list the caller may add to. */
  public static List<String> of(String... args) {
    List<String> cmd = new ArrayList<>();
    cmd.add(java());
    String options = System.getProperty("outreach.test.jvm-options", "").trim();
    if (!options.isEmpty()) {
      cmd.addAll(List.of(options.split("\\s+")));
    }
    cmd.addAll(List.of(args));
    return cmd;
  }
}
