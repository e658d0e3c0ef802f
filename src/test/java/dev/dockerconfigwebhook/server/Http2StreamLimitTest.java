package dev.dockerconfigwebhook.server;

import dev.dockerconfigwebhook.observability.ReviewMetrics;
import dev.dockerconfigwebhook.testing.TestTls;
import dev.dockerconfigwebhook.tls.ServingCertificate;
import dev.dockerconfigwebhook.tls.TlsEngine;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * HTTP/2 streams over the advertised {@code MAX_CONCURRENT_STREAMS}, as Go's client (the API server's) sends them with
 * its first requests on a new connection, before or while it acknowledges the server's settings. The webhook refuses
 * them (REFUSED_STREAM, which Go's client retries) and the connection goes on: accepted, they would wait for budget
 * holding the connection's flow-control window. Raw frames, because Java's HTTP/2 clients wait for the settings.
 */
class Http2StreamLimitTest {

    private static final int DATA = 0x0;
    private static final int HEADERS = 0x1;
    private static final int RST_STREAM = 0x3;
    private static final int SETTINGS = 0x4;
    private static final int GOAWAY = 0x7;
    private static final int ACK = 0x1;
    private static final int END_HEADERS = 0x4;
    private static final int REFUSED_STREAM = 0x7;

    private final Vertx vertx = Vertx.vertx();
    private AdmissionServer server;

    @AfterEach
    void stop() {
        if (server != null) server.stop(null);
        vertx.close().toCompletionStage().toCompletableFuture().join();
    }

    /**
     * Before the acknowledgement, Netty would accept every stream; after it, Netty refused the streams over the limit
     * itself without recording them, and the client's next DATA frame on one of them (sent before it saw the refusal)
     * was a connection error: a GOAWAY that failed the admitted reviews too (netty/netty#12065).
     */
    @ParameterizedTest(name = "settings acknowledged first: {0}")
    @ValueSource(booleans = {false, true})
    void streamsOverTheLimitAreRefusedAndTheConnectionLives(boolean acknowledged) throws Exception {
        server = new AdmissionServer(vertx, new ServingCertificate(vertx, "target/certificates/dev.crt",
                "target/certificates/dev.key", Duration.ofHours(1)), new ReviewMetrics(new SimpleMeterRegistry()), false,
                "127.0.0.1", 0, Duration.ofSeconds(1), false, TlsEngine.OPENSSL);
        server.start(null);
        int streams = Limits.MAX_CONCURRENT_STREAMS + 4;
        try (SSLSocket socket = (SSLSocket) TestTls.devTrust().getSocketFactory().createSocket("127.0.0.1", server.port())) {
            SSLParameters parameters = socket.getSSLParameters();
            parameters.setApplicationProtocols(new String[] {"h2"});
            socket.setSSLParameters(parameters);
            socket.startHandshake();
            assertEquals("h2", socket.getApplicationProtocol());
            OutputStream out = socket.getOutputStream();
            DataInputStream in = new DataInputStream(socket.getInputStream());
            out.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            frame(out, SETTINGS, 0, 0, new byte[0]); // ours, empty
            if (acknowledged) {
                socket.setSoTimeout(3_000);
                while (true) { // the server's first SETTINGS (not an acknowledgement of ours)
                    Frame frame = Frame.read(in);
                    if (frame.type == SETTINGS && (frame.flags & ACK) == 0) break;
                }
                frame(out, SETTINGS, ACK, 0, new byte[0]);
            }
            // Each stream declares a body and sends one byte of it: it stays in flight, waiting for the rest.
            for (int i = 0; i < streams; i++) {
                frame(out, HEADERS, END_HEADERS, 1 + 2 * i, headerBlock(Map.of(":method", "POST", ":scheme", "https",
                        ":path", "/mutate", ":authority", "localhost", "content-type", "application/json",
                        "content-length", "100000")));
                frame(out, DATA, 0, 1 + 2 * i, new byte[] {'{'});
            }
            out.flush();

            Map<Integer, Integer> resets = new TreeMap<>(); // stream -> error code
            boolean goAway = false;
            socket.setSoTimeout(3_000);
            try {
                while (!goAway) {
                    Frame frame = Frame.read(in);
                    if (frame.type == RST_STREAM) resets.put(frame.stream, frame.int32());
                    goAway |= frame.type == GOAWAY;
                }
            } catch (SocketTimeoutException quiet) {
                // every frame the server had to send has arrived
            }
            assertFalse(goAway, "the connection was closed with a GOAWAY");
            Map<Integer, Integer> expected = new TreeMap<>();
            for (int i = Limits.MAX_CONCURRENT_STREAMS; i < streams; i++) expected.put(1 + 2 * i, REFUSED_STREAM);
            assertEquals(expected, resets, "the streams over the limit are refused, and only they");
        }
    }

    /** One HTTP/2 frame as read: its type, flags, stream and payload. */
    private record Frame(int type, int flags, int stream, byte[] payload) {
        static Frame read(DataInputStream in) throws IOException {
            int length = (in.readUnsignedShort() << 8) | in.readUnsignedByte();
            int type = in.readUnsignedByte();
            int flags = in.readUnsignedByte();
            int stream = in.readInt() & 0x7fffffff;
            return new Frame(type, flags, stream, in.readNBytes(length));
        }

        int int32() {
            return ((payload[0] & 0xff) << 24) | ((payload[1] & 0xff) << 16) | ((payload[2] & 0xff) << 8) | (payload[3] & 0xff);
        }
    }

    private static void frame(OutputStream out, int type, int flags, int stream, byte[] payload) throws IOException {
        out.write(new byte[] {(byte) (payload.length >>> 16), (byte) (payload.length >>> 8), (byte) payload.length,
                (byte) type, (byte) flags, (byte) (stream >>> 24), (byte) (stream >>> 16), (byte) (stream >>> 8),
                (byte) stream});
        out.write(payload);
    }

    /** HPACK, every field a literal without indexing and without Huffman coding (RFC 7541, 6.2.2). */
    private static byte[] headerBlock(Map<String, String> fields) {
        ByteArrayOutputStream block = new ByteArrayOutputStream();
        fields.entrySet().stream().sorted(Map.Entry.comparingByKey()) // pseudo-headers (':') sort first
                .forEach(field -> {
                    block.write(0x00);
                    for (String part : new String[] {field.getKey(), field.getValue()}) {
                        byte[] bytes = part.getBytes(StandardCharsets.US_ASCII);
                        block.write(bytes.length); // all under 127: one byte, Huffman bit clear
                        block.writeBytes(bytes);
                    }
                });
        return block.toByteArray();
    }
}
