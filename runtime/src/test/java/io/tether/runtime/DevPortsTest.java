package io.tether.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * How {@code tether dev} chooses its ports, against real sockets: derived without wrapping (two
 * instances 1000 apart no longer share a CQL port), a derived port that is taken replaced by a
 * free one and said so, a port the user named and is taken reported in one line.
 */
class DevPortsTest {
  private static final String HOST = "127.0.0.1";

  /** A server socket holding a free port, as another program would. */
  private static ServerSocket hold(int port) throws Exception {
    ServerSocket socket = new ServerSocket();
    socket.bind(new InetSocketAddress(HOST, port));
    return socket;
  }

  /** Free, or past the port range (then the choice never tries it). */
  private static boolean unused(int port) {
    return port > 65535 || DevPorts.free(HOST, port);
  }

  /**
   * An HTTP port whose derived ports, and those of the port 1000 above, are all unused now
   * (which ports are free varies with the machine).
   */
  private static int quietHttpPort(int from) {
    for (int p = from; p < from + 500; p++) {
      int o = p - DevPorts.BASE_HTTP;
      boolean quiet = true;
      for (int shift : new int[] {0, 1000}) {
        quiet &= unused(p + shift) && unused(DevPorts.BASE_CQL + o + shift)
            && unused(DevPorts.BASE_STORAGE + o + shift)
            && unused(DevPorts.BASE_MANAGEMENT + o + shift);
      }
      if (quiet) {
        return p;
      }
    }
    throw new IllegalStateException("no quiet port range on this machine");
  }

  @Test
  void instancesAThousandPortsApartDeriveDifferentPorts() {
    int http = quietHttpPort(20100);
    DevPorts one = DevPorts.choose(HOST, Map.of("TETHER_HTTP_PORT", Integer.toString(http)));
    DevPorts two = DevPorts.choose(HOST,
        Map.of("TETHER_HTTP_PORT", Integer.toString(http + 1000)));
    int o = http - 8080;
    assertEquals(List.of(http, 9042 + o, 17000 + o, 8558 + o),
        List.of(one.http(), one.cql(), one.storage(), one.management()));
    assertEquals(one.cql() + 1000, two.cql(), "no mod 1000: the CQL ports differ");
    Set<Integer> all = new HashSet<>(List.of(one.http(), one.cql(), one.storage(),
        one.management()));
    for (int p : List.of(two.http(), two.cql(), two.storage(), two.management())) {
      assertTrue(all.add(p), "port " + p + " chosen by both instances");
    }
    assertTrue(one.notes().isEmpty() && two.notes().isEmpty(), one.notes() + " " + two.notes());
  }

  @Test
  void aDerivedPortThatIsTakenIsReplacedByAFreeOneAndSaidSo() throws Exception {
    int http = quietHttpPort(21300);
    int derivedCql = 9042 + (http - 8080);
    try (ServerSocket other = hold(derivedCql)) {
      DevPorts ports = DevPorts.choose(HOST, Map.of("TETHER_HTTP_PORT", Integer.toString(http)));
      assertNotEquals(derivedCql, ports.cql());
      assertTrue(DevPorts.free(HOST, ports.cql()), "the replacement is free");
      assertEquals(1, ports.notes().size(), ports.notes().toString());
      assertTrue(ports.notes().get(0).contains(Integer.toString(derivedCql))
          && ports.notes().get(0).contains(Integer.toString(ports.cql())), ports.notes().get(0));
    }
  }

  @Test
  void onTheUsersCassandraNoCassandraPortIsChosenOrChecked() throws Exception {
    int http = quietHttpPort(22500);
    // The user's Cassandra may well listen on the port that would be derived: not a clash.
    try (ServerSocket usersCassandra = hold(9042 + (http - 8080))) {
      DevPorts ports = DevPorts.choose(HOST, Map.of("TETHER_HTTP_PORT", Integer.toString(http),
          "TETHER_CASSANDRA_PORT", Integer.toString(usersCassandra.getLocalPort())), false);
      assertEquals(0, ports.cql());
      assertEquals(0, ports.storage());
      assertEquals(8558 + (http - 8080), ports.management());
      assertEquals(List.of(), ports.notes());
    }
  }

  @Test
  void derivedPortsPastTheRangeAreReplacedToo() {
    int http = quietHttpPort(58000);
    DevPorts ports = DevPorts.choose(HOST, Map.of("TETHER_HTTP_PORT", Integer.toString(http)));
    assertTrue(ports.storage() <= 65535 && ports.storage() != 17000 + (http - 8080));
    assertTrue(ports.notes().stream().anyMatch(n -> n.contains("outside 1024-65535")),
        ports.notes().toString());
  }

  @Test
  void aTakenPortTheUserNamedStopsTheStartInOneLine() throws Exception {
    try (ServerSocket other = hold(0)) {
      int port = other.getLocalPort();
      var e = assertThrows(DevPorts.PortException.class,
          () -> DevPorts.choose(HOST, Map.of("TETHER_HTTP_PORT", Integer.toString(port))));
      assertTrue(e.getMessage().startsWith("port " + port + " on 127.0.0.1 (TETHER_HTTP_PORT) "
          + "is already in use"), e.getMessage());
      assertFalse(e.getMessage().contains("\n"));
      int http = quietHttpPort(22500);
      var cql = assertThrows(DevPorts.PortException.class, () -> DevPorts.choose(HOST, Map.of(
          "TETHER_HTTP_PORT", Integer.toString(http), "TETHER_CASSANDRA_PORT",
          Integer.toString(port))));
      assertTrue(cql.getMessage().contains("(TETHER_CASSANDRA_PORT) is already in use"));
    }
    for (String bad : List.of("http", "0", "70000", "-1")) {
      var e = assertThrows(DevPorts.PortException.class,
          () -> DevPorts.choose(HOST, Map.of("TETHER_HTTP_PORT", bad)));
      assertEquals("TETHER_HTTP_PORT must be a port number from 1 to 65535, was '" + bad + "'",
          e.getMessage());
    }
  }
}
