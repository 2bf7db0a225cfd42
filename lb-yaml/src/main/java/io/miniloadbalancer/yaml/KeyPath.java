package io.miniloadbalancer.yaml;

import com.fasterxml.jackson.core.JsonPointer;
import com.fasterxml.jackson.databind.JsonMappingException;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Where a value sits in a YAML document, as a person writes it: {@code faults[2].backend}, {@code
 * pools.api.endpoints[1]}. Keys are kept whole, so a key with a dot in it ({@code pools.my.api}) is
 * still one step, and the line lookup follows the document rather than a parsed string.
 *
 * <p>Immutable; equality covers every step.
 */
public final class KeyPath {

  private static final KeyPath ROOT = new KeyPath(List.of());

  /** Each step is a {@code String} key or an {@code Integer} list index. */
  private final List<Object> steps;

  private KeyPath(List<Object> steps) {
    this.steps = steps;
  }

  /**
   * The document itself, the start of every path.
   *
   * @return the empty path
   */
  public static KeyPath root() {
    return ROOT;
  }

  /**
   * This path, one key deeper.
   *
   * @param key a mapping key
   * @return a new path
   */
  public KeyPath key(String key) {
    return append(key);
  }

  /**
   * This path, one list item deeper.
   *
   * @param index the item's 0-based index
   * @return a new path
   */
  public KeyPath index(int index) {
    return append(index);
  }

  /**
   * Whether this is the document itself.
   *
   * @return true for the empty path
   */
  public boolean isRoot() {
    return steps.isEmpty();
  }

  /**
   * The last step when it is a key.
   *
   * @return the last key, or {@code ""} at the root or after a list index
   */
  public String lastKey() {
    return !steps.isEmpty() && steps.get(steps.size() - 1) instanceof String s ? s : "";
  }

  /** The path Jackson recorded while binding, in the same steps. */
  static KeyPath of(JsonMappingException e) {
    KeyPath path = ROOT;
    for (JsonMappingException.Reference r : e.getPath()) {
      path = r.getFieldName() != null ? path.key(r.getFieldName()) : path.index(r.getIndex());
    }
    return path;
  }

  /** This path and each parent, the deepest first, ending before the root. */
  List<KeyPath> selfAndParents() {
    List<KeyPath> out = new ArrayList<>();
    for (int n = steps.size(); n > 0; n--) {
      out.add(new KeyPath(steps.subList(0, n)));
    }
    return out;
  }

  /** The same place as a JSON pointer (with escaping), the key the line lookup uses. */
  JsonPointer pointer() {
    JsonPointer p = JsonPointer.empty();
    for (Object step : steps) {
      p = step instanceof String key ? p.appendProperty(key) : p.appendIndex((Integer) step);
    }
    return p;
  }

  private KeyPath append(Object step) {
    List<Object> next = new ArrayList<>(steps.size() + 1);
    next.addAll(steps);
    next.add(step);
    return new KeyPath(List.copyOf(next));
  }

  /** {@code faults[2].backend}; {@code ""} for the root. */
  @Override
  public String toString() {
    StringBuilder out = new StringBuilder();
    for (Object step : steps) {
      if (step instanceof Integer i) {
        out.append('[').append(i).append(']');
      } else {
        if (out.length() > 0) {
          out.append('.');
        }
        out.append(step);
      }
    }
    return out.toString();
  }

  @Override
  public boolean equals(@Nullable Object o) {
    return o instanceof KeyPath other && steps.equals(other.steps);
  }

  @Override
  public int hashCode() {
    return steps.hashCode();
  }
}
