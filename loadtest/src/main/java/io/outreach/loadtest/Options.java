package io.outreach.loadtest;

import java.util.HashMap;
import java.util.Map;

/** {@code --name value} options of a benchmark, with defaults. */
record Options(Map<String, String> values) {
  static Options parse(String[] args) {
    Map<String, String> v = new HashMap<>();
    for (int i = 0; i + 1 < args.length; i += 2) {
      if (!args[i].startsWith("--")) {
        throw new IllegalArgumentException("expected --name value, got " + args[i]);
      }
      v.put(args[i].substring(2), args[i + 1]);
    }
    return new Options(v);
  }

  String get(String name, String fallback) {
    return values.getOrDefault(name, fallback);
  }

  long getLong(String name, long fallback) {
    return Long.parseLong(values.getOrDefault(name, Long.toString(fallback)));
  }
}
