package io.tether.actors.harness.model;

import dev.langchain4j.http.client.HttpClient;
import dev.langchain4j.http.client.HttpClientBuilder;
import dev.langchain4j.http.client.HttpRequest;
import dev.langchain4j.http.client.SuccessfulHttpResponse;
import dev.langchain4j.http.client.jdk.JdkHttpClient;
import dev.langchain4j.http.client.sse.ServerSentEvent;
import dev.langchain4j.http.client.sse.ServerSentEventContext;
import dev.langchain4j.http.client.sse.ServerSentEventListener;
import dev.langchain4j.http.client.sse.ServerSentEventParser;
import java.time.Duration;

/**
 * An HTTP client builder for one LangChain4j model call that tells when the response stream
 * has closed. Some LangChain4j clients (Ollama's, on an {@code {"error": ...}} line) neither
 * complete nor fail when a stream ends without its final event; knowing that the stream closed
 * lets the provider fail such a call at once instead of waiting for the call timeout.
 */
final class StreamEndWatch implements HttpClientBuilder {

  private final HttpClientBuilder delegate = JdkHttpClient.builder();
  private final Runnable onClosed;

  /** @param onClosed run once the response stream has closed, cleanly or not */
  StreamEndWatch(Runnable onClosed) {
    this.onClosed = onClosed;
  }

  @Override
  public Duration connectTimeout() {
    return delegate.connectTimeout();
  }

  @Override
  public HttpClientBuilder connectTimeout(Duration timeout) {
    delegate.connectTimeout(timeout);
    return this;
  }

  @Override
  public Duration readTimeout() {
    return delegate.readTimeout();
  }

  @Override
  public HttpClientBuilder readTimeout(Duration timeout) {
    delegate.readTimeout(timeout);
    return this;
  }

  @Override
  public HttpClient build() {
    HttpClient client = delegate.build();
    return new HttpClient() {
      @Override
      public SuccessfulHttpResponse execute(HttpRequest request) {
        return client.execute(request);
      }

      @Override
      public void execute(HttpRequest request, ServerSentEventParser parser,
          ServerSentEventListener listener) {
        client.execute(request, parser, new ServerSentEventListener() {
          @Override
          public void onOpen(SuccessfulHttpResponse response) {
            listener.onOpen(response);
          }

          @Override
          public void onEvent(ServerSentEvent event, ServerSentEventContext context) {
            listener.onEvent(event, context);
          }

          @Override
          public void onEvent(ServerSentEvent event) {
            listener.onEvent(event);
          }

          @Override
          public void onError(Throwable error) {
            try {
              listener.onError(error);
            } finally {
              onClosed.run();
            }
          }

          @Override
          public void onClose() {
            try {
              listener.onClose();
            } finally {
              onClosed.run();
            }
          }
        });
      }
    };
  }
}
