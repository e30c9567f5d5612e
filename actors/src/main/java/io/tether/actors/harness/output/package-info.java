/**
 * What the harness writes into sessions, and how: the {@link
 * io.tether.actors.harness.output.SessionWriter} port and its implementations ({@link
 * io.tether.actors.harness.output.SessionStreamWriter} into the Session entity, {@link
 * io.tether.actors.harness.output.InMemorySessionWriter} for tests), the event envelope that
 * {@code SessionEnvelope} (in the session package) reads ({@link
 * io.tether.actors.harness.output.SessionEvents}), and {@link
 * io.tether.actors.harness.output.ProducerStream}, which keeps one producer's appends in order
 * and coalesces token deltas while an append is in flight (the session's own group commit then
 * makes a few journal writes out of many tokens).
 *
 * <h2>What a client watching a run receives</h2>
 *
 * <p>Every item is a JSON object {@code {"type", "run", "step", "producer", "time", "data"}};
 * the session gives it its offset. {@code producer} is {@code run}, {@code planner},
 * {@code generator} or {@code evaluator}; {@code step} is
 * {@code s<sprint>.a<attempt>.r<round>.<task>}.
 *
 * <table>
 * <caption>Event types</caption>
 * <tr><th>type</th><th>producer</th><th>data</th></tr>
 * <tr><td>run.start</td><td>run</td><td>prompt, models, scripted, policy</td></tr>
 * <tr><td>run.phase</td><td>run</td><td>phase, role, task, taskId, sprint, attempt, round</td></tr>
 * <tr><td>run.spec</td><td>run</td><td>sprints (titles)</td></tr>
 * <tr><td>contract.state</td><td>run</td><td>sprint, round, state (proposed, rejected, agreed,
 *     forced), comments</td></tr>
 * <tr><td>evaluation.scores</td><td>run</td><td>sprint, attempt, scores, weighted, passed,
 *     misses, feedback</td></tr>
 * <tr><td>budget.used</td><td>run</td><td>the call settled: callId, role, model, sprint,
 *     estimated, call {inputTokens, outputTokens, usd}; what it adds up to: inputTokens,
 *     outputTokens, usd (the run's totals), roleTotal and sprintTotal (the call's role's and
 *     sprint's), byRole and bySprint (every role's and sprint's: inputTokens, outputTokens, usd,
 *     calls, estimated); maxTokens, maxUsd</td></tr>
 * <tr><td>control.ack</td><td>run, role</td><td>kind (cancel, pause, resume, steer), consumed,
 *     text or messages; a role acknowledges a steer when the task carrying it starts</td></tr>
 * <tr><td>run.end</td><td>run</td><td>status in the session's vocabulary (complete,
 *     cancelled, error), outcome (completed, failed, cancelled, budget_exhausted), reason,
 *     report</td></tr>
 * <tr><td>message.start</td><td>role</td><td>callId, attempt, role, model, provider,
 *     scripted, label (when scripted), retry, purpose=compact and compactedTurns (a
 *     compaction's summary call)</td></tr>
 * <tr><td>message.delta</td><td>role</td><td>callId, role, text, scripted</td></tr>
 * <tr><td>message.end</td><td>role</td><td>callId, status (complete, error, cancelled),
 *     finishReason, inputTokens, outputTokens, error</td></tr>
 * <tr><td>tool.call</td><td>role</td><td>toolCallId, role, name, arguments</td></tr>
 * <tr><td>tool.result</td><td>role</td><td>toolCallId, role, status (ok, error, in_doubt),
 *     output (first 4000 characters)</td></tr>
 * <tr><td>tool.screenshot</td><td>role</td><td>toolCallId, role, sprint, attempt, path (in
 *     the workspace), url (GET /runs/{id}/files/{path}, the image)</td></tr>
 * <tr><td>context.compacted</td><td>role</td><td>callId, role, replacedTurns, summary (first
 *     4000 characters): the role's older turns were summarized by its model</td></tr>
 * <tr><td>run.interrupted</td><td>role</td><td>role, callId and modelCall=re-issued, or
 *     toolCallId, tool and toolCall=in_doubt: the role's node stopped mid-call</td></tr>
 * </table>
 *
 * <p>Session writes follow the role's journal write (never precede it) and are not retried: the
 * role's and the run's journals are the record, the session is the live view of it. An event
 * whose append was in flight when a node died can be missing; later {@code budget.used} events
 * carry totals, so nothing a client computes from them drifts.
 */
package io.tether.actors.harness.output;
