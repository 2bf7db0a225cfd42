package io.miniloadbalancer.edge.config;

import io.netty.handler.ipfilter.IpFilterRuleType;
import io.netty.handler.ipfilter.IpSubnetFilterRule;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * A set of address ranges written as CIDRs ({@code 10.0.0.0/16}, {@code fd00::/8}) or single
 * addresses; the matching is Netty's {@link IpSubnetFilterRule}. Used for {@code
 * server.trustedProxies}.
 */
public final class AddressRanges {

  private static final AddressRanges NONE = new AddressRanges(List.of());

  private final List<IpSubnetFilterRule> rules;

  private AddressRanges(List<IpSubnetFilterRule> rules) {
    this.rules = rules;
  }

  /**
   * Parses {@code entries}.
   *
   * @param entries CIDRs or single addresses
   * @param key the config key, named in errors
   * @return the ranges
   * @throws IllegalArgumentException naming {@code key} and the entry that is not a range
   */
  public static AddressRanges parse(List<String> entries, String key) {
    if (entries.isEmpty()) {
      return NONE;
    }
    List<IpSubnetFilterRule> rules = new ArrayList<>();
    for (String entry : entries) {
      String e = entry == null ? "" : entry.trim();
      int slash = e.indexOf('/');
      String ip = slash < 0 ? e : e.substring(0, slash);
      try {
        if (ip.isEmpty() || !ip.matches("[0-9A-Fa-f:.]+")) {
          // Literal addresses only: a host name would be resolved (DNS) at start-up.
          throw new IllegalArgumentException("not an IP address");
        }
        InetAddress address = InetAddress.getByName(ip);
        int maxBits = address.getAddress().length * 8;
        int bits = slash < 0 ? maxBits : Integer.parseInt(e.substring(slash + 1));
        if (bits < 0 || bits > maxBits) {
          throw new IllegalArgumentException("prefix length must be 0.." + maxBits);
        }
        rules.add(new IpSubnetFilterRule(address, bits, IpFilterRuleType.ACCEPT));
      } catch (Exception ex) {
        throw new IllegalArgumentException(
            key
                + ": '"
                + e
                + "' is not an address or CIDR like 10.0.0.0/16 ("
                + ex.getMessage()
                + ")");
      }
    }
    return new AddressRanges(List.copyOf(rules));
  }

  /**
   * Whether {@code peer} is inside any range.
   *
   * @param peer a connection's remote address
   * @return true when an IP address inside one of the ranges
   */
  public boolean contains(SocketAddress peer) {
    if (rules.isEmpty() || !(peer instanceof InetSocketAddress a) || a.getAddress() == null) {
      return false;
    }
    for (IpSubnetFilterRule r : rules) {
      if (r.matches(a)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Whether {@code bind} names a loopback address, where the admin plane may run without a token.
   *
   * @param bind a bind address or name
   * @return true for {@code localhost}, {@code 127.*} and {@code ::1}
   */
  public static boolean isLoopback(String bind) {
    return bind.equals("localhost") || bind.startsWith("127.") || bind.equals("::1");
  }
}
