package io.outreach.loadtest;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * A lean HTTP/1.1 load generator for one server: {@code connections} keep-alive connections on
 * blocking sockets, each with one request outstanding (no pipelining), all fed from one queue. Each
 * request is timed from the moment it was due, so time spent waiting for a free connection counts
 * as latency (no coordinated omission).
 *
 * <p>Why not the JDK's {@code HttpClient}: on this 2-core machine it took 0.6 to 0.9 of a core at
 * 500 req/s (measured from {@code /proc}), CPU the engine and PostgreSQL under test then lacked; it
 * also opens a new connection whenever all are busy, so an overload turned into thousands of
 * connections. This one took 0.16 of a core at 500 req/s (with 256 connections open) and never
 * opens more than it was given.
 */
final class LoadClient implements AutoCloseable {
  /**
   * What happened to one request: nanoseconds from its due time to its answer, and the status (-1:
   * I/O error).
   */
  interface Done {
    void answered(long nanosSinceDue, int status);
  }

  private record Job(byte[] request, long dueNanos, Done done) {}

  private final InetSocketAddress address;
  private final BlockingQueue<Job> jobs = new LinkedBlockingQueue<>();
  private final List<Thread> workers = new ArrayList<>();
  private volatile boolean open = true;

  LoadClient(String host, int port, int connections) {
    this.address = new InetSocketAddress(host, port);
    for (int i = 0; i < connections; i++) {
      Thread t = new Thread(this::work, "load-" + port + "-" + i);
      t.setDaemon(true);
      t.start();
      workers.add(t);
    }
  }

  /** Sends {@code request} (a whole HTTP/1.1 request) on the next free connection. */
  void submit(byte[] request, long dueNanos, Done done) {
    jobs.add(new Job(request, dueNanos, done));
  }

  /** A POST of {@code body} to {@code path} with the given extra header lines ("Name: value"). */
  static byte[] post(
      InetSocketAddress to, String path, String contentType, byte[] body, String... headers) {
    StringBuilder head =
        new StringBuilder(256)
            .append("POST ")
            .append(path)
            .append(" HTTP/1.1\r\n")
            .append("Host: ")
            .append(to.getHostString())
            .append(':')
            .append(to.getPort())
            .append("\r\n")
            .append("Content-Type: ")
            .append(contentType)
            .append("\r\n")
            .append("Content-Length: ")
            .append(body.length)
            .append("\r\n");
    for (String h : headers) {
      head.append(h).append("\r\n");
    }
    head.append("\r\n");
    byte[] h = head.toString().getBytes(StandardCharsets.US_ASCII);
    byte[] out = new byte[h.length + body.length];
    System.arraycopy(h, 0, out, 0, h.length);
    System.arraycopy(body, 0, out, h.length, body.length);
    return out;
  }

  InetSocketAddress address() {
    return address;
  }

  private void work() {
    Connection c = null;
    while (open) {
      Job job;
      try {
        job = jobs.take();
      } catch (InterruptedException e) {
        break;
      }
      int status = -1;
      // A kept-alive connection the server closed while idle fails before any answer: as other
      // clients do, the request goes again once on a new connection (webhooks are deduplicated).
      for (int attempt = 0; attempt < 2 && status < 0; attempt++) {
        boolean reused = c != null;
        try {
          if (c == null) {
            c = new Connection(address);
          }
          status = c.exchange(job.request());
          if (!c.keepAlive) {
            c.close();
            c = null;
          }
        } catch (IOException e) {
          boolean unanswered = c != null && !c.answering;
          if (c != null) {
            c.close();
            c = null;
          }
          if (!(reused && unanswered)) {
            break;
          }
        }
      }
      job.done().answered(System.nanoTime() - job.dueNanos(), status);
    }
    if (c != null) {
      c.close();
    }
  }

  @Override
  public void close() {
    open = false;
    workers.forEach(Thread::interrupt);
    for (Thread t : workers) {
      try {
        t.join(1_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  /**
   * One keep-alive connection: writes a request, reads the status, headers and body of its answer.
   */
  private static final class Connection {
    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;
    boolean keepAlive = true;

    /** The current exchange has had a byte of its answer. */
    boolean answering;

    Connection(InetSocketAddress address) throws IOException {
      socket = new Socket();
      socket.setTcpNoDelay(true);
      socket.connect(address, 5_000);
      socket.setSoTimeout(60_000);
      in = new BufferedInputStream(socket.getInputStream(), 16 * 1024);
      out = socket.getOutputStream();
    }

    int exchange(byte[] request) throws IOException {
      answering = false;
      out.write(request);
      out.flush();
      int first = in.read();
      if (first < 0) {
        throw new EOFException("connection closed before an answer");
      }
      answering = true;
      String statusLine = (char) first + line();
      int status = Integer.parseInt(statusLine.substring(9, 12));
      long length = 0;
      boolean chunked = false;
      keepAlive = statusLine.startsWith("HTTP/1.1");
      for (String h = line(); !h.isEmpty(); h = line()) {
        int colon = h.indexOf(':');
        String name = h.substring(0, colon).trim();
        String value = h.substring(colon + 1).trim();
        if (name.equalsIgnoreCase("Content-Length")) {
          length = Long.parseLong(value);
        } else if (name.equalsIgnoreCase("Transfer-Encoding")) {
          chunked = value.equalsIgnoreCase("chunked");
        } else if (name.equalsIgnoreCase("Connection")) {
          keepAlive = !value.equalsIgnoreCase("close");
        }
      }
      if (chunked) {
        for (long size = Long.parseLong(line().split(";")[0].trim(), 16);
            size > 0;
            size = Long.parseLong(line().split(";")[0].trim(), 16)) {
          skip(size);
          line();
        }
        for (String trailer = line(); !trailer.isEmpty(); trailer = line()) {
          // trailers are ignored
        }
      } else {
        skip(length);
      }
      return status;
    }

    private String line() throws IOException {
      StringBuilder b = new StringBuilder(64);
      for (int ch = in.read(); ; ch = in.read()) {
        if (ch < 0) {
          throw new EOFException("connection closed");
        }
        if (ch == '\n') {
          int n = b.length();
          return n > 0 && b.charAt(n - 1) == '\r' ? b.substring(0, n - 1) : b.toString();
        }
        b.append((char) ch);
      }
    }

    private void skip(long n) throws IOException {
      while (n > 0) {
        long skipped = in.skip(n);
        if (skipped <= 0) {
          if (in.read() < 0) {
            throw new EOFException("connection closed in a body");
          }
          skipped = 1;
        }
        n -= skipped;
      }
    }

    void close() {
      try {
        socket.close();
      } catch (IOException e) {
        // closing anyway
      }
    }
  }
}
