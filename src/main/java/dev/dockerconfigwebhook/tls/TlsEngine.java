package dev.dockerconfigwebhook.tls;

import dev.dockerconfigwebhook.observability.LogText;
import io.netty.handler.ssl.OpenSsl;
import io.vertx.core.net.JdkSSLEngineOptions;
import io.vertx.core.net.OpenSSLEngineOptions;
import io.vertx.core.net.SSLEngineOptions;

/**
 * The TLS implementation of the admission port ({@code webhook.tls.engine}).
 *
 * <p>{@link #OPENSSL}, the default: BoringSSL through Netty's {@code netty-tcnative}, as gRPC-Java serves TLS when it
 * is on the class path. Its record encryption is native code, fast from the first byte, where the JDK's is
 * Java that the JIT compiles under load: during the first burst of 1 MiB secrets after a start the JDK engine's record
 * code kept the event loops and the C2 compiler busy for most of a second on two cores (BENCHMARKS.md). Its handshake
 * (X25519, ECDSA P-256) is native too, so it runs on the event loop. The library ships for Linux x86-64 and ARM64; it
 * is unpacked into {@code java.io.tmpdir} at start.
 *
 * <p>{@link #JDK}: the JDK's own engine, with each handshake's key exchange and signature (1.5-3.5 ms of pure Java in
 * JDK 17) on Vert.x's worker threads, where sixteen new connections at once cannot hold an event loop. The webhook
 * falls back to it, with a warning saying why, when BoringSSL cannot load here (another platform, such as a Mac in
 * {@code quarkus:dev}, or a {@code /tmp} that is missing or does not allow executables).
 */
public enum TlsEngine {
    OPENSSL,
    JDK;

    /** The engine the port uses, its Vert.x options, and why it is not the one configured (null when it is). */
    public record Choice(TlsEngine engine, SSLEngineOptions options, String fallbackReason) {

        /** For the start-up log line: "BoringSSL" (as the library names itself) or "the JDK". */
        public String description() {
            return engine == OPENSSL ? OpenSsl.versionString() : "the JDK";
        }
    }

    /** {@code configured} when it can run in this process, else the JDK's engine with the reason. */
    public static Choice choose(TlsEngine configured) {
        if (configured == OPENSSL) {
            if (OpenSSLEngineOptions.isAvailable() && OpenSSLEngineOptions.isAlpnAvailable()) {
                // No server-side session cache: the API server's webhook client (client-go) keeps no TLS sessions to
                // resume, and a cache would be native memory outside the heap budget, one entry per TLS 1.2 client.
                return new Choice(OPENSSL, new OpenSSLEngineOptions().setSessionCacheEnabled(false), null);
            }
            return new Choice(JDK, jdk(), reason(OpenSsl.unavailabilityCause()));
        }
        return new Choice(JDK, jdk(), null);
    }

    /**
     * Netty's reason, and beneath it the first attempt's root cause, which names the actual problem ("Not a directory",
     * "failed to map segment from shared object" for a noexec /tmp): Netty's own message only lists the names it tried.
     */
    static String reason(Throwable unavailable) {
        if (unavailable == null) return "the native library does not support ALPN";
        Throwable attempt = unavailable.getSuppressed().length > 0 ? unavailable.getSuppressed()[0] : unavailable;
        Throwable root = attempt;
        for (int depth = 0; root.getCause() != null && root.getCause() != root && depth < 10; depth++) {
            root = root.getCause();
        }
        String text = unavailable.getClass().getSimpleName() + ": " + unavailable.getMessage();
        if (root != unavailable) text += "; " + root.getClass().getSimpleName() + ": " + root.getMessage();
        return LogText.safe(text, 400);
    }

    private static SSLEngineOptions jdk() {
        return new JdkSSLEngineOptions().setUseWorkerThread(true);
    }
}
