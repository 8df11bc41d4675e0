package io.outreach.engine.gianna;

import java.text.Normalizer;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.regex.Pattern;

/**
 * The offline classifier, used when a tenant has no model key: deterministic rules over the reply's
 * words, first match wins, in this order (each with a fixed confidence):
 *
 * <ol>
 *   <li>{@code opt_out} 0.95: asks not to be contacted ("please don't text me again", "remove me",
 *       "take me off your list", "unsubscribe", "leave me alone", "no more texts").
 *   <li>{@code hostile} 0.9: profanity, threats of a lawyer, the police or a report, harassment.
 *   <li>{@code wrong_number} 0.9: "wrong number", "not me", "no one by that name" ("who is this?"
 *       is a question).
 *   <li>{@code not_interested} 0.85: "not interested", "no thanks", "not now", "pass"; a bare "no"
 *       0.8.
 *   <li>{@code interested} 0.85: "yes", "interested", "sounds good", "tell me more", "call me".
 *   <li>{@code question} 0.75: ends with a question mark or starts with a question word.
 *   <li>{@code other} 0.5: anything else.
 * </ol>
 *
 * Text is compared lower-cased, accents and curly quotes folded, runs of spaces made one; phrases
 * match whole words. The confidences sit below the default auto-answer threshold (0.9) except for
 * opt-outs, so without a model nothing is answered automatically unless a tenant lowers it.
 */
public final class RuleClassifier implements ReplyClassifier {
  public static final String NAME = "rules";

  private record Rule(ReplyCategory category, double confidence, Pattern pattern) {}

  private static final List<Rule> RULES =
      List.of(
          rule(
              ReplyCategory.OPT_OUT,
              0.95,
              "(do ?n[o']?t|dont|never|stop|quit) (text|txt|messag|contact|call|email|bother|spam)\\w*"
                  + "|remove (me|my (number|name))|take me off|unsubscribe|opt(ing)? ?out"
                  + "|leave me alone|no more (texts?|messages|calls)|lose my number"
                  + "|delete my (number|info)|not to (text|contact|call)"),
          rule(
              ReplyCategory.HOSTILE,
              0.9,
              "f+u+c+k\\w*|shit\\w*|bitch\\w*|asshole|bastard|screw you|go to hell|damn you"
                  + "|(my|a) (lawyer|attorney)|sue you|call(ing)? the (police|cops)|report (you|this)"
                  + "|harass\\w*|scam\\w*"),
          rule(
              ReplyCategory.WRONG_NUMBER,
              0.9,
              "wrong (number|person|#)|not me|no one (here )?by that name|nobody (here )?by that name"
                  + "|(does|do) ?n[o']?t live here|you have the wrong|not my (name|number)"),
          rule(
              ReplyCategory.NOT_INTERESTED,
              0.85,
              "not interested|no thanks?|no thank you|not now|not at this time|maybe later|pass"
                  + "|nah|nope|no need|all set|not for me"),
          rule(ReplyCategory.NOT_INTERESTED, 0.8, "^no[.!]*$"),
          rule(
              ReplyCategory.INTERESTED,
              0.85,
              "^(yes|yeah|yep|sure|ok|okay|y)\\b|interested|sounds good|tell me more|call me"
                  + "|i'?m in|let'?s (talk|do it)|sign me up|more info|i want"),
          new Rule(
              ReplyCategory.QUESTION,
              0.75,
              Pattern.compile(
                  "\\?\\s*$|^(who|what|when|where|why|how|which|can|could|is|are|do|does|will"
                      + "|would)\\b")));

  /** A rule whose phrases match whole words only. */
  private static Rule rule(ReplyCategory category, double confidence, String regex) {
    String bounded = "(?<![\\w'])(" + regex + ")(?![\\w'])";
    return new Rule(category, confidence, Pattern.compile(bounded));
  }

  @Override
  public CompletionStage<Classification> classify(Request request) {
    return CompletableFuture.completedFuture(classify(request.body()));
  }

  /** The rules' verdict on {@code body}. */
  public static Classification.Classified classify(String body) {
    String text = normalize(body);
    for (Rule r : RULES) {
      if (r.pattern().matcher(text).find()) {
        return new Classification.Classified(
            r.category(), r.confidence(), null, NAME, Classification.Usage.NONE);
      }
    }
    return new Classification.Classified(
        ReplyCategory.OTHER, 0.5, null, NAME, Classification.Usage.NONE);
  }

  static String normalize(String body) {
    if (body == null) {
      return "";
    }
    String folded =
        Normalizer.normalize(body, Normalizer.Form.NFKD)
            .replaceAll("\\p{M}+", "")
            .replace('\u2019', '\'')
            .replace('\u2018', '\'');
    return folded.toLowerCase(Locale.ROOT).replaceAll("\\s+", " ").trim();
  }
}
