package dev.dockerconfigwebhook.tls;

import dev.dockerconfigwebhook.testing.Webhook;
import dev.dockerconfigwebhook.testing.Fixtures;
import dev.dockerconfigwebhook.testing.TestTls;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import java.math.BigInteger;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Replacing the PEM files while reviews keep flowing: new connections get the new certificate, nothing fails. */
@QuarkusTest
@QuarkusTestResource(value = RotatingCertificates.class, restrictToAnnotatedClass = true)
class CertificateRotationTest {

    URL mutate = Webhook.mutate();

    @Test
    void rotatedFilesAreServedWithoutRestartOrFailedRequest() throws Exception {
        SSLContext trust = TestTls.trusting(RotatingCertificates.GENERATED.resolve("ca.crt"));
        BigInteger first = servedSerial();
        assertEquals(serialOf(RotatingCertificates.CURRENT.resolve("tls.crt")), first);

        AtomicBoolean running = new AtomicBoolean(true);
        AtomicInteger answered = new AtomicInteger();
        ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        Thread[] clients = new Thread[4];
        for (int i = 0; i < clients.length; i++) {
            int client = i;
            clients[i] = new Thread(() -> {
                // A fresh client now and then, so both kept-alive and new connections are exercised.
                HttpClient http = null;
                for (int n = 0; running.get(); n++) {
                    if (n % 20 == 0) {
                        http = HttpClient.newBuilder().sslContext(trust).version(HttpClient.Version.HTTP_1_1).build();
                    }
                    String uid = "rotation-" + client + "-" + n;
                    try {
                        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(mutate.toString()))
                                .timeout(Duration.ofSeconds(10)).header("Content-Type", "application/json")
                                .POST(HttpRequest.BodyPublishers.ofByteArray(
                                        Fixtures.withUid("update-kubectl-edit-password-only.json", uid))).build(),
                                HttpResponse.BodyHandlers.ofString());
                        if (r.statusCode() != 200 || !r.body().contains(uid)) failures.add(uid + ": " + r.statusCode());
                        answered.incrementAndGet();
                    } catch (Exception e) {
                        failures.add(uid + ": " + e.getClass().getSimpleName());
                    }
                }
            });
            clients[i].start();
        }
        try {
            Thread.sleep(1500);
            RotatingCertificates.publish(RotatingCertificates.generate(), "v2");
            BigInteger second = serialOf(RotatingCertificates.CURRENT.resolve("tls.crt"));
            assertNotEquals(first, second);
            long rotated = System.nanoTime();
            while (!servedSerial().equals(second)) {
                assertTrue(System.nanoTime() - rotated < Duration.ofSeconds(15).toNanos(),
                        "the new certificate is served within the 1 s reload period (plus slack)");
                Thread.sleep(100);
            }
            Thread.sleep(1500);
        } finally {
            running.set(false);
            for (Thread client : clients) client.join(15_000);
        }

        assertTrue(failures.isEmpty(), failures.size() + " failed, first: " + failures.peek());
        assertTrue(answered.get() > 50, "reviews kept flowing: " + answered.get());
        String log = dev.dockerconfigwebhook.testing.TestLog.read();
        assertTrue(log.lines().filter(line -> line.contains("serving certificate loaded")).count() >= 2,
                "the reload is logged");
    }

    /**
     * The serial number of the certificate a new TLS connection is served: a fresh TLS context each time, so no session
     * from before the rotation is resumed (a resumed session shows the certificate it was made with).
     */
    private BigInteger servedSerial() throws Exception {
        SSLContext fresh = TestTls.trusting(RotatingCertificates.GENERATED.resolve("ca.crt"));
        try (SSLSocket socket = (SSLSocket) fresh.getSocketFactory().createSocket(mutate.getHost(), mutate.getPort())) {
            socket.startHandshake();
            return ((X509Certificate) socket.getSession().getPeerCertificates()[0]).getSerialNumber();
        }
    }

    private static BigInteger serialOf(Path pem) throws Exception {
        try (var in = Files.newInputStream(pem)) {
            return ((X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in)).getSerialNumber();
        }
    }
}
