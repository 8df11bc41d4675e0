package io.outreach.engine.message;

import static org.assertj.core.api.Assertions.assertThat;

import io.outreach.engine.message.OptOutKeywords.Keyword;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Inbound keywords per shared/TEST-VECTORS.md ("Opt-out words"). */
class OptOutKeywordsTest {

  @ParameterizedTest(name = "[{index}] \"{0}\" -> {1}")
  @CsvSource(
      delimiter = '|',
      quoteCharacter = '`',
      value = {
        "STOP|OPT_OUT",
        "stop|OPT_OUT",
        "Stop.|OPT_OUT",
        "` STOP! `|OPT_OUT",
        "`\tstop\n`|OPT_OUT",
        "STOP!!!|OPT_OUT",
        "\"STOP\"|OPT_OUT",
        "STOPALL|OPT_OUT",
        "StopAll|OPT_OUT",
        "UNSUBSCRIBE|OPT_OUT",
        "unsubscribe.|OPT_OUT",
        "CANCEL|OPT_OUT",
        "End|OPT_OUT",
        "quit|OPT_OUT",
        "REVOKE|OPT_OUT",
        "OPTOUT|OPT_OUT",
        "OPT OUT|OPT_OUT",
        "opt  out!|OPT_OUT",
        "Opt-out|OPT_OUT",
        "START|OPT_IN",
        "yes|OPT_IN",
        "Unstop|OPT_IN",
        "HELP|HELP",
        "help?|HELP",
        "Info|HELP",
      })
  void keywords(String text, Keyword keyword) {
    assertThat(OptOutKeywords.classify(text)).contains(keyword);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "   ",
        "stop texting me",
        "please stop",
        "Don't stop",
        "STOP STOP",
        "yes please",
        "Yeah",
        "Stopp",
        "S T O P",
        "help me understand the offer",
        "start over",
      })
  void notKeywords(String text) {
    assertThat(OptOutKeywords.classify(text)).isEmpty();
  }
}
