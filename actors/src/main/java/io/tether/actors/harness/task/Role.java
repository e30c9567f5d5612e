package io.tether.actors.harness.task;

/** A harness role; its wire name is used in session events, scripts and model assignments. */
public enum Role {
  PLANNER, GENERATOR, EVALUATOR;

  /** The lower-case name used on the wire. */
  public String wireName() {
    return name().toLowerCase();
  }
}
