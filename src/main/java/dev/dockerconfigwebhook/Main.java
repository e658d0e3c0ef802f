package dev.dockerconfigwebhook;

import dev.dockerconfigwebhook.audit.AuditCommand;
import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.annotations.QuarkusMain;

import java.util.Arrays;

/**
 * Entry point. {@code audit ...} runs the audit command and exits, without starting the server (it needs no
 * certificate); anything else starts the webhook.
 */
@QuarkusMain
public final class Main {

    private Main() {
    }

    public static void main(String... args) {
        if (args.length > 0 && args[0].equals("audit")) {
            System.exit(AuditCommand.run(Arrays.copyOfRange(args, 1, args.length)));
        }
        // Vert.x turns the PEM key into an in-memory PKCS12 key store under a fixed dummy password, and the JDK
        // protects each entry with 10,000 PBKDF2 rounds, twice per load: most of start-up on a cold JVM, for
        // protection of nothing (the store never leaves memory). Applies only to PKCS12 entries this process
        // writes; reading existing key stores uses the counts stored in them.
        System.setProperty("keystore.pkcs12.keyPbeIterationCount", "1");
        Quarkus.run(args);
    }
}
