package dev.dockerconfigwebhook.tls;

import java.nio.charset.StandardCharsets;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.X509Certificate;

/** Whether a private key belongs to a certificate: signs a probe with the key and verifies it with the certificate. */
public enum KeyMatch {
    SAME, DIFFERENT,
    /** A key type this check does not know. */
    UNKNOWN;

    public static KeyMatch check(PrivateKey privateKey, X509Certificate certificate) {
        String algorithm = switch (privateKey.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            case "EdDSA", "Ed25519" -> "Ed25519";
            case "Ed448" -> "Ed448";
            default -> null;
        };
        if (algorithm == null) {
            return UNKNOWN;
        }
        try {
            byte[] probe = "dockerconfig-webhook key check".getBytes(StandardCharsets.US_ASCII);
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(privateKey);
            signer.update(probe);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(certificate.getPublicKey());
            verifier.update(probe);
            return verifier.verify(signature) ? SAME : DIFFERENT;
        } catch (Exception e) {
            return DIFFERENT; // e.g. an EC key with an RSA certificate
        }
    }
}
