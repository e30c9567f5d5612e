/**
 * Tools from MCP servers: Tether is an MCP client (the official MCP Java SDK) of the servers the
 * operator configures ({@code tether.harness.mcp.servers}: a command speaking MCP over its
 * standard input and output, or a streamable-HTTP URL) and of the built-in {@code browser}
 * server, Playwright MCP driving Debian's headless Chromium. A run's policy attaches servers to
 * roles with an allow-list of tools per role; {@link io.tether.actors.harness.mcp.McpTools}
 * lists their tools for the role's model calls and runs their calls, which the role journals
 * write-ahead like its built-in tools.
 *
 * <p>A stdio server of a run runs in the run's sandbox (the run's workspace at {@code
 * /workspace}, its loopback-only network namespace, an unprivileged user, dying with the node),
 * so the browser reaches the app {@code start_process} started and nothing else. Each role of a
 * run has its own connection to a server, opened at first use and closed when the role's task
 * ends. Secrets a server needs are named in configuration as {@code ${env:VARIABLE}} and read
 * from the node's environment when the server starts; they reach the server process (through
 * its environment, never its argv) or its HTTP headers, and nothing else: no event, journal
 * entry or log line carries them.
 */
package io.tether.actors.harness.mcp;
