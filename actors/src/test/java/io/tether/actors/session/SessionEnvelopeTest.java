package io.tether.actors.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The ledger's streaming view of an item agrees with the full parse on what the ledger reads. */
class SessionEnvelopeTest {

  @Test
  void theLedgerViewAgreesWithTheFullParse() {
    List<String> items = List.of(
        "{\"type\":\"message.delta\",\"run\":\"r1\",\"producer\":\"agent\",\"data\":{\"text\":\"hi\"}}",
        "{\"data\":{\"type\":\"nested\",\"a\":[1,{\"run\":\"x\"}]},\"type\":\"message.end\"}",
        "{\"type\":\"run.start\",\"run\":\"r2\",\"producer\":\"p\",\"data\":{\"input\":\"m1\"}}",
        "{\"type\":\"run.end\",\"run\":\"r2\",\"data\":{\"status\":\"cancelled\"}}",
        "{\"type\":\"control.cancel\",\"data\":{\"message\":\"m1\"}}",
        "{\"type\":\"presence.joined\",\"data\":{\"device\":\"d\",\"kind\":\"agent\"}}",
        "{\"type\":\"presence.left\",\"data\":{\"device\":\"d\"}}",
        "{\"type\":42,\"run\":\"r\"}", "{\"type\":\"a\",\"type\":\"b\",\"run\":7}",
        "{\"run\":\"r\"}", "[1,2]", "\"type\"", "{\"type\":\"x\",\"data\":{\"unclosed\":[}",
        "{\"type\":\"x\"} trailing", "  {\"type\":\"spaced\",\"run\":null}",
        "{\"type\":\"message.delta\",\"data\":{\"text\":\"t\",\"id\":\"m1\",\"id\":\"m2\"}}",
        "{\"data\":{\"role\":\"user\",\"x\":{\"id\":\"no\"}},\"type\":\"message.start\",\"run\":\"r\"}",
        "{\"type\":\"message\",\"producer\":\"p\",\"data\":{\"id\":7,\"role\":\"user\"}}",
        "{\"type\":\"control.steer\",\"run\":\"r\",\"data\":{\"id\":\"s1\",\"text\":\"go\"}}");
    for (String text : items) {
      byte[] item = text.getBytes(StandardCharsets.UTF_8);
      Optional<SessionEnvelope> full = SessionEnvelope.of(item);
      Optional<SessionEnvelope> ledger = SessionEnvelope.forLedger(item);
      assertEquals(full.isPresent(), ledger.isPresent(), text);
      if (full.isPresent()) {
        assertEquals(full.get().type(), ledger.get().type(), text);
        assertEquals(full.get().run(), ledger.get().run(), text);
        assertEquals(full.get().producer(), ledger.get().producer(), text);
        boolean ledgerReadsData = List.of("run.start", "run.end", "control.cancel",
            "control.steer", "control.interrupt",
            "presence.joined", "presence.left").contains(full.get().type());
        if (ledgerReadsData) {
          assertEquals(full.get().data(), ledger.get().data(), text);
        }
        if (SessionEnvelope.isMessage(full.get().type())) {
          assertEquals(full.get().messageKey(), ledger.get().messageKey(), text);
          assertEquals(full.get().messageKey(),
              SessionEnvelope.forRollup(item).orElseThrow().messageKey(), text);
          assertEquals(full.get().dataText("text"),
              SessionEnvelope.forRollup(item).orElseThrow().dataText("text"), text);
        }
      }
    }
  }

  @Test
  void aDeltaIsSkippedWithoutParsingOnlyWhenNoOtherTypeMemberCanFollow() {
    List<String> certain = List.of(
        "{\"type\":\"message.delta\",\"producer\":\"bench\",\"data\":{\"id\":\"m\",\"text\":\"t\"}}",
        "{\"type\":\"message.delta\",\"run\":\"r1\",\"data\":{\"text\":\"a \\\"quote\\\"\\n\"}}",
        // "type" quoted inside a text is escaped there, so it is no member
        "{\"type\":\"message.delta\",\"data\":{\"text\":\"the \\\"type\\\" field\"}}");
    List<String> parsed = List.of(
        // another type member later: the last one wins in a parse, so it must be parsed
        "{\"type\":\"message.delta\",\"data\":{},\"type\":\"run.start\",\"run\":\"r\"}",
        // a key spelled with an escape is the same key to a parser
        "{\"type\":\"message.delta\",\"typ\\u0065\":\"run.end\",\"run\":\"r\"}",
        "{\"type\":\"message.deltas\",\"data\":{}}",
        " {\"type\":\"message.delta\",\"data\":{}}",
        "{\"type\": \"message.delta\",\"data\":{}}",
        "{\"data\":{},\"type\":\"message.delta\"}",
        "{\"type\":\"message.delta\"",
        // a member named type inside the data: parsed (a delta all the same)
        "{\"type\":\"message.delta\",\"data\":{\"type\":\"x\"}}");
    for (String text : certain) {
      byte[] item = text.getBytes(StandardCharsets.UTF_8);
      assertTrue(SessionEnvelope.isCertainlyDelta(item), text);
      assertEquals("message.delta", SessionEnvelope.forLedger(item).orElseThrow().type(), text);
    }
    for (String text : parsed) {
      assertFalse(SessionEnvelope.isCertainlyDelta(text.getBytes(StandardCharsets.UTF_8)), text);
    }
    // Whatever the ledger skips, its fold would not have changed it.
    SessionLedger ledger = SessionLedger.empty();
    for (String text : certain) {
      assertEquals(ledger, ledger.fold(new Offset(1, 1),
          SessionEnvelope.forLedger(text.getBytes(StandardCharsets.UTF_8)).orElseThrow()));
    }
  }
}
