package dev.dockerconfigwebhook.certificates;

import dev.dockerconfigwebhook.tls.KeyMatch;
import dev.dockerconfigwebhook.tls.X509Certificates;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Instant;
import java.util.Collection;
import java.util.Date;
import java.util.List;

/**
 * Makes the webhook's CA and serving certificates with Bouncy Castle's certificate builder (no hand-written X.509), the
 * same shapes {@code certs/generate.sh} makes with openssl: ECDSA P-256 keys, a CA with {@code CA:TRUE},
 * {@code pathlen:0} and {@code keyCertSign}, a serving certificate for the Service's DNS names with {@code serverAuth}. Keys are written as
 * PKCS#8 PEM; both PKCS#8 and openssl's SEC1 EC key format are read.
 */
public final class CertificateMaker {

    /** A private key and its certificate. */
    public record Pair(PrivateKey key, X509Certificate certificate) {
    }

    private static final SecureRandom RANDOM = new SecureRandom();

    private CertificateMaker() {
    }

    /** A self-signed CA named {@code commonName}, valid from {@code notBefore} to {@code notAfter}. */
    public static Pair newCa(String commonName, Instant notBefore, Instant notAfter) {
        try {
            KeyPair keys = newKeyPair();
            // The time in the name tells two CAs of one webhook apart (as certs/generate.sh's O= does).
            X500Name name = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, commonName(commonName))
                    .addRDN(BCStyle.O, notBefore.toString()).build();
            JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(name, serial(), Date.from(notBefore),
                    Date.from(notAfter), name, keys.getPublic())
                    // pathLenConstraint 0: it signs serving certificates only, never another CA.
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(0))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
                    .addExtension(Extension.subjectKeyIdentifier, false,
                            extensions.createSubjectKeyIdentifier(keys.getPublic()));
            return new Pair(keys.getPrivate(), sign(builder, keys.getPrivate()));
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot make a CA certificate", e);
        }
    }

    /** A serving certificate for {@code dnsNames} (the first is the subject), signed by {@code ca}. */
    public static Pair newServing(Pair ca, List<String> dnsNames, Instant notBefore, Instant notAfter) {
        try {
            KeyPair keys = newKeyPair();
            X500Name subject = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, commonName(dnsNames.get(0))).build();
            GeneralName[] names = dnsNames.stream().map(n -> new GeneralName(GeneralName.dNSName, n))
                    .toArray(GeneralName[]::new);
            JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(ca.certificate(), serial(),
                    Date.from(notBefore), Date.from(notAfter), subject, keys.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment))
                    .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth))
                    .addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names))
                    .addExtension(Extension.authorityKeyIdentifier, false,
                            extensions.createAuthorityKeyIdentifier(ca.certificate()));
            return new Pair(keys.getPrivate(), sign(builder, ca.key()));
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot make a serving certificate", e);
        }
    }

    /** Whether {@code key} is the private key of {@code certificate} (an unknown key type is not). */
    public static boolean matches(PrivateKey key, X509Certificate certificate) {
        return KeyMatch.check(key, certificate) == KeyMatch.SAME;
    }

    public static String pem(X509Certificate certificate) {
        return write(certificate);
    }

    public static String pem(Collection<X509Certificate> certificates) {
        StringBuilder out = new StringBuilder();
        certificates.forEach(c -> out.append(write(c)));
        return out.toString();
    }

    /** The key as PKCS#8 PEM. */
    public static String pem(PrivateKey key) {
        try {
            return write(new JcaPKCS8Generator(key, null).generate());
        } catch (IOException e) {
            throw new IllegalStateException("encoding a key in memory", e);
        }
    }

    /** The certificates of a PEM text, in order; {@link IllegalArgumentException} when it holds none or is not PEM. */
    public static List<X509Certificate> certificates(byte[] pem) {
        List<X509Certificate> certificates = X509Certificates.parse(pem);
        if (certificates.isEmpty()) throw new IllegalArgumentException("no PEM certificate");
        return certificates;
    }

    /** A PEM private key (PKCS#8, or openssl's SEC1 EC format); {@link IllegalArgumentException} otherwise. */
    public static PrivateKey privateKey(byte[] pem) {
        try (PEMParser parser = new PEMParser(new StringReader(new String(pem, StandardCharsets.US_ASCII)))) {
            Object read = parser.readObject();
            PrivateKeyInfo info = read instanceof PEMKeyPair pair ? pair.getPrivateKeyInfo()
                    : read instanceof PrivateKeyInfo one ? one : null;
            if (info != null) {
                // The JDK's own key factories (Bouncy Castle's converter would name EC keys "ECDSA", which only its
                // provider knows, and this application registers no provider).
                String oid = info.getPrivateKeyAlgorithm().getAlgorithm().getId();
                String algorithm = switch (oid) {
                    case "1.2.840.10045.2.1" -> "EC";
                    case "1.2.840.113549.1.1.1" -> "RSA";
                    default -> throw new IllegalArgumentException("unsupported key algorithm");
                };
                return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(info.getEncoded()));
            }
        } catch (IOException | GeneralSecurityException | RuntimeException e) {
            // falls through: the message below names no content
        }
        throw new IllegalArgumentException("no PEM private key");
    }

    /** X.509 caps a common name at 64 characters (RFC 5280 ub-common-name); the SANs carry the full names. */
    private static String commonName(String name) {
        return name.length() <= 64 ? name : name.substring(0, 64);
    }

    private static KeyPair newKeyPair() throws GeneralSecurityException {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
        return generator.generateKeyPair();
    }

    private static BigInteger serial() {
        return new BigInteger(127, RANDOM).add(BigInteger.ONE);
    }

    private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey signer) throws GeneralSecurityException {
        try {
            return new JcaX509CertificateConverter().getCertificate(
                    builder.build(new JcaContentSignerBuilder(
                            signer.getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA").build(signer)));
        } catch (org.bouncycastle.operator.OperatorCreationException e) {
            throw new GeneralSecurityException(e);
        }
    }

    private static String write(Object object) {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
            writer.writeObject(object);
        } catch (IOException e) {
            throw new IllegalStateException("writing PEM to memory", e);
        }
        return out.toString();
    }
}
