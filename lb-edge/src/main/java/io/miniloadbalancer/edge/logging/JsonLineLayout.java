package io.miniloadbalancer.edge.logging;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.CoreConstants;
import ch.qos.logback.core.LayoutBase;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.Map;

/**
 * One JSON object per log event, on one line: {@code time} (ISO-8601, UTC), {@code level}, {@code
 * logger}, {@code thread}, {@code message}, and {@code mdc} and {@code throwable} only when there
 * are any. Written with Jackson's generator, which leaves {@code /} unescaped, so a URL in a
 * message can be pasted as it is (logback's own JsonEncoder writes {@code http:\/\/}, always adds
 * {@code "mdc": {}} and {@code "throwable": null}, and gives the time in epoch milliseconds).
 */
public final class JsonLineLayout extends LayoutBase<ILoggingEvent> {

  private static final JsonFactory JSON = new JsonFactory();

  /** For logback, which instantiates it from {@code logback.xml}. */
  public JsonLineLayout() {}

  @Override
  public String doLayout(ILoggingEvent event) {
    StringWriter out = new StringWriter(256);
    try (JsonGenerator g = JSON.createGenerator(out)) {
      g.writeStartObject();
      g.writeStringField("time", Instant.ofEpochMilli(event.getTimeStamp()).toString());
      g.writeStringField("level", event.getLevel().toString());
      g.writeStringField("logger", event.getLoggerName());
      g.writeStringField("thread", event.getThreadName());
      g.writeStringField("message", event.getFormattedMessage());
      Map<String, String> mdc = event.getMDCPropertyMap();
      if (mdc != null && !mdc.isEmpty()) {
        g.writeObjectFieldStart("mdc");
        for (Map.Entry<String, String> e : mdc.entrySet()) {
          g.writeStringField(e.getKey(), e.getValue());
        }
        g.writeEndObject();
      }
      IThrowableProxy t = event.getThrowableProxy();
      if (t != null) {
        g.writeStringField("throwable", ThrowableProxyUtil.asString(t));
      }
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e); // a StringWriter does not fail
    }
    return out.append(CoreConstants.LINE_SEPARATOR).toString();
  }
}
