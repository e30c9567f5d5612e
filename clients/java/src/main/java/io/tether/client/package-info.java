/**
 * The JVM client of Tether sessions, for apps and agents alike.
 *
 * <p>{@link io.tether.client.TetherClient} is the entry point: it holds the node's address, the
 * capability token and the threads every session of it shares. From it:
 *
 * <ul>
 *   <li>{@link io.tether.client.TetherSession}: one session over the session WebSocket. Delivers
 *       {@link io.tether.client.SessionEvent}s strictly in offset order, reconnects by itself
 *       with backoff and jitter and resumes after the last event it delivered (no gap, no
 *       duplicate), publishes with acknowledgements, and answers cancel, steer and interrupt
 *       with the server's fence or control offset.
 *   <li>{@link io.tether.client.IdempotentProducer}: exactly-once appends over Durable Streams
 *       HTTP ({@code Producer-Id}/{@code Epoch}/{@code Seq}), batched and retried.
 *   <li>{@link io.tether.client.TetherAgent} and {@link io.tether.client.AgentRun}: the agent's
 *       side: run lifecycle helpers and control callbacks, acknowledged with
 *       {@code control.ack}.
 * </ul>
 *
 * <p>Events are typed ({@link io.tether.client.Event}, a sealed interface of records) and so are
 * the WebSocket frames ({@link io.tether.client.Frames}). Only the JDK's
 * {@code java.net.http} clients and Jackson are used; the LangChain4j bridge lives in
 * {@code io.tether.client.langchain4j} and is the only part that needs LangChain4j.
 */
package io.tether.client;
