package dev.dockerconfigwebhook.tls;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.KeyCertOptions;
import io.vertx.core.net.PemKeyCertOptions;
import dev.dockerconfigwebhook.observability.LogText;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import dev.dockerconfigwebhook.config.WebhookConfig;
import dev.dockerconfigwebhook.config.WebhookConfig.Source;
import org.jboss.logging.Logger;

import javax.net.ssl.KeyManager;
import javax.net.ssl.X509KeyManager;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * The webhook's serving certificate, swapped into {@link ReloadingKeyManager} only when its content changed and it
 * forms a valid pair, and whether the API server trusts it. Where it comes from is {@code webhook.certificates.source}:
 * <ul>
 * <li>{@code files}: the PEM files {@code webhook.tls.cert}, {@code webhook.tls.key} and {@code webhook.tls.ca}
 * (a mounted Secret made by certs/generate.sh or cert-manager), {@linkplain #reloadFiles re-read} every check period;</li>
 * <li>{@code self}: whatever the pods' own issuer {@link #offer}s from the TLS Secret it keeps (or the pair it held
 * before); nothing is read from disk.</li>
 * </ul>
 * Both are driven by the one reconcile loop ({@code certificates.CertificateReconciler}), which also records
 * {@linkplain #trust(Trust) whether the live caBundle trusts} what is served: readiness needs both.
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

    /**
     * Whether the live caBundle trusts the served certificate: {@code checked} false when nobody looks (caBundle is
     * kept outside the pods); {@code reason} says what is missing when it does not; {@code caBundleCertificates} is how
     * many CAs the largest caBundle of the configuration holds.
     */
    public record Trust(boolean checked, boolean trusted, String reason, int caBundleCertificates) {
        public static Trust unchecked() {
            return new Trust(false, false, "", 0);
        }
    }

    private final Vertx vertx;
    private final Path cert;
    private final Path key;
    private final Path ca;
    private final ReloadingKeyManager keyManager;
    private volatile List<X509Certificate> caCertificates = List.of();
    /** The content last looked at, loaded or not: each distinct problem is logged once. */
    private volatile byte[] seenDigest;
    private volatile byte[] servedDigest;
    /** What new connections are served: the PEM as loaded and its certificate. */
    private volatile CertificateWithKey served;
    private volatile String problem;
    private volatile Trust trust = Trust.unchecked();

    /** Files: {@code ca.crt} next to the certificate file, as in a mounted Secret. */
    ServingCertificate(Vertx vertx, String cert, String key) {
        this(vertx, cert, key, Path.of(cert).resolveSibling("ca.crt").toString(), Source.FILES);
    }

    @Inject
    public ServingCertificate(Vertx vertx, WebhookConfig config) {
        this(vertx, config.tls().cert(), config.tls().key(), config.tls().ca(), config.certificates().source());
    }

    private ServingCertificate(Vertx vertx, String cert, String key, String ca, Source source) {
        this.vertx = vertx;
        this.cert = Path.of(cert);
        this.key = Path.of(key);
        this.ca = Path.of(ca);
        this.keyManager = new ReloadingKeyManager(null);
        if (source == Source.SELF) {
            this.problem = "waiting for the first self-managed certificate (webhook.certificates.source=self)";
            return;
        }
        reloadFiles(); // before the HTTPS server starts: a mounted certificate is served from the first handshake
    }

    /** For a server's options: every handshake asks the reloading key manager for the current pair. */
    public KeyCertOptions keyCertOptions() {
        return KeyCertOptions.wrap(keyManager);
    }

    /** The certificate new connections are served, if any. */
    public Optional<X509Certificate> current() {
        return Optional.ofNullable(served).map(CertificateWithKey::certificate);
    }

    /** Why the certificate offered is not what is served (missing, unreadable, not PEM, mismatched), if it is not. */
    public Optional<String> problem() {
        return Optional.ofNullable(problem);
    }

    /** The served certificate, its key and its ca.crt as PEM (in memory only), and the certificate parsed. */
    public Optional<CertificateWithKey> held() {
        return Optional.ofNullable(served);
    }

    /** Whether the live caBundle trusts what is served, as the reconcile loop last found it. */
    public Trust trust() {
        return trust;
    }

    public void trust(Trust trust) {
        this.trust = trust;
    }

    /**
     * The CA certificates the served certificate chains to, as its source gives them (ca.crt: the signing CA, one
     * waiting to sign and retired ones still trusted); empty when the source has none.
     */
    public List<X509Certificate> caCertificates() {
        return caCertificates;
    }

    /** When the first CA of {@link #caCertificates()} to expire does, if there is one. */
    public Optional<Instant> earliestCaNotAfter() {
        return caCertificates.stream().map(c -> c.getNotAfter().toInstant()).min(Instant::compareTo);
    }

    /**
     * A certificate, its key and its CA bundle as PEM, from somewhere other than the files: loaded when it differs
     * from the last one offered and forms a valid pair. {@code origin} names where it came from in messages.
     */
    public void offer(byte[] certPem, byte[] keyPem, byte[] caPem, String origin) {
        accept(Pem.of(certPem, keyPem, caPem, origin + " tls.crt", origin + " tls.key"));
    }

    /** Re-reads the files; loads them when their content changed and they form a valid pair. */
    public void reloadFiles() {
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
        accept(pem);
    }

    private synchronized void accept(Pem pem) {
        if (Arrays.equals(pem.digest(), servedDigest)) {
            problem = null; // the source is back, with what is served
            seenDigest = servedDigest;
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
            servedDigest = pem.digest();
            served = new CertificateWithKey(pem.cert(), pem.key(), pem.ca(), leaf);
            caCertificates = X509Certificates.parse(pem.ca());
            problem = null;
            LOG.infof("serving certificate loaded: subject=%s notAfter=%s caNotAfter=%s",
                    LogText.safe(leaf.getSubjectX500Principal().getName()), leaf.getNotAfter().toInstant(),
                    earliestCaNotAfter().map(Object::toString).orElse("none (no ca.crt)"));
        } catch (InvalidPairException e) {
            report(pem.digest(), e.getMessage());
        }
    }

    private synchronized void report(byte[] digest, String what) {
        if (digest == null && what.equals(problem)) {
            return; // the same missing file, period after period: said once
        }
        seenDigest = digest;
        problem = what;
        if (served == null) {
            LOG.warnf("serving certificate not loaded: %s; not ready, checking again every period", what);
        } else {
            LOG.warnf("serving certificate changed but cannot be loaded: %s; still serving the previous one", what);
        }
    }

    /** The PEM as read once: what is hashed is exactly what is loaded; the names say where each part came from. */
    private record Pem(byte[] cert, byte[] key, byte[] ca, byte[] digest, String certName, String keyName) {
        static Pem of(byte[] cert, byte[] key, byte[] ca, String certName, String keyName) {
            try {
                MessageDigest sha = MessageDigest.getInstance("SHA-256");
                for (byte[] part : new byte[][] {cert, key, ca}) {
                    sha.update(ByteBuffer.allocate(4).putInt(part.length).flip());
                    sha.update(part);
                }
                return new Pem(cert, key, ca, sha.digest(), certName, keyName);
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException("SHA-256 is part of every JDK", e);
            }
        }
    }

    private Pem read() throws IOException {
        byte[] certBytes = Files.readAllBytes(cert);
        byte[] keyBytes = Files.readAllBytes(key);
        byte[] caBytes;
        try {
            caBytes = Files.readAllBytes(ca);
        } catch (IOException e) {
            caBytes = new byte[0]; // optional: without it the caBundle keeper has nothing to add
        }
        return Pem.of(certBytes, keyBytes, caBytes, fileName(cert), fileName(key));
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
            throw new InvalidPairException(files.certName() + ": no PEM certificate");
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
            throw new InvalidPairException(files.keyName() + ": no usable PEM private key");
        }
        String alias = manager == null ? null : aliasOf(manager);
        if (alias == null) {
            throw new InvalidPairException(files.keyName() + ": no usable PEM private key");
        }
        if (KeyMatch.check(manager.getPrivateKey(alias), leaf) == KeyMatch.DIFFERENT) {
            throw new InvalidPairException(files.certName() + " and " + files.keyName() + " are not a pair "
                    + "(the key does not match the certificate)");
        }
        return new Loaded(manager, leaf);
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
}
