package io.miniloadbalancer.core.internal.strategy;

/**
 * The one 64-bit hash every ring, table and request key uses: FNV-1a over the UTF-16 code units,
 * finished with MurmurHash3's {@code fmix64} avalanche step.
 *
 * <p>Why not {@link String#hashCode()}: 32 bits collide on large rings and its low bits are weak.
 * Why this function: it is stable across JVMs and versions (every balancer in a fleet maps a key to
 * the same endpoint), allocation-free, and the finalizer makes every input bit affect every output
 * bit, which ring positions need. For ASCII keys it equals FNV-1a over the bytes, then mixed.
 */
public final class Hashing {

  private static final long FNV_OFFSET = 0xcbf29ce484222325L;
  private static final long FNV_PRIME = 0x100000001b3L;

  private Hashing() {}

  /** Hash of {@code s} under {@code seed}; different seeds give independent-looking hashes. */
  public static long hash64(CharSequence s, long seed) {
    long h = FNV_OFFSET ^ mix(seed);
    for (int i = 0, n = s.length(); i < n; i++) {
      char c = s.charAt(i);
      if (c > 0xFF) {
        h ^= c >>> 8;
        h *= FNV_PRIME;
      }
      h ^= c & 0xFF;
      h *= FNV_PRIME;
    }
    return mix(h);
  }

  /** MurmurHash3's 64-bit finalizer: a bijection with full avalanche. */
  public static long mix(long k) {
    k ^= k >>> 33;
    k *= 0xff51afd7ed558ccdL;
    k ^= k >>> 33;
    k *= 0xc4ceb9fe1a85ec53L;
    k ^= k >>> 33;
    return k;
  }

  /**
   * Maps a 64-bit hash onto {@code [0, n)} without division (Lemire's multiply-shift on the top 32
   * bits), for {@code n} below 2^31.
   */
  public static int reduce(long hash, int n) {
    return (int) (((hash >>> 32) * n) >>> 32);
  }
}
