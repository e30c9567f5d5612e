package io.tether.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The Kubernetes files cannot run here, so this keeps them valid and in step with the config:
 * every document is well-formed with the fields Kubernetes requires, the ports and probe paths
 * are the ones the production profile serves, and every environment variable the Deployment
 * sets is one the configuration actually reads.
 */
class DeploymentManifestsTest {
  private static final Path DEPLOY = Path.of(System.getProperty("tether.project.root"),
      "cluster-config", "deploy", "kubernetes");
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  @Test
  void everyManifestIsAWellFormedKubernetesObject() throws IOException {
    List<JsonNode> docs = allDocuments();
    assertTrue(docs.size() >= 5, "expected Deployment, Service, ServiceAccount, Role, RoleBinding");
    for (JsonNode doc : docs) {
      assertTrue(doc.hasNonNull("apiVersion"), "apiVersion missing in " + doc);
      assertTrue(doc.hasNonNull("kind"), "kind missing in " + doc);
      assertTrue(doc.path("metadata").hasNonNull("name"), "metadata.name missing in " + doc);
    }
  }

  @Test
  void theDeploymentServesWhatTheProductionProfileConfigures() throws IOException {
    Config config = ConfigLoader.load("production.conf", Map.of());
    JsonNode deployment = kind("Deployment");
    JsonNode pod = deployment.path("spec").path("template");
    JsonNode container = pod.path("spec").path("containers").get(0);
    Map<String, Integer> ports = new HashMap<>();
    container.path("ports").forEach(p -> ports.put(p.path("name").asText(), p.path("containerPort").asInt()));

    assertEquals(config.getInt("tether.http.port"), ports.get("http"));
    assertEquals(config.getInt("pekko.management.http.port"), ports.get("management"));
    assertEquals(config.getInt("pekko.remote.artery.canonical.port"), ports.get("remoting"));
    assertEquals("/health", container.path("livenessProbe").path("httpGet").path("path").asText());
    assertEquals("/ready", container.path("readinessProbe").path("httpGet").path("path").asText());
    assertEquals(List.of("node"), YAML.convertValue(container.path("args"), List.class));

    String label = deployment.path("spec").path("selector").path("matchLabels").path("app").asText();
    assertEquals(label, pod.path("metadata").path("labels").path("app").asText());
    assertEquals(config.getString("pekko.discovery.kubernetes-api.pod-label-selector")
            .formatted(config.getString(
                "pekko.management.cluster.bootstrap.contact-point-discovery.service-name")),
        "app=" + label, "Cluster Bootstrap must look for the pods this Deployment creates");
    assertEquals(kind("ServiceAccount").path("metadata").path("name").asText(),
        pod.path("spec").path("serviceAccountName").asText());
    // Something other than the JVM is PID 1, to reap what dies under the processes it kills.
    assertTrue(pod.path("spec").path("shareProcessNamespace").asBoolean(),
        "without a reaper as PID 1, every orphan of a killed process tree stays a zombie");
  }

  @Test
  void theServiceAndRbacPointAtTheDeployment() throws IOException {
    JsonNode service = kind("Service");
    assertEquals("tether", service.path("spec").path("selector").path("app").asText());
    assertEquals("http", service.path("spec").path("ports").get(0).path("targetPort").asText());
    JsonNode role = kind("Role");
    JsonNode rule = role.path("rules").get(0);
    assertEquals("pods", rule.path("resources").get(0).asText());
    assertTrue(rule.path("verbs").toString().contains("list"), "discovery lists pods");
    assertEquals(role.path("metadata").path("name").asText(),
        kind("RoleBinding").path("roleRef").path("name").asText());
  }

  @Test
  void everyEnvironmentVariableTheDeploymentSetsIsReadByTheConfiguration() throws IOException {
    StringBuilder readers = new StringBuilder();
    try (Stream<Path> files = Files.list(Path.of(System.getProperty("tether.project.root"),
        "cluster-config", "src", "main", "resources"))) {
      for (Path f : files.toList()) {
        readers.append(Files.readString(f));
      }
    }
    readers.append(Files.readString(Path.of(System.getProperty("tether.project.root"),
        "runtime", "src", "main", "java", "io", "tether", "runtime", "ConfigLoader.java")));
    JsonNode container = kind("Deployment").path("spec").path("template").path("spec")
        .path("containers").get(0);
    for (JsonNode env : container.path("env")) {
      String name = env.path("name").asText();
      if (name.equals("JAVA_TOOL_OPTIONS")) {
        continue;
      }
      assertTrue(readers.indexOf(name) >= 0, name + " is set by the Deployment but read by nothing");
    }
  }

  private static JsonNode kind(String kind) throws IOException {
    return allDocuments().stream().filter(d -> kind.equals(d.path("kind").asText())).findFirst()
        .orElseThrow(() -> new AssertionError("no " + kind + " in " + DEPLOY));
  }

  private static List<JsonNode> allDocuments() throws IOException {
    List<JsonNode> docs = new ArrayList<>();
    try (Stream<Path> files = Files.list(DEPLOY)) {
      for (Path file : files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList()) {
        try (YAMLParser parser = new YAMLFactory().createParser(file.toFile())) {
          for (var it = YAML.readValues(parser, JsonNode.class); it.hasNext(); ) {
            JsonNode doc = it.next();
            if (doc != null && !doc.isNull() && !doc.isEmpty()) {
              docs.add(doc);
            }
          }
        }
      }
    }
    return docs;
  }
}
