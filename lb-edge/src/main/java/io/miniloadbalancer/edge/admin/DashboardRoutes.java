package io.miniloadbalancer.edge.admin;

import io.miniloadbalancer.edge.http.HttpReplies;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The operator dashboard's routes: {@code GET /admin/ui} and its files under {@code /admin/ui/},
 * {@code /admin/ui/login} (page, and {@code POST} with the token for a session cookie), {@code POST
 * /admin/ui/logout} (revokes the session), {@code GET /admin/ui/session}.
 */
final class DashboardRoutes {

  /** The admin plane's request log: one logger, so operators filter its lines in one place. */
  private static final Logger LOG = LoggerFactory.getLogger(AdminHandler.class);

  private final AdminParts parts;

  DashboardRoutes(AdminParts parts) {
    this.parts = parts;
  }

  /**
   * The dashboard's routes. Pages other than the login page's files need a session (or the token,
   * or the open mode); a browser without one is sent to the login page rather than shown a bare
   * 401.
   */
  void serve(
      ChannelHandlerContext ctx,
      FullHttpRequest req,
      Target t,
      AdminAuth.Via via,
      InetAddress client,
      boolean keepAlive) {
    List<String> s = t.segments();
    if (s.size() > 3) {
      Answer.write(
          ctx,
          Answer.error(
              HttpResponseStatus.NOT_FOUND, "no dashboard file " + AdminAuth.quote(t.path())),
          keepAlive);
      return;
    }
    String name = s.size() == 2 ? "index.html" : s.get(2);
    HttpMethod method = req.method();
    switch (name) {
      case "login" -> {
        if (method.equals(HttpMethod.POST)) {
          login(ctx, req, client, keepAlive);
          return;
        }
        if (!Answer.isRead(method)) {
          Answer.write(ctx, Answer.methodNotAllowed("GET, HEAD, POST"), keepAlive);
          return;
        }
        name = "login.html";
      }
      case "logout" -> {
        if (!method.equals(HttpMethod.POST)) {
          Answer.write(ctx, Answer.methodNotAllowed("POST"), keepAlive);
          return;
        }
        int revoked = parts.auth().revoke(req.headers());
        LOG.info("admin logout from {} ({} session(s) revoked)", client.getHostAddress(), revoked);
        HttpReplies.json(
            ctx,
            HttpResponseStatus.OK,
            Map.of("loggedOut", true),
            keepAlive,
            h -> {
              Answer.securityHeaders(h);
              h.set(HttpHeaderNames.SET_COOKIE, AdminAuth.expiredSessionCookie());
            });
        return;
      }
      case "session" -> {
        if (via == AdminAuth.Via.NONE) {
          Answer.write(ctx, Answer.unauthorized(), keepAlive);
        } else if (!Answer.isRead(method)) {
          Answer.write(ctx, Answer.methodNotAllowed("GET, HEAD"), keepAlive);
        } else {
          Map<String, Object> body = new LinkedHashMap<>();
          body.put("authRequired", parts.auth().required());
          body.put("via", via.name().toLowerCase(Locale.ROOT));
          Answer.write(ctx, Answer.ok(body), keepAlive);
        }
        return;
      }
      default -> {
        // A file name from the allow-list below, or 404.
      }
    }
    DashboardAssets.Asset asset = DashboardAssets.get(name);
    if (asset == null) {
      Answer.write(
          ctx,
          Answer.error(
              HttpResponseStatus.NOT_FOUND,
              "no dashboard file " + AdminAuth.quote(name) + "; files: " + DashboardAssets.names()),
          keepAlive);
      return;
    }
    if (!Answer.isRead(method)) {
      Answer.write(ctx, Answer.methodNotAllowed("GET, HEAD"), keepAlive);
      return;
    }
    if (via == AdminAuth.Via.NONE && !DashboardAssets.PUBLIC.contains(asset.name())) {
      byte[] text = "log in at /admin/ui/login\n".getBytes(StandardCharsets.UTF_8);
      HttpReplies.send(
          ctx,
          HttpResponseStatus.SEE_OTHER,
          "text/plain; charset=utf-8",
          text,
          keepAlive,
          h -> {
            Answer.securityHeaders(h);
            h.set(HttpHeaderNames.LOCATION, "/admin/ui/login");
          });
      return;
    }
    boolean unchanged = asset.etag().equals(req.headers().get(HttpHeaderNames.IF_NONE_MATCH));
    HttpReplies.send(
        ctx,
        unchanged ? HttpResponseStatus.NOT_MODIFIED : HttpResponseStatus.OK,
        asset.contentType(),
        unchanged ? new byte[0] : asset.bytes(),
        keepAlive,
        h -> {
          Answer.securityHeaders(h);
          // Revalidate every load (a new jar may serve new files under the same names);
          // the ETag
          // makes that a bodiless 304.
          h.set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_CACHE);
          h.set(HttpHeaderNames.ETAG, asset.etag());
          if (unchanged) {
            h.remove(HttpHeaderNames.CONTENT_LENGTH);
          }
        });
  }

  /**
   * {@code POST /admin/ui/login} with the form field {@code token}: a session cookie, 401 (a
   * counted failure), or 429 while the caller's address is locked out.
   */
  private void login(
      ChannelHandlerContext ctx, FullHttpRequest req, InetAddress client, boolean keepAlive) {
    if (!parts.auth().required()) {
      Answer.write(
          ctx,
          Answer.ok(
              Map.of(
                  "session",
                  false,
                  "message",
                  "no token needed: the admin plane is on loopback without a" + " token")),
          keepAlive);
      return;
    }
    Map<String, List<String>> form;
    try {
      form =
          new QueryStringDecoder(
                  Target.utf8(req.content().nioBuffer(), "the form body"),
                  StandardCharsets.UTF_8,
                  false)
              .parameters();
    } catch (BadInput e) {
      Answer.write(ctx, Answer.error(HttpResponseStatus.BAD_REQUEST, e.getMessage()), keepAlive);
      return;
    } catch (IllegalArgumentException e) {
      Answer.write(
          ctx,
          Answer.error(HttpResponseStatus.BAD_REQUEST, "the form body has a bad percent-escape"),
          keepAlive);
      return;
    }
    List<String> tokens = form.getOrDefault("token", List.of());
    if (tokens.size() != 1 || tokens.get(0).isEmpty()) {
      Answer.write(
          ctx,
          Answer.error(HttpResponseStatus.BAD_REQUEST, "form field 'token' is required, once"),
          keepAlive);
      return;
    }
    switch (parts.auth().login(tokens.get(0), client)) {
      case THROTTLED -> Answer.write(ctx, Answer.throttled(parts.auth(), client), keepAlive);
      case NONE ->
          Answer.write(
              ctx, Answer.error(HttpResponseStatus.UNAUTHORIZED, "wrong token"), keepAlive);
      default -> {
        Map<String, Object> body =
            Map.of("session", true, "lifetime", AdminAuth.SESSION_LIFETIME.toString());
        HttpReplies.json(
            ctx,
            HttpResponseStatus.OK,
            body,
            keepAlive,
            h -> {
              Answer.securityHeaders(h);
              h.set(HttpHeaderNames.SET_COOKIE, parts.auth().newSessionCookie());
            });
      }
    }
  }
}
