package io.tether.runtime;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;

/**
 * The ports of one {@code tether dev} instance, checked before anything starts.
 *
 * <p>The HTTP port is the user's ({@code TETHER_HTTP_PORT}, 8080). Every other port is derived
 * from it by the same offset {@code o = port - 8080}, without wrapping, so two instances on
 * different HTTP ports derive different ports: CQL {@code 9042 + o}, Cassandra's internode port
 * {@code 17000 + o}, Pekko Management (and {@code /metrics}) {@code 8558 + o}. A derived port that
 * falls outside 1024-65535, is already in use (another instance, another program) or equals a
 * port already chosen is replaced by a free port the OS picks, and the banner says so. A port
 * the user named ({@code TETHER_HTTP_PORT}, {@code TETHER_CASSANDRA_PORT},
 * {@code TETHER_MANAGEMENT_PORT}) is never replaced: if it is taken, the start stops with one
 * line saying which. Remoting takes a free port (nobody joins a dev node).
 *
 * @param http the API's port
 * @param cql Cassandra's CQL port
 * @param storage Cassandra's internode port
 * @param management Pekko Management's port
 * @param notes one line per derived port that was replaced, for the banner
 */
record DevPorts(int http, int cql, int storage, int management, List<String> notes) {
  static final int BASE_HTTP = 8080;
  static final int BASE_CQL = 9042;
  static final int BASE_STORAGE = 17000;
  static final int BASE_MANAGEMENT = 8558;

  /** A port that cannot be used, said in one line. */
  static final class PortException extends RuntimeException {
    PortException(String message) {
      super(message);
    }
  }

  /** Chooses the ports for {@code host} from the environment (see the class comment). */
  static DevPorts choose(String host, Map<String, String> env) {
    return choose(host, env, true);
  }

  /**
   * As {@link #choose(String, Map)}; without {@code localCassandra} (the node uses a Cassandra
   * the user runs) no Cassandra port is chosen or checked, and both are 0.
   */
  static DevPorts choose(String host, Map<String, String> env, boolean localCassandra) {
    int http = named(env, "TETHER_HTTP_PORT").orElse(BASE_HTTP);
    requireFree(host, http, "TETHER_HTTP_PORT");
    int offset = http - BASE_HTTP;
    Set<Integer> taken = new HashSet<>(Set.of(http));
    List<String> notes = new ArrayList<>();
    int cql = localCassandra
        ? pick(host, env, "TETHER_CASSANDRA_PORT", "CQL", BASE_CQL + offset, taken, notes) : 0;
    int storage = localCassandra
        ? pick(host, env, null, "Cassandra internode", BASE_STORAGE + offset, taken, notes) : 0;
    int management = pick(host, env, "TETHER_MANAGEMENT_PORT", "management",
        BASE_MANAGEMENT + offset, taken, notes);
    return new DevPorts(http, cql, storage, management, List.copyOf(notes));
  }

  private static int pick(String host, Map<String, String> env, String variable, String what,
      int derived, Set<Integer> taken, List<String> notes) {
    OptionalInt explicit = variable == null ? OptionalInt.empty() : named(env, variable);
    if (explicit.isPresent()) {
      int port = explicit.getAsInt();
      if (taken.contains(port)) {
        throw new PortException(variable + "=" + port + " is already used by this instance "
            + "for another port; choose another");
      }
      requireFree(host, port, variable);
      taken.add(port);
      return port;
    }
    String why = null;
    if (derived < 1024 || derived > 65535) {
      why = "outside 1024-65535";
    } else if (taken.contains(derived)) {
      why = "used by this instance";
    } else if (!free(host, derived)) {
      why = "in use";
    }
    if (why == null) {
      taken.add(derived);
      return derived;
    }
    int port;
    do {
      port = anyFreePort(host);
    } while (taken.contains(port));
    taken.add(port);
    notes.add(what + " port " + derived + " (derived from the HTTP port) is " + why
        + "; using free port " + port);
    return port;
  }

  private static OptionalInt named(Map<String, String> env, String variable) {
    String value = env.get(variable);
    if (value == null || value.isBlank()) {
      return OptionalInt.empty();
    }
    try {
      int port = Integer.parseInt(value.trim());
      if (port >= 1 && port <= 65535) {
        return OptionalInt.of(port);
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new PortException(variable + " must be a port number from 1 to 65535, was '" + value
        + "'");
  }

  private static void requireFree(String host, int port, String variable) {
    if (!free(host, port)) {
      throw new PortException("port " + port + " on " + host + " (" + variable + ") is already "
          + "in use: stop what holds it (ss -ltnp 'sport = :" + port + "') or set " + variable
          + " to a free port");
    }
  }

  static boolean free(String host, int port) {
    try (ServerSocket socket = new ServerSocket()) {
      socket.setReuseAddress(true);
      socket.bind(new InetSocketAddress(host, port));
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static int anyFreePort(String host) {
    try (ServerSocket socket = new ServerSocket()) {
      socket.bind(new InetSocketAddress(host, 0));
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new PortException("no free port on " + host + ": " + e.getMessage());
    }
  }
}
