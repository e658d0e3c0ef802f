package dev.dockerconfigwebhook.tls;

import io.quarkus.runtime.ShutdownEvent;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.KeyCertOptions;
import io.vertx.core.net.PemKeyCertOptions;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import javax.net.ssl.KeyManager;
import javax.net.ssl.X509KeyManager;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Arrays;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The webhook's serving certificate: the PEM files {@code webhook.tls.cert} and {@code webhook.tls.key}, re-read
 * every {@code webhook.tls.reload-period} and swapped into {@link ReloadingKeyManager} only when their content changed
 * and they form a valid pair.
 *
 * <p>Missing, unreadable or mismatched files never stop the process: it stays up and not ready (the readiness check
 * names the file and the problem), logs one line per distinct problem, keeps checking, and becomes ready once a valid
 * pair appears. A pair that stops being valid on rotation is not loaded; the previous one keeps serving.
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
    /** The content last looked at, loaded or not: each distinct problem is logged once. */
    private volatile byte[] seenDigest;
    private volatile X509Certificate served;
    private volatile String problem;

    public ServingCertificate(Vertx vertx,
            @ConfigProperty(name = "webhook.tls.cert") String cert,
            @ConfigProperty(name = "webhook.tls.key") String key,
            @ConfigProperty(name = "webhook.tls.reload-period", defaultValue = "30s") Duration reloadPeriod) {
        this.vertx = vertx;
        this.cert = Path.of(cert);
        this.key = Path.of(key);
        this.keyManager = new ReloadingKeyManager(null);
        reloadIfChanged();
        this.reloader = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread thread = new Thread(r, "serving-certificate-reload");
            thread.setDaemon(true);
            return thread;
        });
        long period = Math.max(100, reloadPeriod.toMillis());
        reloader.scheduleWithFixedDelay(this::reloadIfChanged, period, period, TimeUnit.MILLISECONDS);
    }

    /** For a server's options: every handshake asks the reloading key manager for the current pair. */
    public KeyCertOptions keyCertOptions() {
        return KeyCertOptions.wrap(keyManager);
    }

    /** The certificate new connections are served, if any. */
    public Optional<X509Certificate> current() {
        return Optional.ofNullable(served);
    }

    /** Why the files on disk are not what is served (missing, unreadable, not PEM, mismatched), if they are not. */
    public Optional<String> problem() {
        return Optional.ofNullable(problem);
    }

    /** Re-reads the files; loads them when their content changed and they form a valid pair. */
    void reloadIfChanged() {
        Pem pem;
        try {
            pem = read();
        } catch (NoSuchFileException e) {
            report(null, fileName(e.getFile()) + ": file not found");
            return;
        } catch (AccessDeniedException e) {
            report(null, fileName(e.getFile()) + ": permission denied");
            return;
        } catch (IOException e) {
            report(null, "cannot read the certificate files (" + e.getClass().getSimpleName() + ")");
            return;
        }
        if (Arrays.equals(pem.digest(), seenDigest)) {
            return;
        }
        try {
            Loaded next = load(pem);
            X509Certificate leaf = next.leaf();
            keyManager.replace(next.manager());
            seenDigest = pem.digest();
            served = leaf;
            problem = null;
            LOG.infof("serving certificate loaded: subject=%s notAfter=%s", leaf.getSubjectX500Principal().getName(),
                    leaf.getNotAfter().toInstant());
        } catch (InvalidPairException e) {
            report(pem.digest(), e.getMessage());
        }
    }

    private void report(byte[] digest, String what) {
        if (digest == null && what.equals(problem)) {
            return; // the same missing file, period after period: said once
        }
        seenDigest = digest;
        problem = what;
        if (served == null) {
            LOG.warnf("serving certificate not loaded: %s; not ready, checking again every period", what);
        } else {
            LOG.warnf("serving certificate files changed but cannot be loaded: %s; still serving the previous one", what);
        }
    }

    /** The two files as read once: what is hashed is exactly what is loaded. */
    private record Pem(byte[] cert, byte[] key, byte[] digest) {
    }

    private Pem read() throws IOException {
        byte[] certBytes = Files.readAllBytes(cert);
        byte[] keyBytes = Files.readAllBytes(key);
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(certBytes);
            sha.update(keyBytes);
            return new Pem(certBytes, keyBytes, sha.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }

    /** Why a pair of files cannot be served; the message names a file and a problem, never content. */
    private static final class InvalidPairException extends Exception {
        InvalidPairException(String message) {
            super(message, null, false, false);
        }
    }

    /** A valid pair: the key manager to serve it, and its certificate (the first in the file). */
    private record Loaded(X509KeyManager manager, X509Certificate leaf) {
    }

    private Loaded load(Pem files) throws InvalidPairException {
        X509Certificate leaf;
        try {
            leaf = (X509Certificate) CertificateFactory.getInstance("X.509")
                    .generateCertificate(new ByteArrayInputStream(files.cert()));
        } catch (CertificateException | RuntimeException e) {
            throw new InvalidPairException(fileName(cert) + ": no PEM certificate");
        }
        X509KeyManager manager;
        try {
            PemKeyCertOptions pem = new PemKeyCertOptions()
                    .setCertValue(Buffer.buffer(files.cert())).setKeyValue(Buffer.buffer(files.key()));
            manager = null;
            for (KeyManager candidate : pem.getKeyManagerFactory(vertx).getKeyManagers()) {
                if (candidate instanceof X509KeyManager) manager = (X509KeyManager) candidate;
            }
        } catch (Exception e) {
            throw new InvalidPairException(fileName(key) + ": no usable PEM private key");
        }
        String alias = manager == null ? null : aliasOf(manager);
        if (alias == null) {
            throw new InvalidPairException(fileName(key) + ": no usable PEM private key");
        }
        if (!belongTogether(manager.getPrivateKey(alias), leaf)) {
            throw new InvalidPairException(fileName(cert) + " and " + fileName(key) + " are not a pair "
                    + "(the key does not match the certificate)");
        }
        return new Loaded(manager, leaf);
    }

    /** Signs with the key and verifies with the certificate: the only proof that they belong together. */
    private static boolean belongTogether(PrivateKey privateKey, X509Certificate certificate) {
        String algorithm = switch (privateKey.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            case "EdDSA", "Ed25519" -> "Ed25519";
            case "Ed448" -> "Ed448";
            default -> null;
        };
        if (algorithm == null) {
            return true; // a key type this check does not know; the handshake is the judge
        }
        try {
            byte[] probe = "dockerconfig-webhook key check".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(privateKey);
            signer.update(probe);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(certificate.getPublicKey());
            verifier.update(probe);
            return verifier.verify(signature);
        } catch (Exception e) {
            return false; // e.g. an EC key with an RSA certificate
        }
    }

    private static String fileName(Object path) {
        return String.valueOf(path);
    }

    private static String aliasOf(X509KeyManager manager) {
        for (String type : new String[] {"EC", "RSA", "EdDSA", "Ed25519", "RSASSA-PSS"}) {
            String[] aliases = manager.getServerAliases(type, null);
            if (aliases != null && aliases.length > 0) return aliases[0];
        }
        return null;
    }

    void stop(@Observes ShutdownEvent event) {
        reloader.shutdownNow();
    }
}
