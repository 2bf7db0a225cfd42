package io.miniloadbalancer.edge;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.miniloadbalancer.core.BalancerSnapshot;
import io.miniloadbalancer.core.EndpointSnapshot;
import io.miniloadbalancer.core.Lease;
import io.miniloadbalancer.core.NoEndpointAvailableException;
import io.miniloadbalancer.core.RequestContext;
import io.miniloadbalancer.core.Strategies;
import io.miniloadbalancer.core.StrategySwitchRejectedException;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The control plane. Read: {@code GET /admin/pools}, {@code /admin/pools/<pool>} (the snapshot),
 * {@code /admin/pools/<pool>/transitions}, {@code /admin/pools/<pool>/explain} ("why this endpoint"
 * for a sample request), {@code /admin/config} (secrets redacted), {@code /admin/env}. Write:
 * {@code POST /admin/pools/<pool>/strategy?name=<strategy>}, {@code POST
 * /admin/pools/<pool>/endpoints/<id>/drain[?timeout=30s]}, {@code .../undrain}, {@code
 * .../maint?on=true|false[&reason=...]}. The operator dashboard: {@code GET /admin/ui} and its
 * files under {@code /admin/ui/}, {@code /admin/ui/login} (page, and {@code POST} with the token
 * for a session cookie), {@code POST /admin/ui/logout} (revokes the session), {@code GET
 * /admin/ui/session}. Plus {@code /metrics} (Prometheus), {@code /healthz}, {@code /readyz}.
 *
 * <p>Every request first passes {@link AdminAuth}'s {@code Host} allow-list; who may do what is
 * also {@link AdminAuth}'s call. Path segments are percent-decoded one by one (so {@code %2F} in a
 * pool or endpoint id stays inside its segment) and strictly: a bad escape or invalid UTF-8 is a
 * 400. Write routes take only their own query parameters, each at most once (a typo such as {@code
 * ?timout=5m} is a 400, not a silent 30 s drain).
 *
 * <p>Errors are JSON {@code {"status":..,"error":".."}} with a message naming the parameter: 400
 * bad input, 401 missing or wrong token or session, 403 a refused {@code Host} or cross-site
 * change, 404 unknown route, pool, endpoint or file, 405 wrong method (with {@code Allow}), 409 a
 * refused strategy switch, 408 a request not complete within {@code server.requestHeadTimeout}
 * (slowloris; the data path's deadline, then a close), 414/431 a request line or headers over the
 * codec's limits, 429 too many wrong tokens (with {@code Retry-After}), 505 an HTTP version other
 * than 1.0 and 1.1. A 500 (a bug) says only {@code "internal error"} and a request id; the detail
 * is logged under that id.
 *
 * <p>Every state change (any request but GET and HEAD that reaches a route) is logged at INFO with
 * the caller's address, how it authenticated and the answer's status.
 */
final class AdminHandler extends SimpleChannelInboundHandler<FullHttpRequest> {

    private static final Logger LOG = LoggerFactory.getLogger(AdminHandler.class);

    /**
     * A drain without {@code timeout}: 30 s, the upstream response timeout's default, so a request
     * already sent to the endpoint can finish, yet a drain started by mistake does not hold the
     * endpoint for minutes. AWS ALB's deregistration delay defaults to 300 s and Envoy's listener
     * {@code drain_time_s} to 600 s; those drain whole targets or listeners, this one endpoint.
     */
    static final Duration DEFAULT_DRAIN_TIMEOUT = Duration.ofSeconds(30);

    /**
     * The longest drain an operator may ask for: 1 hour, the maximum of AWS ALB's deregistration
     * delay (0-3600 s). An endpoint kept out longer is in maintenance, not draining: use {@code
     * maint}. The bound also keeps the timeout far from overflowing a nanosecond deadline.
     */
    static final Duration MAX_DRAIN_TIMEOUT = Duration.ofHours(1);

    /**
     * A maintenance reason's longest length: 200 characters, a sentence; it is kept in transitions,
     * snapshots and log lines, which a megabyte reason would bloat.
     */
    static final int MAX_REASON_LENGTH = 200;

    /**
     * The admin plane's one duration syntax, the config's short form: digits and {@code ms}, {@code
     * s}, {@code m} or {@code h}. No sign, no fraction, no ISO-8601 ({@code PT-5S} would be a
     * negative duration), at most 9 digits (no overflow before the maximum is checked).
     */
    private static final Pattern DURATION = Pattern.compile("([0-9]{1,9})(ms|s|m|h)");

    private final EdgeProxy edge;
    private final AdminAuth auth;
    private final ClientTimeouts timeouts;

    /** An answer is being computed off this event loop (reads are paused meanwhile). */
    private boolean answering;

    AdminHandler(EdgeProxy edge, ClientTimeouts timeouts) {
        this.edge = edge;
        this.auth = edge.adminAuth();
        this.timeouts = timeouts;
    }

    /** An answer: status, JSON body, and extra headers ({@code Allow}, {@code Retry-After}). */
    private record Answer(HttpResponseStatus status, Object body, Map<String, String> headers) {
        static Answer ok(Object body) {
            return new Answer(HttpResponseStatus.OK, body, Map.of());
        }

        static Answer error(HttpResponseStatus status, String message) {
            return new Answer(status, Map.of("status", status.code(), "error", message), Map.of());
        }

        static Answer methodNotAllowed(String allow) {
            return new Answer(
                    HttpResponseStatus.METHOD_NOT_ALLOWED,
                    Map.of("status", 405, "error", "method not allowed here; use " + allow),
                    Map.of(HttpHeaderNames.ALLOW.toString(), allow));
        }
    }

    /** Bad client input: a 400 with this message. Stackless: clients cause it, no bug to trace. */
    private static final class BadInput extends RuntimeException {
        private static final long serialVersionUID = 1L;

        BadInput(String message) {
            super(message, null, false, false);
        }
    }

    /** A request's target, split and decoded. */
    private record Target(String path, List<String> segments, Map<String, List<String>> params) {}

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
        // The aggregator hands over whole requests, so the head deadline covered head and body (at
        // most 1 MiB); from here the clock waits for the next request's first byte.
        timeouts.exchangeDone();
        boolean keepAlive = HttpUtil.isKeepAlive(req);
        try {
            handle(ctx, req, keepAlive);
        } catch (RuntimeException e) {
            write(ctx, internalError(req.method() + " " + req.uri(), e), keepAlive);
        }
    }

    private void handle(ChannelHandlerContext ctx, FullHttpRequest req, boolean keepAlive) {
        if (req.decoderResult().isFailure()) {
            Throwable c = req.decoderResult().cause();
            HttpResponseStatus status =
                    c instanceof TooLongHttpLineException
                            ? HttpResponseStatus.REQUEST_URI_TOO_LONG
                            : c instanceof TooLongHttpHeaderException
                                    ? HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE
                                    : c instanceof TooLongFrameException
                                            ? HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE
                                            : HttpResponseStatus.BAD_REQUEST;
            write(
                    ctx,
                    Answer.error(
                            status,
                            "malformed request: " + status.reasonPhrase().toLowerCase(Locale.ROOT)),
                    false);
            return;
        }
        if (!req.protocolVersion().equals(HttpVersion.HTTP_1_1)
                && !req.protocolVersion().equals(HttpVersion.HTTP_1_0)) {
            write(
                    ctx,
                    Answer.error(
                            HttpResponseStatus.HTTP_VERSION_NOT_SUPPORTED,
                            "only HTTP/1.0 and HTTP/1.1 are served"),
                    false);
            return;
        }
        AdminAuth.Refusal host =
                auth.hostRefusal(
                        req.protocolVersion(), req.headers(), ctx.channel().localAddress());
        if (host != null) {
            write(ctx, Answer.error(host.status(), host.message()), keepAlive);
            return;
        }
        Target t;
        try {
            t = target(req.uri());
        } catch (BadInput e) {
            write(ctx, Answer.error(HttpResponseStatus.BAD_REQUEST, e.getMessage()), keepAlive);
            return;
        }
        String path = t.path();
        if (path.equals("/healthz") || path.equals("/readyz")) {
            if (!isRead(req.method())) {
                write(ctx, Answer.methodNotAllowed("GET, HEAD"), keepAlive);
                return;
            }
            HealthEndpoints.answer(ctx, edge, path, keepAlive);
            return;
        }
        if (path.equals("/metrics")) {
            if (!isRead(req.method())) {
                write(ctx, Answer.methodNotAllowed("GET, HEAD"), keepAlive);
                return;
            }
            PrometheusMeterRegistry registry = edge.registry();
            byte[] text = registry.scrape().getBytes(StandardCharsets.UTF_8);
            HttpReplies.send(
                    ctx,
                    HttpResponseStatus.OK,
                    "text/plain; version=0.0.4; charset=utf-8",
                    text,
                    keepAlive,
                    h -> {});
            return;
        }
        if (t.segments().isEmpty() || !t.segments().get(0).equals("admin")) {
            write(
                    ctx,
                    Answer.error(HttpResponseStatus.NOT_FOUND, "no route " + AdminAuth.quote(path)),
                    keepAlive);
            return;
        }
        InetAddress client = client(ctx);
        AdminAuth.Via via = auth.check(req.headers(), client);
        if (via == AdminAuth.Via.THROTTLED) {
            write(ctx, throttled(client), keepAlive);
            return;
        }
        String forgery =
                auth.forgeryRefusal(req.method(), req.headers(), via, ctx.channel().localAddress());
        if (forgery != null) {
            write(ctx, Answer.error(HttpResponseStatus.FORBIDDEN, forgery), keepAlive);
            return;
        }
        if (t.segments().size() >= 2 && t.segments().get(1).equals("ui")) {
            dashboard(ctx, req, t, via, client, keepAlive);
            return;
        }
        if (via == AdminAuth.Via.NONE) {
            write(
                    ctx,
                    Answer.error(
                            HttpResponseStatus.UNAUTHORIZED,
                            "missing or wrong bearer token or session"),
                    keepAlive);
            return;
        }
        HttpMethod method = req.method();
        String what = method + " " + AdminAuth.quote(req.uri());
        CompletableFuture<Answer> answer;
        try {
            answer = route(method, t);
        } catch (BadInput e) {
            answer = done(Answer.error(HttpResponseStatus.BAD_REQUEST, e.getMessage()));
        } catch (RuntimeException e) {
            answer = done(internalError(what, e));
        }
        // Balancer actions complete on the balancer's control context: never wait for them on this
        // event loop. Reads pause meanwhile, so answers keep the order of requests.
        ctx.channel().config().setAutoRead(false);
        answering = true;
        answer.whenComplete(
                (a, e) ->
                        ctx.executor()
                                .execute(
                                        () -> {
                                            Answer out = a != null ? a : failure(what, e);
                                            if (!isRead(method)) {
                                                LOG.info(
                                                        "admin change {} from {} via {}: {}",
                                                        what,
                                                        client.getHostAddress(),
                                                        via.name().toLowerCase(Locale.ROOT),
                                                        out.status().code());
                                            }
                                            answering = false;
                                            write(ctx, out, keepAlive);
                                            ctx.channel().config().setAutoRead(true);
                                        }));
    }

    private Answer throttled(InetAddress client) {
        long seconds = Math.max(1, auth.lockedFor(client));
        return new Answer(
                HttpResponseStatus.TOO_MANY_REQUESTS,
                Map.of(
                        "status",
                        429,
                        "error",
                        "too many wrong tokens from this address; retry in " + seconds + " s"),
                Map.of(HttpHeaderNames.RETRY_AFTER.toString(), Long.toString(seconds)));
    }

    private static Answer failure(String what, Throwable e) {
        Throwable c = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
        if (c instanceof StrategySwitchRejectedException) {
            return Answer.error(HttpResponseStatus.CONFLICT, c.getMessage());
        }
        if (c instanceof IllegalArgumentException) {
            // The balancer's own input errors (an endpoint that left between the check and the
            // action).
            return Answer.error(HttpResponseStatus.BAD_REQUEST, c.getMessage());
        }
        return internalError(what, c);
    }

    /** A bug: the client gets a request id, the log gets the detail under it. */
    private static Answer internalError(String what, Throwable e) {
        String id = Long.toHexString(ThreadLocalRandom.current().nextLong() | Long.MIN_VALUE);
        LOG.error("admin request {} failed (request id {})", what, id, e);
        return new Answer(
                HttpResponseStatus.INTERNAL_SERVER_ERROR,
                Map.of("status", 500, "error", "internal error", "requestId", id),
                Map.of());
    }

    /**
     * The dashboard's routes. Pages other than the login page's files need a session (or the token,
     * or the open mode); a browser without one is sent to the login page rather than shown a bare
     * 401.
     */
    private void dashboard(
            ChannelHandlerContext ctx,
            FullHttpRequest req,
            Target t,
            AdminAuth.Via via,
            InetAddress client,
            boolean keepAlive) {
        List<String> s = t.segments();
        if (s.size() > 3) {
            write(
                    ctx,
                    Answer.error(
                            HttpResponseStatus.NOT_FOUND,
                            "no dashboard file " + AdminAuth.quote(t.path())),
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
                if (!isRead(method)) {
                    write(ctx, Answer.methodNotAllowed("GET, HEAD, POST"), keepAlive);
                    return;
                }
                name = "login.html";
            }
            case "logout" -> {
                if (!method.equals(HttpMethod.POST)) {
                    write(ctx, Answer.methodNotAllowed("POST"), keepAlive);
                    return;
                }
                int revoked = auth.revoke(req.headers());
                LOG.info(
                        "admin logout from {} ({} session(s) revoked)",
                        client.getHostAddress(),
                        revoked);
                HttpReplies.json(
                        ctx,
                        HttpResponseStatus.OK,
                        Map.of("loggedOut", true),
                        keepAlive,
                        h -> {
                            securityHeaders(h);
                            h.set(HttpHeaderNames.SET_COOKIE, AdminAuth.expiredSessionCookie());
                        });
                return;
            }
            case "session" -> {
                if (via == AdminAuth.Via.NONE) {
                    write(
                            ctx,
                            Answer.error(
                                    HttpResponseStatus.UNAUTHORIZED,
                                    "missing or wrong bearer token or session"),
                            keepAlive);
                } else if (!isRead(method)) {
                    write(ctx, Answer.methodNotAllowed("GET, HEAD"), keepAlive);
                } else {
                    Map<String, Object> body = new LinkedHashMap<>();
                    body.put("authRequired", auth.required());
                    body.put("via", via.name().toLowerCase(Locale.ROOT));
                    write(ctx, Answer.ok(body), keepAlive);
                }
                return;
            }
            default -> {
                // A file name from the allow-list below, or 404.
            }
        }
        DashboardAssets.Asset asset = DashboardAssets.get(name);
        if (asset == null) {
            write(
                    ctx,
                    Answer.error(
                            HttpResponseStatus.NOT_FOUND,
                            "no dashboard file "
                                    + AdminAuth.quote(name)
                                    + "; files: "
                                    + DashboardAssets.names()),
                    keepAlive);
            return;
        }
        if (!isRead(method)) {
            write(ctx, Answer.methodNotAllowed("GET, HEAD"), keepAlive);
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
                        securityHeaders(h);
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
                    securityHeaders(h);
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
        if (!auth.required()) {
            write(
                    ctx,
                    Answer.ok(
                            Map.of(
                                    "session",
                                    false,
                                    "message",
                                    "no token needed: the admin plane is on loopback without a"
                                            + " token")),
                    keepAlive);
            return;
        }
        Map<String, List<String>> form;
        try {
            form =
                    new QueryStringDecoder(
                                    utf8(req.content().nioBuffer(), "the form body"),
                                    StandardCharsets.UTF_8,
                                    false)
                            .parameters();
        } catch (BadInput e) {
            write(ctx, Answer.error(HttpResponseStatus.BAD_REQUEST, e.getMessage()), keepAlive);
            return;
        } catch (IllegalArgumentException e) {
            write(
                    ctx,
                    Answer.error(
                            HttpResponseStatus.BAD_REQUEST,
                            "the form body has a bad percent-escape"),
                    keepAlive);
            return;
        }
        List<String> tokens = form.getOrDefault("token", List.of());
        if (tokens.size() != 1 || tokens.get(0).isEmpty()) {
            write(
                    ctx,
                    Answer.error(
                            HttpResponseStatus.BAD_REQUEST, "form field 'token' is required, once"),
                    keepAlive);
            return;
        }
        switch (auth.login(tokens.get(0), client)) {
            case THROTTLED -> write(ctx, throttled(client), keepAlive);
            case NONE ->
                    write(
                            ctx,
                            Answer.error(HttpResponseStatus.UNAUTHORIZED, "wrong token"),
                            keepAlive);
            default -> {
                Map<String, Object> body =
                        Map.of("session", true, "lifetime", AdminAuth.SESSION_LIFETIME.toString());
                HttpReplies.json(
                        ctx,
                        HttpResponseStatus.OK,
                        body,
                        keepAlive,
                        h -> {
                            securityHeaders(h);
                            h.set(HttpHeaderNames.SET_COOKIE, auth.newSessionCookie());
                        });
            }
        }
    }

    /**
     * Headers on every admin-plane answer: no sniffing, no framing, no inline code, no referrer.
     */
    private static void securityHeaders(HttpHeaders h) {
        h.set("X-Content-Type-Options", "nosniff");
        h.set(HttpHeaderNames.CONTENT_SECURITY_POLICY, DashboardAssets.CONTENT_SECURITY_POLICY);
        h.set(HttpHeaderNames.X_FRAME_OPTIONS, "DENY");
        h.set("Referrer-Policy", "no-referrer");
    }

    private static boolean isRead(HttpMethod method) {
        return method.equals(HttpMethod.GET) || method.equals(HttpMethod.HEAD);
    }

    private static InetAddress client(ChannelHandlerContext ctx) {
        return ctx.channel().remoteAddress() instanceof InetSocketAddress a
                        && a.getAddress() != null
                ? a.getAddress()
                : InetAddress.getLoopbackAddress();
    }

    // ---- the request target
    // ------------------------------------------------------------------------

    /**
     * The path split at '/' before decoding (an encoded '/' stays in its segment), each segment and
     * the query decoded as strict UTF-8.
     *
     * @throws BadInput naming the part that is malformed
     */
    static Target target(String uri) {
        int q = uri.indexOf('?');
        String rawPath = q < 0 ? uri : uri.substring(0, q);
        if (!rawPath.startsWith("/")) {
            throw new BadInput("the request target must be a path starting with '/'");
        }
        List<String> segments = new ArrayList<>();
        StringBuilder path = new StringBuilder();
        for (String raw : rawPath.substring(1).split("/")) {
            String s = decodeSegment(raw);
            segments.add(s);
            path.append('/').append(s);
        }
        if (segments.size() == 1 && segments.get(0).isEmpty()) {
            segments.clear();
        }
        Map<String, List<String>> params = Map.of();
        if (q >= 0) {
            String query = uri.substring(q + 1);
            try {
                params = new QueryStringDecoder(query, StandardCharsets.UTF_8, false).parameters();
            } catch (IllegalArgumentException e) {
                throw new BadInput("the query string has a bad percent-escape");
            }
            for (Map.Entry<String, List<String>> p : params.entrySet()) {
                for (String v : p.getValue()) {
                    if (v.indexOf('\uFFFD') >= 0 || hasControl(v) || hasControl(p.getKey())) {
                        throw new BadInput(
                                "query parameter "
                                        + AdminAuth.quote(p.getKey())
                                        + " has a control character or invalid UTF-8");
                    }
                }
            }
        }
        return new Target(
                path.length() == 0 ? "/" : path.toString(), List.copyOf(segments), params);
    }

    private static String decodeSegment(String raw) {
        if (raw.indexOf('%') < 0) {
            if (hasControl(raw)) {
                throw new BadInput("the path has a control character");
            }
            return raw;
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(raw.length());
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            if (c == '%') {
                int hi = i + 2 < raw.length() ? Character.digit(raw.charAt(i + 1), 16) : -1;
                int lo = hi >= 0 ? Character.digit(raw.charAt(i + 2), 16) : -1;
                if (lo < 0) {
                    throw new BadInput(
                            "the path has a bad percent-escape at "
                                    + AdminAuth.quote(
                                            raw.substring(i, Math.min(raw.length(), i + 3))));
                }
                bytes.write(hi << 4 | lo);
                i += 2;
            } else if (c > 0x7f) {
                throw new BadInput("the path has a raw non-ASCII character; percent-encode it");
            } else {
                bytes.write(c);
            }
        }
        String s = utf8(ByteBuffer.wrap(bytes.toByteArray()), "the path");
        if (hasControl(s)) {
            throw new BadInput("the path has an encoded control character");
        }
        return s;
    }

    private static String utf8(ByteBuffer bytes, String what) {
        try {
            return StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(bytes)
                    .toString();
        } catch (CharacterCodingException e) {
            throw new BadInput(what + " is not valid UTF-8");
        }
    }

    private static boolean hasControl(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (Character.isISOControl(s.charAt(i))) {
                return true;
            }
        }
        return false;
    }

    // ---- routes
    // ------------------------------------------------------------------------------------

    private CompletableFuture<Answer> route(HttpMethod method, Target t) {
        List<String> parts = t.segments();
        // parts.get(0) == "admin"
        if (parts.size() == 2 && parts.get(1).equals("pools")) {
            return read(method, this::poolsSummary);
        }
        if (parts.size() == 2 && parts.get(1).equals("config")) {
            return read(method, () -> edge.config().redacted());
        }
        if (parts.size() == 2 && parts.get(1).equals("env")) {
            return read(method, edge::environmentView);
        }
        if (parts.size() >= 3 && parts.size() <= 6 && parts.get(1).equals("pools")) {
            PoolRuntime pool = edge.pools().get(parts.get(2));
            if (pool == null) {
                return done(
                        Answer.error(
                                HttpResponseStatus.NOT_FOUND,
                                "no pool "
                                        + AdminAuth.quote(parts.get(2))
                                        + "; pools: "
                                        + edge.pools().keySet()));
            }
            if (parts.size() == 3) {
                return read(method, () -> poolView(pool));
            }
            if (parts.size() == 4 && parts.get(3).equals("transitions")) {
                return read(method, () -> pool.balancer().snapshot().recentTransitions());
            }
            if (parts.size() == 4 && parts.get(3).equals("explain")) {
                return read(method, () -> explain(pool, t.params()));
            }
            if (parts.size() == 4 && parts.get(3).equals("strategy")) {
                if (!method.equals(HttpMethod.POST)) {
                    return done(Answer.methodNotAllowed("POST"));
                }
                Map<String, String> p = only(t.params(), "strategy", Set.of("name"));
                String name = p.get("name");
                if (name == null || name.isEmpty()) {
                    throw new BadInput(
                            "query parameter 'name' (the strategy) is required; known: "
                                    + Strategies.names());
                }
                if (!Strategies.names().contains(name)) {
                    throw new BadInput(
                            "query parameter 'name': unknown strategy "
                                    + AdminAuth.quote(name)
                                    + "; known: "
                                    + Strategies.names());
                }
                return pool.balancer()
                        .switchStrategy(name, "admin")
                        .thenApply(
                                after -> {
                                    // lastSwitch is null on a pool never switched (a no-op switch
                                    // to its strategy).
                                    Map<String, Object> body = new LinkedHashMap<>();
                                    body.put("pool", pool.name());
                                    body.put("strategy", after.strategy());
                                    body.put("lastSwitch", after.lastSwitch());
                                    return Answer.ok(body);
                                });
            }
            if (parts.size() == 6 && parts.get(3).equals("endpoints")) {
                return endpointAction(method, pool, parts.get(4), parts.get(5), t.params());
            }
        }
        return done(
                Answer.error(
                        HttpResponseStatus.NOT_FOUND, "no route " + AdminAuth.quote(t.path())));
    }

    private CompletableFuture<Answer> endpointAction(
            HttpMethod method,
            PoolRuntime pool,
            String id,
            String action,
            Map<String, List<String>> params) {
        if (!List.of("drain", "undrain", "maint").contains(action)) {
            return done(
                    Answer.error(
                            HttpResponseStatus.NOT_FOUND,
                            "no action "
                                    + AdminAuth.quote(action)
                                    + "; actions: drain, undrain, maint"));
        }
        if (!method.equals(HttpMethod.POST)) {
            return done(Answer.methodNotAllowed("POST"));
        }
        if (pool.balancer().snapshot().endpoint(id).isEmpty()) {
            return done(
                    Answer.error(
                            HttpResponseStatus.NOT_FOUND,
                            "no endpoint "
                                    + AdminAuth.quote(id)
                                    + " in pool '"
                                    + pool.name()
                                    + "'"));
        }
        switch (action) {
            case "drain" -> {
                String raw = only(params, "drain", Set.of("timeout")).get("timeout");
                Duration timeout =
                        raw == null
                                ? DEFAULT_DRAIN_TIMEOUT
                                : duration(raw, "timeout", MAX_DRAIN_TIMEOUT);
                boolean done = pool.balancer().drain(id, timeout).isDone();
                // Answer at once: the drain proceeds; its result is in the snapshot and
                // transitions.
                return done(
                        new Answer(
                                HttpResponseStatus.ACCEPTED,
                                Map.of(
                                        "pool",
                                        pool.name(),
                                        "endpoint",
                                        id,
                                        "draining",
                                        true,
                                        "timeout",
                                        timeout.toString(),
                                        "done",
                                        done),
                                Map.of()));
            }
            case "undrain" -> {
                only(params, "undrain", Set.of());
                return pool.balancer()
                        .undrain(id)
                        .thenApply(
                                v ->
                                        Answer.ok(
                                                Map.of(
                                                        "pool",
                                                        pool.name(),
                                                        "endpoint",
                                                        id,
                                                        "draining",
                                                        false)));
            }
            default -> {
                Map<String, String> p = only(params, "maint", Set.of("on", "reason"));
                String on = p.get("on");
                if (on == null || !(on.equals("true") || on.equals("false"))) {
                    throw new BadInput("query parameter 'on' must be true or false");
                }
                String reason = p.get("reason");
                if (reason != null && (reason.isBlank() || reason.length() > MAX_REASON_LENGTH)) {
                    throw new BadInput(
                            "query parameter 'reason' must be 1.."
                                    + MAX_REASON_LENGTH
                                    + " characters");
                }
                boolean value = on.equals("true");
                return pool.balancer()
                        .maintenance(id, value, reason == null ? "admin" : reason)
                        .thenApply(
                                v ->
                                        Answer.ok(
                                                Map.of(
                                                        "pool",
                                                        pool.name(),
                                                        "endpoint",
                                                        id,
                                                        "maintenance",
                                                        value)));
            }
        }
    }

    /**
     * The parameters of a write route: only {@code known} names, each at most once.
     *
     * @throws BadInput naming an unknown or repeated parameter
     */
    private static Map<String, String> only(
            Map<String, List<String>> params, String action, Set<String> known) {
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, List<String>> p : params.entrySet()) {
            if (!known.contains(p.getKey())) {
                throw new BadInput(
                        "unknown query parameter "
                                + AdminAuth.quote(p.getKey())
                                + " for "
                                + action
                                + "; known: "
                                + (known.isEmpty() ? "none" : known.stream().sorted().toList()));
            }
            if (p.getValue().size() > 1) {
                throw new BadInput(
                        "query parameter '"
                                + p.getKey()
                                + "' is given "
                                + p.getValue().size()
                                + " times");
            }
            out.put(p.getKey(), p.getValue().get(0));
        }
        return out;
    }

    /**
     * A duration parameter in the admin plane's one syntax, at most {@code max}.
     *
     * @throws BadInput naming {@code name} when malformed or above {@code max}
     */
    static Duration duration(String raw, String name, Duration max) {
        Matcher m = DURATION.matcher(raw);
        if (!m.matches()) {
            throw new BadInput(
                    "query parameter '"
                            + name
                            + "': "
                            + AdminAuth.quote(raw)
                            + " is not a duration like 500ms, 30s, 5m or 1h (digits and a unit, no"
                            + " sign)");
        }
        long n = Long.parseLong(m.group(1));
        Duration d =
                switch (m.group(2)) {
                    case "ms" -> Duration.ofMillis(n);
                    case "s" -> Duration.ofSeconds(n);
                    case "m" -> Duration.ofMinutes(n);
                    default -> Duration.ofHours(n);
                };
        if (d.compareTo(max) > 0) {
            throw new BadInput(
                    "query parameter '"
                            + name
                            + "': "
                            + raw
                            + " is above the maximum "
                            + max.toMinutes()
                            + "m");
        }
        return d;
    }

    private static CompletableFuture<Answer> done(Answer a) {
        return CompletableFuture.completedFuture(a);
    }

    private static CompletableFuture<Answer> read(HttpMethod method, Supplier<Object> body) {
        if (!isRead(method)) {
            return done(Answer.methodNotAllowed("GET, HEAD"));
        }
        return done(Answer.ok(body.get()));
    }

    /**
     * The pool's snapshot, plus what the dashboard needs that a snapshot does not hold: each
     * endpoint's recent error rate and the strategies a switch may choose.
     */
    private Object poolView(PoolRuntime pool) {
        BalancerSnapshot s = pool.balancer().snapshot();
        ObjectNode view = Json.MAPPER.valueToTree(s);
        view.putPOJO("recentErrorRates", edge.errorRates().observe(s, s.tickerNanos()));
        view.putPOJO("strategies", Strategies.names());
        return view;
    }

    private List<Map<String, Object>> poolsSummary() {
        List<Map<String, Object>> out = new ArrayList<>();
        for (PoolRuntime p : edge.pools().values()) {
            BalancerSnapshot s = p.balancer().snapshot();
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", p.name());
            m.put("strategy", s.strategy());
            m.put("endpoints", s.endpoints().size());
            m.put("routable", s.routableCount());
            m.put("inFlight", s.totalInFlight());
            m.put("panic", s.panic());
            m.put("source", s.source());
            out.add(m);
        }
        return out;
    }

    /**
     * Why this endpoint: the pool's strategy, the key a request with these headers would hash,
     * which endpoints are candidates (with effective weights) and which are skipped and why, and a
     * real pick, released at once as cancelled (it counts in the cancelled metrics).
     */
    private Map<String, Object> explain(PoolRuntime pool, Map<String, List<String>> params) {
        BalancerSnapshot s = pool.balancer().snapshot();
        String key = null;
        if (pool.hashKey() != null) {
            if (pool.hashKey().startsWith("header:")) {
                key = param(params, "header." + pool.hashKey().substring(7));
            } else if (pool.hashKey().startsWith("cookie:")) {
                key = param(params, "cookie." + pool.hashKey().substring(7));
            } else {
                key = param(params, "client");
            }
        }
        List<Map<String, Object>> candidates = new ArrayList<>();
        List<Map<String, Object>> skipped = new ArrayList<>();
        for (EndpointSnapshot e : s.endpoints()) {
            if (e.routable()) {
                candidates.add(
                        Map.of(
                                "id",
                                e.id(),
                                "effectiveWeight",
                                e.effectiveWeight(),
                                "inFlight",
                                e.inFlight()));
            } else {
                skipped.add(
                        Map.of(
                                "id",
                                e.id(),
                                "state",
                                e.state(),
                                "why",
                                e.lastTransition() == null ? "" : e.lastTransition().reason()));
            }
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("pool", pool.name());
        out.put("strategy", s.strategy());
        out.put("hashKeyFrom", pool.hashKey() == null ? "none (random)" : pool.hashKey());
        out.put("key", key);
        out.put("panic", s.panic());
        out.put("zoneMode", s.zoneMode());
        out.put("candidates", candidates);
        out.put("skipped", skipped);
        try (Lease lease =
                pool.balancer()
                        .acquire(key == null ? RequestContext.none() : RequestContext.ofKey(key))) {
            out.put("chosen", lease.endpoint().id());
        } catch (NoEndpointAvailableException e) {
            out.put("chosen", null);
            out.put("why", e.getMessage());
        }
        return out;
    }

    private static @Nullable String param(Map<String, List<String>> params, String name) {
        List<String> v = params.get(name);
        return v == null || v.isEmpty() ? null : v.get(0);
    }

    /** Writes {@code a}; a body that cannot be rendered (a bug) becomes the generic 500. */
    private static void write(ChannelHandlerContext ctx, Answer a, boolean keepAlive) {
        Answer out = a;
        byte[] body;
        try {
            body = Json.write(a.body()).getBytes(StandardCharsets.UTF_8);
        } catch (RuntimeException e) {
            out = internalError("rendering a " + a.status().code() + " answer", e);
            body = Json.write(out.body()).getBytes(StandardCharsets.UTF_8);
        }
        Answer sent = out;
        HttpReplies.send(
                ctx,
                sent.status(),
                "application/json",
                body,
                keepAlive,
                h -> {
                    securityHeaders(h);
                    sent.headers().forEach(h::set);
                    if (sent.status() == HttpResponseStatus.UNAUTHORIZED) {
                        h.set(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer realm=\"edge-admin\"");
                    }
                });
    }

    /**
     * A request not complete within {@code server.requestHeadTimeout} (or a body idle past {@code
     * server.bodyIdleTimeout}): 408 and close, as on the data path; just a close when an answer to
     * an earlier pipelined request is still being computed (a 408 would overtake it).
     */
    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ClientTimeouts.Expired) {
            LOG.debug(
                    "admin connection {}: request not complete in time ({})",
                    ctx.channel().remoteAddress(),
                    evt);
            if (answering) {
                ctx.close();
            } else {
                write(
                        ctx,
                        Answer.error(
                                HttpResponseStatus.REQUEST_TIMEOUT,
                                "request not complete within server.requestHeadTimeout"),
                        false);
            }
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // I/O errors (a reset peer) end the connection; handler errors are answered in
        // channelRead0.
        LOG.debug(
                "admin connection {} closed: {}", ctx.channel().remoteAddress(), cause.toString());
        ctx.close();
    }
}
