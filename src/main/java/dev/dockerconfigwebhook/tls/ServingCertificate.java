package dev.dockerconfigwebhook.tls;

import io.quarkus.runtime.ShutdownEvent;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.PemKeyCertOptions;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import javax.net.ssl.KeyManager;
import javax.net.ssl.X509KeyManager;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Arrays;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The webhook's serving certificate: the PEM files named by {@code quarkus.tls.key-store.pem.0.cert/key}, re-read
 * every {@code webhook.tls.reload-period} and swapped into {@link ReloadingKeyManager} only when their content changed.
 *
 * <p>Why not {@code quarkus.tls.reload-period}: Quarkus then re-applies the HTTPS server's SSL options on every period,
 * changed or not, and while Vert.x swaps them a new connection can fail its handshake (measured: an NPE in
 * {@code SslContextUpdate} closing the connection, see CertificateRotationTest). A webhook with
 * {@code failurePolicy: Fail} would turn that into a failed Secret write.
 */
@ApplicationScoped
public class ServingCertificate {

    private static final Logger LOG = Logger.getLogger(ServingCertificate.class);

    private final Vertx vertx;
    private final Path cert;
    private final Path key;
    private final ReloadingKeyManager keyManager;
    private final ScheduledExecutorService reloader;
    private volatile byte[] loadedDigest;
    private volatile X509Certificate served;

    public ServingCertificate(Vertx vertx,
            @ConfigProperty(name = "quarkus.tls.key-store.pem.0.cert") String cert,
            @ConfigProperty(name = "quarkus.tls.key-store.pem.0.key") String key,
            @ConfigProperty(name = "webhook.tls.reload-period", defaultValue = "30s") Duration reloadPeriod) throws Exception {
        this.vertx = vertx;
        this.cert = Path.of(cert);
        this.key = Path.of(key);
        Pem pem = read();
        X509KeyManager initial = load(pem);
        this.keyManager = new ReloadingKeyManager(initial);
        this.loadedDigest = pem.digest();
        this.served = leaf(initial);
        this.reloader = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread thread = new Thread(r, "serving-certificate-reload");
            thread.setDaemon(true);
            return thread;
        });
        long period = Math.max(100, reloadPeriod.toMillis());
        reloader.scheduleWithFixedDelay(this::reloadIfChanged, period, period, TimeUnit.MILLISECONDS);
    }

    ReloadingKeyManager keyManager() {
        return keyManager;
    }

    /** The certificate new connections are served. */
    public Optional<X509Certificate> current() {
        return Optional.ofNullable(served);
    }

    /** Re-reads the files; a half-written pair (key and certificate not matching yet) is retried next period. */
    void reloadIfChanged() {
        try {
            Pem pem = read();
            if (Arrays.equals(pem.digest(), loadedDigest)) {
                return;
            }
            X509KeyManager next = load(pem);
            keyManager.replace(next);
            loadedDigest = pem.digest();
            served = leaf(next);
            LOG.infof("serving certificate reloaded: subject=%s notAfter=%s",
                    served.getSubjectX500Principal().getName(), served.getNotAfter().toInstant());
        } catch (Exception e) {
            LOG.warnf("serving certificate files changed but cannot be loaded yet (%s); still serving the previous one",
                    e.getClass().getSimpleName());
        }
    }

    /** The two files as read once: what is hashed is exactly what is loaded. */
    private record Pem(byte[] cert, byte[] key, byte[] digest) {
    }

    private Pem read() throws IOException, NoSuchAlgorithmException {
        byte[] certBytes = Files.readAllBytes(cert);
        byte[] keyBytes = Files.readAllBytes(key);
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        sha.update(certBytes);
        sha.update(keyBytes);
        return new Pem(certBytes, keyBytes, sha.digest());
    }

    private X509KeyManager load(Pem files) throws Exception {
        PemKeyCertOptions pem = new PemKeyCertOptions()
                .setCertValue(Buffer.buffer(files.cert())).setKeyValue(Buffer.buffer(files.key()));
        for (KeyManager manager : pem.getKeyManagerFactory(vertx).getKeyManagers()) {
            if (manager instanceof X509KeyManager) {
                X509KeyManager x509 = (X509KeyManager) manager;
                if (leaf(x509) == null) {
                    throw new IllegalStateException("no certificate in " + cert);
                }
                return x509;
            }
        }
        throw new IllegalStateException("no X.509 key manager for " + cert);
    }

    private static X509Certificate leaf(X509KeyManager manager) {
        for (String type : new String[] {"EC", "RSA", "EdDSA", "Ed25519", "RSASSA-PSS"}) {
            String[] aliases = manager.getServerAliases(type, null);
            if (aliases != null && aliases.length > 0) {
                X509Certificate[] chain = manager.getCertificateChain(aliases[0]);
                if (chain != null && chain.length > 0) return chain[0];
            }
        }
        return null;
    }

    void stop(@Observes ShutdownEvent event) {
        reloader.shutdownNow();
    }
}
