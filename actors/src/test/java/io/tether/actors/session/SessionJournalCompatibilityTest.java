package io.tether.actors.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.cbor.CBORFactory;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.stream.Stream;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.Serializer;
import org.apache.pekko.serialization.Serializers;
import org.apache.pekko.testkit.javadsl.TestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Journals written by earlier versions stay readable: every file under
 * {@code src/test/resources/journal/session/} holds events and snapshots exactly as an earlier
 * version serialized them (serializer id, manifest, bytes), one instance of every persisted
 * class with every field set. Each is deserialized with the node's serialization config as it
 * is now and serialized again; every field of the golden payload must come back with its value
 * (fields added since, with their defaults, may appear). A persisted class that is renamed or
 * moved without a Jackson migration (see {@code docs/contributing.md}) fails here, as does a
 * field that is dropped, renamed or read differently.
 *
 * <p>Never regenerate a golden file to make this test pass: the files are the past. Add a new
 * file for a new persisted class.
 */
class SessionJournalCompatibilityTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final ObjectMapper CBOR = new ObjectMapper(new CBORFactory());
  private static ActorSystem system;
  private static Serialization serialization;

  @BeforeAll
  static void start() {
    system = ActorSystem.create("SessionJournalCompatibilityTest", ConfigFactory.parseResources(
        "tether-serialization.conf").withFallback(ConfigFactory.load()).resolve());
    serialization = SerializationExtension.get(system);
  }

  @AfterAll
  static void stop() {
    TestKit.shutdownActorSystem(system);
  }

  @Test
  void everyGoldenEventAndSnapshotIsReadAndKeepsEveryField() throws Exception {
    List<String> checked = new ArrayList<>();
    for (Path file : goldenFiles()) {
      for (JsonNode entry : JSON.readTree(Files.readString(file))) {
        int serializerId = entry.path("serializerId").asInt();
        String manifest = entry.path("manifest").asText();
        byte[] golden = Base64.getDecoder().decode(entry.path("payload").asText());
        Object read = serialization.deserialize(golden, serializerId, manifest).get();
        Serializer serializer = serialization.findSerializerFor(read);
        assertEquals(serializerId, serializer.identifier(),
            manifest + " must stay bound to the serializer it was written with");
        byte[] again = serializer.toBinary(read);
        String lost = lost(tree(serializerId, golden), tree(serializerId, again), "");
        assertEquals(null, lost,
            manifest + " read as " + read.getClass().getName() + " lost or changed a field");
        checked.add(file.getFileName() + ": " + manifest);
      }
    }
    assertFalse(checked.isEmpty(), "no golden files found");
  }

  /** The first path of {@code golden} that {@code now} does not hold as it was, or null. */
  private static String lost(JsonNode golden, JsonNode now, String path) {
    if (golden.isObject()) {
      if (!now.isObject()) {
        return path + " is no longer an object";
      }
      for (var it = golden.fields(); it.hasNext(); ) {
        var field = it.next();
        JsonNode value = now.get(field.getKey());
        if (value == null) {
          return path + "/" + field.getKey() + " is gone";
        }
        String inner = lost(field.getValue(), value, path + "/" + field.getKey());
        if (inner != null) {
          return inner;
        }
      }
      return null;
    }
    if (golden.isArray()) {
      if (!now.isArray() || now.size() != golden.size()) {
        return path + " is not the same array";
      }
      for (int i = 0; i < golden.size(); i++) {
        String inner = lost(golden.get(i), now.get(i), path + "/" + i);
        if (inner != null) {
          return inner;
        }
      }
      return null;
    }
    return golden.equals(now) ? null : path + " was " + golden + ", now " + now;
  }

  private static JsonNode tree(int serializerId, byte[] bytes) throws IOException {
    return serializerId == 33 ? CBOR.readTree(bytes) : JSON.readTree(bytes);
  }

  private static List<Path> goldenFiles() throws IOException, URISyntaxException {
    Path dir = Path.of(SessionJournalCompatibilityTest.class.getResource("/journal/session").toURI());
    try (Stream<Path> files = Files.list(dir)) {
      return files.filter(p -> p.toString().endsWith(".json")).sorted().toList();
    }
  }
}
