package io.miniloadbalancer.edge;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.Map;

/**
 * {@code /healthz} (liveness: the process serves) and {@code /readyz} (readiness: false while
 * starting or draining), on both ports so an ALB and ECS can reach them on the traffic port.
 */
final class HealthEndpoints {

    private HealthEndpoints() {}

    static void answer(ChannelHandlerContext ctx, EdgeProxy edge, String path, boolean keepAlive) {
        HttpResponseStatus status;
        Map<String, Object> body;
        if (path.equals("/healthz")) {
            status = HttpResponseStatus.OK;
            body = Map.of("status", "ok");
        } else {
            String state = edge.state();
            status =
                    state.equals("ready")
                            ? HttpResponseStatus.OK
                            : HttpResponseStatus.SERVICE_UNAVAILABLE;
            body = Map.of("status", state);
        }
        HttpReplies.json(ctx, status, body, keepAlive && !edge.draining(), h -> {});
    }
}
