package io.miniloadbalancer.edge.admin;

import io.miniloadbalancer.core.LoadBalancer;
import org.jspecify.annotations.Nullable;

/**
 * A pool as the admin plane sees it: its balancer (snapshots to show; drain, maintenance and
 * strategy commands to run) and where its hash key comes from (for "why this endpoint").
 */
record ManagedPool(String name, LoadBalancer balancer, @Nullable String hashKey) {}
