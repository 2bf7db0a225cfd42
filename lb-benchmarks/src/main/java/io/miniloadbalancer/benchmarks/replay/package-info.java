/**
 * The traffic replay tool: which strategy to run, and what happens to traffic when a backend fails,
 * measured on real sockets.
 *
 * <p>{@link io.miniloadbalancer.benchmarks.replay.ReplayCommand} reads scenario files ({@link
 * io.miniloadbalancer.benchmarks.replay.ScenarioLoader}), runs each one once per strategy with
 * {@link io.miniloadbalancer.benchmarks.replay.ReplayRunner} (loopback HTTP backends whose faults
 * follow a timeline, open-loop traffic through an OkHttp client with lb-okhttp's interceptor), and
 * writes CSVs, a summary and charts with {@link
 * io.miniloadbalancer.benchmarks.replay.ReportWriter}.
 */
@NullMarked
package io.miniloadbalancer.benchmarks.replay;

import org.jspecify.annotations.NullMarked;
