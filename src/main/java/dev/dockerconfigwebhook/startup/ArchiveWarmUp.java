package dev.dockerconfigwebhook.startup;

import dev.dockerconfigwebhook.server.AdmissionServer;
import io.quarkus.arc.Arc;
import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.QuarkusApplication;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Base64;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * {@code java -XX:ArchiveClassesAtExit=app-cds.jsa -jar quarkus-run.jar archive-warm-up}: starts the webhook for real,
 * answers one review over HTTP/2 and one over HTTP/1.1, and exits, so that the AppCDS archive holds every class of
 * start-up and of serving. Quarkus's own archive mode ({@code -Dquarkus.appcds.generate}) exits before anything
 * starts, which leaves out the admission server and Netty's TLS and HTTP/2 code: ~2,600 classes,
 * 0.7 s of start-up.
 *
 * <p>It serves a throw-away certificate made here (EC P-256, self-signed, valid for a day), written to a temporary
 * directory only for the webhook to read and deleted before the process exits: run in an image's {@code RUN} step it
 * leaves no key in any layer (ContainerImageIT checks every layer). Ports are random, so it never clashes.
 */
public final class ArchiveWarmUp {

    private ArchiveWarmUp() {
    }

    public static int run() throws Exception {
        Path directory = Files.createTempDirectory("dockerconfig-webhook-warm-up");
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"));
            KeyPair pair = generator.generateKeyPair();
            byte[] certificate = SelfSigned.certificate(pair, "localhost");
            Path cert = directory.resolve("tls.crt");
            Path key = directory.resolve("tls.key");
            Files.writeString(cert, pem("CERTIFICATE", certificate));
            Files.writeString(key, pem("PRIVATE KEY", pair.getPrivate().getEncoded()));
            System.setProperty("webhook.tls.cert", cert.toString());
            System.setProperty("webhook.tls.key", key.toString());
            System.setProperty("webhook.port", "0");
            System.setProperty("quarkus.management.port", "0");
            // No cluster at image build time: the keeper would only log that the API server is unreachable.
            System.setProperty("webhook.ca-bundle.keep", "false");
            // The archive holds classes, not compiled code: a JIT warm-up would only lengthen the image build.
            System.setProperty("webhook.warm-up", "false");
            servedCertificate = certificate;
            certificateDirectory = directory;
            // An exit handler of our own: Quarkus's default one calls System.exit, and the key must be deleted first.
            Quarkus.run(Exercise.class, (code, failure) -> exitCode = failure == null ? code : 1, new String[0]);
            return exitCode;
        } finally {
            delete(directory);
        }
    }

    private static void delete(Path directory) {
        if (!Files.exists(directory)) return;
        try (Stream<Path> files = Files.walk(directory)) {
            files.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static volatile int exitCode = 1;
    private static byte[] servedCertificate;
    private static Path certificateDirectory;

    /** Run by Quarkus once the application has started: one review per protocol, then the exit code. */
    public static final class Exercise implements QuarkusApplication {
        @Override
        public int run(String... args) throws Exception {
            delete(certificateDirectory); // loaded: the key lives on only in memory now
            int port = Arc.container().instance(AdmissionServer.class).get().port();
            SSLContext trust = trusting(servedCertificate);
            byte[] review = ("{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{"
                    + "\"uid\":\"archive-warm-up\",\"operation\":\"CREATE\",\"name\":\"warm-up\",\"namespace\":\"default\","
                    + "\"object\":{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"type\":\"kubernetes.io/dockerconfigjson\","
                    + "\"data\":{\".dockerconfigjson\":\"" + Base64.getEncoder().encodeToString(
                            "{\"auths\":{\"r.io\":{\"username\":\"u\",\"password\":\"p\"}}}".getBytes(StandardCharsets.UTF_8))
                    + "\"}}}}").getBytes(StandardCharsets.UTF_8);
            boolean answered = true;
            for (HttpClient.Version version : HttpClient.Version.values()) {
                HttpClient http = HttpClient.newBuilder().sslContext(trust).version(version).build();
                HttpResponse<String> response = http.send(HttpRequest.newBuilder(
                        URI.create("https://localhost:" + port + "/mutate")).header("Content-Type", "application/json")
                        .timeout(Duration.ofSeconds(30)).POST(HttpRequest.BodyPublishers.ofByteArray(review)).build(),
                        HttpResponse.BodyHandlers.ofString());
                answered &= response.statusCode() == 200 && response.body().contains("\"patchType\":\"JSONPatch\"");
            }
            return answered ? 0 : 1;
        }
    }

    /** A client context that trusts exactly {@code certificate} (DER). */
    private static SSLContext trusting(byte[] certificate) throws Exception {
        X509Certificate ca = (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(certificate));
        KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
        store.load(null, null);
        store.setCertificateEntry("warm-up", ca);
        TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trust.init(store);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, trust.getTrustManagers(), null);
        return context;
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }

    /** A minimal self-signed X.509 v3 certificate (DER), signed with ECDSA/SHA-256: the JDK has no public API for it. */
    private static final class SelfSigned {

        private static final byte[] ECDSA_WITH_SHA256 = {0x06, 0x08, 0x2A, (byte) 0x86, 0x48, (byte) 0xCE, 0x3D, 0x04, 0x03, 0x02};
        private static final byte[] COMMON_NAME = {0x06, 0x03, 0x55, 0x04, 0x03};
        private static final byte[] SUBJECT_ALT_NAME = {0x06, 0x03, 0x55, 0x1D, 0x11};

        static byte[] certificate(KeyPair pair, String dnsName) throws Exception {
            byte[] algorithm = sequence(ECDSA_WITH_SHA256);
            byte[] name = sequence(set(sequence(COMMON_NAME, tlv(0x0C, dnsName.getBytes(StandardCharsets.UTF_8)))));
            ZonedDateTime now = ZonedDateTime.now(ZoneOffset.UTC);
            DateTimeFormatter utc = DateTimeFormatter.ofPattern("yyMMddHHmmss'Z'");
            byte[] validity = sequence(tlv(0x17, now.minusMinutes(5).format(utc).getBytes(StandardCharsets.US_ASCII)),
                    tlv(0x17, now.plusDays(1).format(utc).getBytes(StandardCharsets.US_ASCII)));
            byte[] altName = sequence(SUBJECT_ALT_NAME, tlv(0x04, sequence(tlv(0x82, dnsName.getBytes(StandardCharsets.US_ASCII)))));
            byte[] extensions = tlv(0xA3, sequence(altName));
            byte[] tbs = sequence(tlv(0xA0, tlv(0x02, new byte[] {2})), tlv(0x02, new BigInteger(64, new SecureRandom()).add(BigInteger.ONE).toByteArray()),
                    algorithm, name, validity, name, pair.getPublic().getEncoded(), extensions);
            Signature signer = Signature.getInstance("SHA256withECDSA");
            signer.initSign(pair.getPrivate());
            signer.update(tbs);
            byte[] signature = signer.sign();
            byte[] bits = new byte[signature.length + 1]; // a BIT STRING starts with its count of unused bits: 0
            System.arraycopy(signature, 0, bits, 1, signature.length);
            return sequence(tbs, algorithm, tlv(0x03, bits));
        }

        private static byte[] sequence(byte[]... parts) {
            return tlv(0x30, concat(parts));
        }

        private static byte[] set(byte[]... parts) {
            return tlv(0x31, concat(parts));
        }

        private static byte[] concat(byte[]... parts) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            for (byte[] part : parts) out.writeBytes(part);
            return out.toByteArray();
        }

        private static byte[] tlv(int tag, byte[] value) {
            ByteArrayOutputStream out = new ByteArrayOutputStream(value.length + 4);
            out.write(tag);
            int length = value.length;
            if (length < 0x80) {
                out.write(length);
            } else if (length < 0x100) {
                out.write(0x81);
                out.write(length);
            } else {
                out.write(0x82);
                out.write(length >> 8);
                out.write(length & 0xFF);
            }
            out.writeBytes(value);
            return out.toByteArray();
        }
    }
}
