package io.outreach.engine.spend;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import io.outreach.engine.CborSerializable;
import java.util.Map;
import java.util.TreeMap;

/**
 * What outbound work costs, in integer micro-dollars (1,000,000 = $1): an SMS segment by provider,
 * a started voice minute by provider, an enrichment credit by provider, and a million input or
 * output tokens by model ({@code outreach.prices}, see reference.conf). Cents appear only at the
 * API: {@link #cents} rounds up, so nothing reported costs less than it did.
 */
public record Prices(
    Map<String, Long> smsSegment,
    Map<String, Long> voiceMinute,
    Map<String, Long> enrichmentCredit,
    Map<String, Llm> llm)
    implements CborSerializable {

  /** A model's price per million input and output tokens. */
  public record Llm(long inputPerMillion, long outputPerMillion) implements CborSerializable {}

  public Prices {
    smsSegment = Map.copyOf(smsSegment);
    voiceMinute = Map.copyOf(voiceMinute);
    enrichmentCredit = Map.copyOf(enrichmentCredit);
    llm = Map.copyOf(llm);
  }

  /** One SMS segment through {@code provider}; an unpriced provider is refused at start. */
  public long segment(String provider) {
    return price(smsSegment, "sms-segment", provider);
  }

  /** A message of {@code segments} segments through {@code provider}. */
  public long sms(String provider, int segments) {
    return Math.multiplyExact(segment(provider), (long) segments);
  }

  /** One started voice minute through {@code provider}. */
  public long voiceMinute(String provider) {
    return price(voiceMinute, "voice-minute", provider);
  }

  /** {@code credits} enrichment credits at {@code provider}. */
  public long enrichment(String provider, long credits) {
    return Math.multiplyExact(price(enrichmentCredit, "enrichment-credit", provider), credits);
  }

  /** A model call's tokens, rounded up to the micro-dollar. */
  public long llm(String model, long inputTokens, long outputTokens) {
    Llm p = llm.get(model);
    if (p == null) {
      throw new IllegalArgumentException("no price for model " + model + " in outreach.prices.llm");
    }
    long micros =
        Math.addExact(
            Math.multiplyExact(inputTokens, p.inputPerMillion()),
            Math.multiplyExact(outputTokens, p.outputPerMillion()));
    return (micros + 999_999) / 1_000_000;
  }

  /** Characters a token stands for when a model call's input is estimated before it is made. */
  static final int CHARS_PER_TOKEN = 3;

  /** The instructions and schema a model call carries besides its text, in tokens. */
  static final int PROMPT_TOKENS = 400;

  /**
   * The most a model call can cost, reserved before it is made: its instructions and {@code
   * textChars} characters of text in (a token for every {@value #CHARS_PER_TOKEN} characters, which
   * over-counts English), {@code maxOutputTokens} out.
   */
  public long llmWorst(String model, long textChars, long maxOutputTokens) {
    return llm(
        model,
        PROMPT_TOKENS + (textChars + CHARS_PER_TOKEN - 1) / CHARS_PER_TOKEN,
        maxOutputTokens);
  }

  /** Micro-dollars as whole cents, rounded up. */
  public static long cents(long micros) {
    return micros <= 0 ? 0 : (micros + 9_999) / 10_000;
  }

  /** Whole cents as micro-dollars. */
  public static long micros(long cents) {
    return Math.multiplyExact(cents, 10_000L);
  }

  private static long price(Map<String, Long> table, String kind, String key) {
    Long p = table.get(key);
    if (p == null) {
      throw new IllegalArgumentException(
          "no " + kind + " price for " + key + " in outreach.prices");
    }
    return p;
  }

  /** {@code outreach.prices} of {@code root}; a missing or negative price fails naming its key. */
  public static Prices from(Config root) {
    Config c = root.getConfig("outreach.prices");
    Map<String, Llm> llm = new TreeMap<>();
    Config models = c.getConfig("llm");
    for (String model : models.root().keySet()) {
      String quoted = com.typesafe.config.ConfigUtil.joinPath(model);
      llm.put(
          model,
          new Llm(
              nonNegative(models, quoted + ".input-per-million"),
              nonNegative(models, quoted + ".output-per-million")));
    }
    return new Prices(
        table(c, "sms-segment"), table(c, "voice-minute"), table(c, "enrichment-credit"), llm);
  }

  private static Map<String, Long> table(Config c, String kind) {
    Map<String, Long> out = new TreeMap<>();
    Config t = c.getConfig(kind);
    for (String key : t.root().keySet()) {
      out.put(key, nonNegative(t, key));
    }
    return out;
  }

  private static long nonNegative(Config c, String key) {
    long v = c.getLong(key);
    if (v < 0) {
      throw new ConfigException.BadValue(key, "a price must not be negative, was " + v);
    }
    return v;
  }
}
