package dev.dockerconfigwebhook.startup;

import javax.crypto.Cipher;
import javax.crypto.KeyAgreement;
import javax.crypto.Mac;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;

/**
 * Runs the JDK code of a TLS 1.3 handshake once (ECDSA P-256 signing, X25519 and P-256 key agreement, AES-GCM,
 * HMAC, SHA-2, the SSL engine's tables) on a background thread while Quarkus boots on the other core. Without it the
 * API server's first connection pays about half a second of class loading and interpretation. Best effort: a
 * failure here only means a slower first handshake.
 */
public final class CryptoWarmUp implements Runnable {

    private CryptoWarmUp() {
    }

    public static void startInBackground() {
        Thread thread = new Thread(new CryptoWarmUp(), "crypto-warm-up");
        thread.setDaemon(true);
        thread.setPriority(Thread.MIN_PRIORITY);
        thread.start();
    }

    @Override
    public void run() {
        try {
            SSLContext context = SSLContext.getInstance("TLSv1.3");
            context.init(null, null, null);
            SSLEngine engine = context.createSSLEngine();
            engine.setUseClientMode(false);
            engine.getSupportedCipherSuites();

            KeyPairGenerator ec = KeyPairGenerator.getInstance("EC");
            ec.initialize(new ECGenParameterSpec("secp256r1"));
            KeyPair server = ec.generateKeyPair();
            Signature signer = Signature.getInstance("SHA256withECDSA");
            signer.initSign(server.getPrivate());
            signer.update(new byte[64]);
            byte[] signature = signer.sign();
            signer.initVerify(server.getPublic());
            signer.update(new byte[64]);
            signer.verify(signature);
            agree("EC", ec.generateKeyPair(), server);
            KeyPairGenerator x25519 = KeyPairGenerator.getInstance("X25519");
            agree("XDH", x25519.generateKeyPair(), x25519.generateKeyPair());

            Cipher gcm = Cipher.getInstance("AES/GCM/NoPadding");
            gcm.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(new byte[16], "AES"), new GCMParameterSpec(128, new byte[12]));
            gcm.doFinal(new byte[1024]);
            Mac hmac = Mac.getInstance("HmacSHA256");
            hmac.init(new SecretKeySpec(new byte[32], "HmacSHA256"));
            hmac.doFinal(new byte[64]);
            MessageDigest.getInstance("SHA-384").digest(new byte[64]);
        } catch (Exception | LinkageError ignored) {
            // nothing to do: the handshake itself will load what it needs
        }
    }

    private static void agree(String algorithm, KeyPair ours, KeyPair theirs) throws Exception {
        KeyAgreement agreement = KeyAgreement.getInstance(algorithm);
        agreement.init(ours.getPrivate());
        agreement.doPhase(theirs.getPublic(), true);
        agreement.generateSecret();
    }
}
