package io.tether.actors.harness.model;

import com.fasterxml.jackson.databind.JsonNode;
import dev.langchain4j.model.chat.request.json.JsonAnyOfSchema;
import dev.langchain4j.model.chat.request.json.JsonArraySchema;
import dev.langchain4j.model.chat.request.json.JsonBooleanSchema;
import dev.langchain4j.model.chat.request.json.JsonEnumSchema;
import dev.langchain4j.model.chat.request.json.JsonIntegerSchema;
import dev.langchain4j.model.chat.request.json.JsonNumberSchema;
import dev.langchain4j.model.chat.request.json.JsonObjectSchema;
import dev.langchain4j.model.chat.request.json.JsonSchemaElement;
import dev.langchain4j.model.chat.request.json.JsonStringSchema;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns the JSON schema an MCP server gives for a tool's arguments into LangChain4j's schema
 * elements, which every provider then renders in its own wire format. Covers what tool schemas
 * use (objects, strings, numbers, integers, booleans, arrays, enums, anyOf); anything else
 * becomes a described string, so an unusual schema degrades instead of failing the call.
 */
final class JsonSchemas {

  private JsonSchemas() {}

  /** The schema of a tool's arguments object. */
  static JsonObjectSchema objectSchema(JsonNode schema) {
    JsonSchemaElement element = element(schema);
    return element instanceof JsonObjectSchema o ? o : JsonObjectSchema.builder().build();
  }

  static JsonSchemaElement element(JsonNode s) {
    String description = s.hasNonNull("description") ? s.get("description").asText() : null;
    if (s.has("enum") && s.get("enum").isArray()) {
      List<String> values = new ArrayList<>();
      s.get("enum").forEach(v -> values.add(v.asText()));
      return JsonEnumSchema.builder().enumValues(values).description(description).build();
    }
    if (s.has("anyOf") && s.get("anyOf").isArray()) {
      List<JsonSchemaElement> options = new ArrayList<>();
      s.get("anyOf").forEach(o -> options.add(element(o)));
      return JsonAnyOfSchema.builder().anyOf(options).description(description).build();
    }
    String type = s.path("type").isArray() ? s.path("type").path(0).asText("string")
        : s.path("type").asText(s.has("properties") ? "object" : "string");
    switch (type) {
      case "object" -> {
        JsonObjectSchema.Builder b = JsonObjectSchema.builder().description(description);
        s.path("properties").fields().forEachRemaining(p ->
            b.addProperty(p.getKey(), element(p.getValue())));
        List<String> required = new ArrayList<>();
        s.path("required").forEach(r -> required.add(r.asText()));
        b.required(required);
        if (s.has("additionalProperties") && s.get("additionalProperties").isBoolean()) {
          b.additionalProperties(s.get("additionalProperties").asBoolean());
        }
        return b.build();
      }
      case "array" -> {
        JsonArraySchema.Builder b = JsonArraySchema.builder().description(description);
        if (s.has("items") && s.get("items").isObject()) {
          b.items(element(s.get("items")));
        } else {
          b.items(JsonStringSchema.builder().build());
        }
        return b.build();
      }
      case "integer" -> {
        return JsonIntegerSchema.builder().description(description).build();
      }
      case "number" -> {
        return JsonNumberSchema.builder().description(description).build();
      }
      case "boolean" -> {
        return JsonBooleanSchema.builder().description(description).build();
      }
      default -> {
        return JsonStringSchema.builder().description(description).build();
      }
    }
  }
}
