package io.miniloadbalancer.edge.proxy;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The network transport both listeners and the upstream connections use ({@code server.transport}).
 *
 * @param name {@code io_uring}, {@code epoll} or {@code nio}, for the log
 * @param ioHandlerFactory the event loops' I/O handler
 * @param serverChannel the listeners' channel type
 * @param socketChannel the upstream connections' channel type
 */
public record Transport(
    String name,
    IoHandlerFactory ioHandlerFactory,
    Class<? extends ServerChannel> serverChannel,
    Class<? extends SocketChannel> socketChannel) {

  private static final Logger LOG = LoggerFactory.getLogger(Transport.class);

  /**
   * The transport {@code server.transport} asks for, where this machine offers it. {@code auto}
   * takes io_uring where the kernel allows it (a container's default seccomp profile often blocks
   * it), else epoll (Linux), else NIO; an explicit choice this machine cannot give falls back the
   * same way, with a warning naming why. The system property {@code edge.transport} stands in for
   * {@code auto} (CI runs the conformance suite once more on epoll with it).
   *
   * @param configured {@code auto}, {@code io_uring}, {@code epoll} or {@code nio}
   * @return the transport
   */
  public static Transport choose(String configured) {
    String asked =
        configured.equals("auto") ? System.getProperty("edge.transport", configured) : configured;
    boolean auto = asked.equals("auto");
    if (auto || asked.equals("io_uring")) {
      if (IoUring.isAvailable()) {
        return new Transport(
            "io_uring",
            IoUringIoHandler.newFactory(),
            IoUringServerSocketChannel.class,
            IoUringSocketChannel.class);
      }
      if (!auto) {
        LOG.warn(
            "server.transport io_uring is not available here ({}); using the next best",
            IoUring.unavailabilityCause().toString());
      }
    }
    if (!asked.equals("nio")) {
      if (Epoll.isAvailable()) {
        return new Transport(
            "epoll",
            EpollIoHandler.newFactory(),
            EpollServerSocketChannel.class,
            EpollSocketChannel.class);
      }
      if (asked.equals("epoll")) {
        LOG.warn(
            "server.transport epoll is not available here ({}); using NIO",
            Epoll.unavailabilityCause().toString());
      }
    }
    return new Transport(
        "nio", NioIoHandler.newFactory(), NioServerSocketChannel.class, NioSocketChannel.class);
  }

  /**
   * A group of event loops of this transport.
   *
   * @param threads how many loops
   * @return the group; its owner shuts it down
   */
  public EventLoopGroup group(int threads) {
    return new MultiThreadIoEventLoopGroup(threads, ioHandlerFactory);
  }
}
