/**
 * The admin room, the control plane: {@link io.miniloadbalancer.edge.admin.AdminPlane} is its door.
 * {@code AdminHandler} checks each request ({@code AdminAuth}: tokens, sessions, guessing; {@code
 * AdminHosts}: the {@code Host} allow-list and cross-site checks; {@code Target}: the decoded
 * target), then hands it to {@code PoolRoutes} (pools view via {@code PoolViews}, drain,
 * maintenance and strategy commands) or {@code DashboardRoutes} (the operator dashboard, its files
 * from {@code DashboardAssets}); every answer is an {@code Answer}.
 */
@NullMarked
package io.miniloadbalancer.edge.admin;

import org.jspecify.annotations.NullMarked;
