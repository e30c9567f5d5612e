package io.tether.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A session event, typed by its {@code type}. Every record wraps the {@link Envelope} it was read
 * from (or will be written as); its accessors read the envelope's {@code data}, so an event
 * round-trips exactly, fields this client does not know included. Types this client does not
 * know arrive as {@link Other}. Build events to publish with {@link Events}.
 *
 * <p>Dispatch with {@code instanceof} (Java 17):
 * <pre>{@code
 * if (event instanceof Event.MessageDelta d) {
 *   screen.append(d.id(), d.text());
 * } else if (event instanceof Event.RunEnd end) {
 *   screen.finish(end.run(), end.status());
 * }
 * }</pre>
 */
public sealed interface Event permits Event.MessageStart, Event.MessageDelta, Event.MessageEnd,
    Event.Message, Event.ToolCall, Event.ToolResult, Event.RunStart, Event.RunEnd,
    Event.ControlCancel, Event.ControlSteer, Event.ControlInterrupt, Event.ControlAck,
    Event.PresenceJoined, Event.PresenceLeft, Event.Other {

  /** The envelope: type, run, step, producer, time and data. */
  Envelope envelope();

  /** The event's type, e.g. {@code message.delta}. */
  default String type() {
    return envelope().type();
  }

  /** The run it belongs to, or null. */
  default String run() {
    return envelope().run();
  }

  /** Who wrote it, or null. */
  default String producer() {
    return envelope().producer();
  }

  /** The event's data object (read-only). */
  default ObjectNode data() {
    return envelope().data();
  }

  /** The typed event for an envelope. */
  static Event of(Envelope e) {
    switch (e.type()) {
      case "message.start": return new MessageStart(e);
      case "message.delta": return new MessageDelta(e);
      case "message.end": return new MessageEnd(e);
      case "message": return new Message(e);
      case "tool.call": return new ToolCall(e);
      case "tool.result": return new ToolResult(e);
      case "run.start": return new RunStart(e);
      case "run.end": return new RunEnd(e);
      case "control.cancel": return new ControlCancel(e);
      case "control.steer": return new ControlSteer(e);
      case "control.interrupt": return new ControlInterrupt(e);
      case "control.ack": return new ControlAck(e);
      case "presence.joined": return new PresenceJoined(e);
      case "presence.left": return new PresenceLeft(e);
      default: return new Other(e);
    }
  }

  /** The typed event for an envelope's JSON object. */
  static Event fromJson(JsonNode node) {
    return of(Envelope.fromJson(node));
  }

  /** A message begins ({@code data.id}, {@code data.role}; text may follow in deltas). */
  record MessageStart(Envelope envelope) implements Event {
    public String id() { return envelope.dataText("id"); }
    public String role() { return envelope.dataText("role"); }
    /** Text carried by the start itself (a rolled-up partial message carries the text so far). */
    public String text() { return envelope.dataText("text"); }
  }

  /** A piece of a message's text (a token delta). */
  record MessageDelta(Envelope envelope) implements Event {
    public String id() { return envelope.dataText("id"); }
    public String text() { return envelope.dataText("text"); }
  }

  /** A message ends: {@code complete}, {@code cancelled} or {@code error}. */
  record MessageEnd(Envelope envelope) implements Event {
    public String id() { return envelope.dataText("id"); }
    public String status() { return envelope.dataText("status"); }
  }

  /**
   * A whole message: what the {@code message} granularity makes of a start, its deltas and its
   * end, or a message published whole.
   */
  record Message(Envelope envelope) implements Event {
    public String id() { return envelope.dataText("id"); }
    public String role() { return envelope.dataText("role"); }
    public String text() { return envelope.dataText("text"); }
    public String status() { return envelope.dataText("status"); }
  }

  /**
   * A tool call: its id ({@code toolCallId}, or {@code id} as the TypeScript client writes it),
   * the tool's name and its arguments as JSON text ({@code arguments}, or {@code input}
   * rendered).
   */
  record ToolCall(Envelope envelope) implements Event {
    public String toolCallId() {
      String id = envelope.dataText("toolCallId");
      return id != null ? id : envelope.dataText("id");
    }
    public String name() { return envelope.dataText("name"); }
    public String arguments() {
      String text = envelope.dataText("arguments");
      JsonNode input = envelope.data().get("input");
      return text != null ? text : input == null ? null : input.toString();
    }
  }

  /** A tool's result: {@code ok} or {@code error}, and its output. */
  record ToolResult(Envelope envelope) implements Event {
    public String toolCallId() {
      String id = envelope.dataText("toolCallId");
      return id != null ? id : envelope.dataText("id");
    }
    public String status() {
      String status = envelope.dataText("status");
      return status != null ? status : envelope.data().has("error") ? "error" : "ok";
    }
    public String output() {
      JsonNode out = envelope.data().get("output");
      JsonNode error = envelope.data().get("error");
      JsonNode v = out != null ? out : error;
      return v == null ? null : v.isTextual() ? v.asText() : v.toString();
    }
  }

  /** A run starts, answering the input message {@code data.input} (or none). */
  record RunStart(Envelope envelope) implements Event {
    public String input() { return envelope.dataText("input"); }
  }

  /** A run ends: {@code complete}, {@code cancelled}, {@code error} or {@code lost}. */
  record RunEnd(Envelope envelope) implements Event {
    public String status() { return envelope.dataText("status"); }
    /** Who ended it when the session did (the canceller's subject), or null. */
    public String by() { return envelope.dataText("by"); }
  }

  /**
   * The session fenced a run (written by the session on a cancel): the event's offset is the
   * fence. {@link #run()} is null when the cancel named an input message no run answers yet.
   */
  record ControlCancel(Envelope envelope) implements Event {
    /** The control's id, as the canceller gave it. */
    public String id() { return envelope.dataText("id"); }
    /** The input message the cancel named, or null. */
    public String message() { return envelope.dataText("message"); }
    /** The device that asked, or null. */
    public String device() { return envelope.dataText("device"); }
  }

  /** A steering text for a running run (written by the session). */
  record ControlSteer(Envelope envelope) implements Event {
    public String id() { return envelope.dataText("id"); }
    public String text() { return envelope.dataText("text"); }
    public String device() { return envelope.dataText("device"); }
  }

  /** A request to stop the current step of a running run and wait (written by the session). */
  record ControlInterrupt(Envelope envelope) implements Event {
    public String id() { return envelope.dataText("id"); }
    public String device() { return envelope.dataText("device"); }
  }

  /** An agent's answer to a control: which one, and whether it was consumed. */
  record ControlAck(Envelope envelope) implements Event {
    public String control() { return envelope.dataText("control"); }
    public boolean consumed() { return envelope.data().path("consumed").asBoolean(false); }
  }

  /** A device attached (written by the session). */
  record PresenceJoined(Envelope envelope) implements Event {
    public String device() { return envelope.dataText("device"); }
    /** {@code client} or {@code agent}. */
    public String kind() { return envelope.dataText("kind"); }
  }

  /** A device left: its last connection closed or stopped heartbeating. */
  record PresenceLeft(Envelope envelope) implements Event {
    public String device() { return envelope.dataText("device"); }
    public String kind() { return envelope.dataText("kind"); }
  }

  /** Any other type ({@code run.phase}, an application's own dotted types, ...). */
  record Other(Envelope envelope) implements Event {}
}
