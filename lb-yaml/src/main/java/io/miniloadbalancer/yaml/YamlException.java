package io.miniloadbalancer.yaml;

/**
 * A YAML document that cannot be used. The message is meant for the person who wrote the file:
 * {@code edge.yaml line 7: server.port: expected a whole number, was "80x"}, or, where the line
 * holds more than one key (flow style), with the column: {@code t.yaml line 17, column 19:
 * faults[1].backend: no backend 'b7'}. It never names a Java type.
 *
 * <p>The parts are also available one by one, for callers that compare or rephrase errors.
 */
public final class YamlException extends Exception {

  private static final long serialVersionUID = 1L;

  private final String source;
  private final int line;
  private final int column;
  private final String keyPath;
  private final String problem;

  /**
   * An error at a place in a document.
   *
   * @param source what the document is called in the message: a file name, or for instance {@code
   *     environment (EDGE_SERVER_PORT)}
   * @param line the 1-based line, or 0 when unknown
   * @param column the 1-based column, or 0 when unknown
   * @param showColumn whether the message names the column (when the line alone is ambiguous)
   * @param keyPath the key path as written ({@code faults[2].backend}), or {@code ""}
   * @param problem what is wrong, in words
   */
  YamlException(
      String source, int line, int column, boolean showColumn, String keyPath, String problem) {
    super(format(source, line, showColumn ? column : 0, keyPath, problem));
    this.source = source;
    this.line = line;
    this.column = column;
    this.keyPath = keyPath;
    this.problem = problem;
  }

  private static String format(
      String source, int line, int column, String keyPath, String problem) {
    StringBuilder out = new StringBuilder(source);
    if (line > 0) {
      out.append(" line ").append(line);
      if (column > 0) {
        out.append(", column ").append(column);
      }
    }
    out.append(": ");
    if (!keyPath.isEmpty()) {
      out.append(keyPath).append(": ");
    }
    return out.append(problem).toString();
  }

  /**
   * The document's name as given to the reader.
   *
   * @return the source name
   */
  public String source() {
    return source;
  }

  /**
   * The 1-based line of the key (or of the point the parser stopped at).
   *
   * @return the line, or 0 when unknown (a document built from environment variables)
   */
  public int line() {
    return line;
  }

  /**
   * The 1-based column of the key; the message shows it only where the line holds more than one.
   *
   * @return the column, or 0 when unknown
   */
  public int column() {
    return column;
  }

  /**
   * The key path as written.
   *
   * @return for instance {@code pools.api.endpoints[1]}, or {@code ""} for the whole document
   */
  public String keyPath() {
    return keyPath;
  }

  /**
   * What is wrong, in words, without the place.
   *
   * @return for instance {@code expected a whole number, was "80x"}
   */
  public String problem() {
    return problem;
  }
}
