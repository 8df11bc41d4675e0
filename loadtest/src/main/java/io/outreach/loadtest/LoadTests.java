package io.outreach.loadtest;

/**
 * Entry point of the load tests and benchmarks, which run against a running engine and its
 * sandbox providers and print their figures. The foundation has none yet: the intake, campaign
 * and inbound issues each add theirs here.
 */
public final class LoadTests {
  private LoadTests() {}

  public static void main(String[] args) {
    System.out.println("no load tests yet: see loadtest/README.md");
  }
}
