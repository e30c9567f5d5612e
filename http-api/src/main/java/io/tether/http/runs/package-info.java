/**
 * REST for harness runs: create (returns the run id and the id of its durable session), list,
 * describe, cancel, steer, pause, resume. Errors are {@code application/problem+json}. The wire
 * records ({@link io.tether.http.runs.RunView}) are separate from the Run entity's messages, so
 * the journal can evolve without breaking clients. Authentication is applied by the composition
 * root around {@link io.tether.http.runs.RunRoutes#route()}.
 */
package io.tether.http.runs;
