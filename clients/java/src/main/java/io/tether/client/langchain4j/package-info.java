/**
 * The LangChain4j bridge: {@link io.tether.client.langchain4j.TetherStreamingHandler} writes a
 * LangChain4j streaming chat answer (text, thinking, tool calls) into a Tether session as part
 * of an {@link io.tether.client.AgentRun} and cancels the model call when the session cancels
 * the run; {@link io.tether.client.langchain4j.ScriptedStreamingChatModel} is an offline
 * scripted model for demos and tests. The only package of {@code tether-client} that needs
 * {@code dev.langchain4j:langchain4j-core} (an optional dependency) on the class path.
 */
package io.tether.client.langchain4j;
