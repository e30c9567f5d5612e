package io.tether.actors.harness.task;

/** What a role is asked to do in one task. */
public enum TaskKind {
  /** Planner: turn the prompt into a product spec with sprints. */
  PLAN,
  /** Generator: propose the sprint contract. */
  PROPOSE_CONTRACT,
  /** Evaluator: review the proposed contract. */
  REVIEW_CONTRACT,
  /** Generator: build the sprint. */
  BUILD,
  /** Evaluator: verify the build and score the rubric. */
  EVALUATE
}
