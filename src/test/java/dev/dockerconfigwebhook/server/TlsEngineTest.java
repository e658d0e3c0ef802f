package dev.dockerconfigwebhook.server;

import dev.dockerconfigwebhook.observability.ReviewMetrics;
import dev.dockerconfigwebhook.testing.TestTls;
import dev.dockerconfigwebhook.tls.ServingCertificate;
import dev.dockerconfigwebhook.tls.TlsEngine;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.net.KeyCertOptions;
import jakarta.enterprise.inject.Vetoed;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.X509ExtendedKeyManager;
import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The admission port's TLS engines ({@link TlsEngine}), each serving the dev certificate the build generates, without
 * Quarkus. BoringSSL must load wherever the build runs (Linux x86-64, the image's platform): a webhook that fell back to
 * the JDK's engine unnoticed would fail this, not only run slower. Both engines ask the key manager for the certificate
 * during handshakes, which is what lets a rotated certificate reach new connections without a restart. With the JDK's
 * engine that choice runs inside the delegated task that also makes the key exchange and the signature (1.5-3.5 ms of
 * pure Java), so the thread that asks is the thread that pays for the handshake: it must never be an event loop, where
 * it would hold up every review on that loop's other connections.
 */
class TlsEngineTest {

    private final Vertx vertx = Vertx.vertx();
    private AdmissionServer server;
    private RecordingCertificate certificate;

    @AfterEach
    void stop() {
        if (server != null) server.stop(null);
        vertx.close().toCompletionStage().toCompletableFuture().join();
    }

    @ParameterizedTest
    @EnumSource(TlsEngine.class)
    void servesTls13WithTheConfiguredEngineAskingTheKeyManager(TlsEngine engine) throws Exception {
        certificate = new RecordingCertificate(vertx);
        server = new AdmissionServer(vertx, certificate, new ReviewMetrics(new SimpleMeterRegistry()), false,
                "127.0.0.1", 0, Duration.ofSeconds(1), false, engine);
        server.start(null);
        assertEquals(engine, server.tlsEngine(), "the engine the port serves with");
        for (int i = 0; i < 8; i++) {
            try (SSLSocket socket = (SSLSocket) TestTls.devTrust().getSocketFactory()
                    .createSocket("127.0.0.1", server.port())) {
                socket.startHandshake();
                assertEquals("TLSv1.3", socket.getSession().getProtocol());
            }
        }
        Set<String> threads = certificate.handshakeThreads;
        assertFalse(threads.isEmpty(), "the key manager was asked for a certificate");
        if (engine == TlsEngine.JDK) {
            assertTrue(threads.stream().noneMatch(thread -> thread.startsWith("vert.x-eventloop")),
                    "handshakes ran on: " + threads);
        }
    }

    /**
     * The dev certificate, served through a key manager that notes which threads choose it. Vetoed: it inherits
     * {@code @ApplicationScoped}, and the Quarkus tests would otherwise find two ServingCertificate beans.
     */
    @Vetoed
    private static final class RecordingCertificate extends ServingCertificate {
        final Set<String> handshakeThreads = ConcurrentHashMap.newKeySet();
        private final Vertx vertx;

        RecordingCertificate(Vertx vertx) {
            super(vertx, "target/certificates/dev.crt", "target/certificates/dev.key", Duration.ofHours(1));
            this.vertx = vertx;
        }

        @Override
        public KeyCertOptions keyCertOptions() {
            X509ExtendedKeyManager served;
            try {
                served = (X509ExtendedKeyManager) super.keyCertOptions().getKeyManagerFactory(vertx).getKeyManagers()[0];
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
            return KeyCertOptions.wrap(new X509ExtendedKeyManager() {
                @Override
                public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
                    handshakeThreads.add(Thread.currentThread().getName());
                    return served.chooseEngineServerAlias(keyType, issuers, engine);
                }

                @Override
                public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
                    return served.chooseServerAlias(keyType, issuers, socket);
                }

                @Override
                public String[] getServerAliases(String keyType, Principal[] issuers) {
                    return served.getServerAliases(keyType, issuers);
                }

                @Override
                public X509Certificate[] getCertificateChain(String alias) {
                    return served.getCertificateChain(alias);
                }

                @Override
                public PrivateKey getPrivateKey(String alias) {
                    return served.getPrivateKey(alias);
                }

                @Override
                public String[] getClientAliases(String keyType, Principal[] issuers) {
                    return null;
                }

                @Override
                public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
                    return null;
                }
            });
        }
    }
}
