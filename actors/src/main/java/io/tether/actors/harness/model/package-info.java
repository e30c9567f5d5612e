/**
 * Model providers of the harness behind one streaming, tool-calling interface, {@link
 * io.tether.actors.harness.model.ModelProvider}: the offline {@link
 * io.tether.actors.harness.model.ScriptedProvider} and the real providers (Anthropic,
 * OpenAI-compatible, Ollama) through LangChain4j. The records here are persisted inside the role
 * entities' events, so they are the harness's own types, never LangChain4j's.
 */
package io.tether.actors.harness.model;
