package dev.dockerconfigwebhook.certificates;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The reconcile loop's settings as the Deployment writes them; the loop itself runs in the *IT tests. */
class CertificateReconcilerTest {

    @Test
    void durationsAreLoggedAsTheSettingsWriteThem() {
        assertEquals("90d", CertificateReconciler.shortly(Duration.ofDays(90)));
        assertEquals("1h", CertificateReconciler.shortly(Duration.ofHours(1)));
        assertEquals("20s", CertificateReconciler.shortly(Duration.ofSeconds(20)));
        assertEquals("PT0.5S", CertificateReconciler.shortly(Duration.ofMillis(500)));
    }

    @Test
    void labelsAreParsedFromTheDeploymentsText() {
        assertEquals(Map.of("dockerconfig-webhook/release", "acme", "dockerconfig-webhook/skip", "true"),
                CertificateReconciler.parseLabels("dockerconfig-webhook/release=acme, dockerconfig-webhook/skip=true,"));
        assertEquals(Map.of(), CertificateReconciler.parseLabels(""));
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                () -> CertificateReconciler.parseLabels("novalue"));
        assertTrue(bad.getMessage().contains("key=value"));
    }

    @Test
    void theLabelGitOpsToolsTrackByIsRefused() {
        IllegalArgumentException claimed = assertThrows(IllegalArgumentException.class,
                () -> CertificateReconciler.parseLabels("app.kubernetes.io/instance=acme"));
        assertTrue(claimed.getMessage().contains("prune"), claimed.getMessage());
    }
}
