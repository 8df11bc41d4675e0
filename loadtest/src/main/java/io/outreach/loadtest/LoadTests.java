package io.outreach.loadtest;

import java.util.Arrays;

/**
 * Entry point of the benchmarks. Each runs the engine jar as a separate process on a fresh data
 * directory, drives it over HTTP and prints its figures:
 *
 * <pre>
 * java -jar loadtest/target/outreach-loadtest.jar intake [--rows 1000000] [--heap 256m]
 * java -jar loadtest/target/outreach-loadtest.jar campaign [--recipients 10000,100000] [--heap 256m]
 * java -jar loadtest/target/outreach-loadtest.jar inbound [--rates 100,250,500,1000] [--seconds 15]
 * java -jar loadtest/target/outreach-loadtest.jar classify [--rate 1000] [--seconds 15]
 * java -jar loadtest/target/outreach-loadtest.jar cluster [--nodes 1,3] [--recipients 10000]
 * java -jar loadtest/target/outreach-loadtest.jar faults [--faults kill,database,...] [--quick true]
 * </pre>
 */
public final class LoadTests {
  private LoadTests() {}

  public static void main(String[] args) throws Exception {
    String command = args.length == 0 ? "" : args[0];
    String[] rest = Arrays.copyOfRange(args, Math.min(1, args.length), args.length);
    switch (command) {
      case "intake" -> IntakeBenchmark.run(Options.parse(rest));
      case "campaign" -> CampaignBenchmark.run(Options.parse(rest));
      case "inbound" -> InboundBenchmark.run(Options.parse(rest));
      case "classify" -> ClassifyBenchmark.run(Options.parse(rest));
      case "cluster" -> ClusterBenchmark.run(Options.parse(rest));
      case "faults" -> FaultSuite.main(Options.parse(rest));
      default -> {
        System.err.println(
            "usage: java -jar outreach-loadtest.jar intake|campaign|inbound|classify|cluster|faults [--rows N | --recipients N,M | --rates 100,500 | --nodes 1,3] [--heap 256m] [--engine-jar PATH]");
        System.exit(2);
      }
    }
  }
}
