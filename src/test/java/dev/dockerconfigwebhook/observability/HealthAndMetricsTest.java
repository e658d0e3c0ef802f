package dev.dockerconfigwebhook.observability;

import dev.dockerconfigwebhook.testing.Webhook;
import dev.dockerconfigwebhook.testing.Fixtures;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.specification.RequestSpecification;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.net.URL;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

@QuarkusTest
class HealthAndMetricsTest {

    URL mutate = Webhook.mutate();

    @TestHTTPResource(value = "/health/ready", management = true)
    URL ready;

    @TestHTTPResource(value = "/health/live", management = true)
    URL live;

    @TestHTTPResource(value = "/metrics", management = true)
    URL metrics;

    @Test
    void readyOnceTheServingCertificateIsLoaded() {
        https().get(ready).then().statusCode(200)
                .body("status", equalTo("UP"))
                .body("checks.name", hasItem("serving-certificate"))
                .body("checks.find { it.name == 'serving-certificate' }.data.subject", equalTo("CN=localhost"))
                .body("checks.find { it.name == 'Graceful Shutdown' }.status", equalTo("UP"));
        https().get(live).then().statusCode(200).body("status", equalTo("UP"));
    }

    @Test
    void countsReviewsByOutcomeWithoutSecretLabels() {
        double patchedBefore = counter("webhook_reviews_total\\{outcome=\"patched\"\\}");
        double fixedBefore = counter("webhook_registries_fixed_total");
        double badBefore = counter("webhook_reviews_total\\{outcome=\"bad_request\"\\}");
        https().contentType("application/json").body(Fixtures.bytes("update-kubectl-edit-password-only.json"))
                .post(mutate).then().statusCode(200);
        https().contentType("application/json").body("{").post(mutate).then().statusCode(400);

        assertEquals(patchedBefore + 1, counter("webhook_reviews_total\\{outcome=\"patched\"\\}"));
        assertEquals(fixedBefore + 1, counter("webhook_registries_fixed_total"));
        assertEquals(badBefore + 1, counter("webhook_reviews_total\\{outcome=\"bad_request\"\\}"));
        String scrape = https().get(metrics).asString();
        for (String forbidden : new String[] {"regcred", "ghcr.io", "namespace=", "alice"}) {
            assertFalse(scrape.contains(forbidden), "no secret names, registries or values in metrics: " + forbidden);
        }
    }

    @Test
    void certificateExpiryIsOnMetricsAndInTheReadinessData() throws Exception {
        long servedNotAfter = notAfter("target/certificates/dev.crt");
        long caNotAfter = notAfter("target/certificates/dev-ca.crt");
        assertEquals((double) servedNotAfter, counter("webhook_certificate_expiration_timestamp_seconds"));
        assertEquals((double) caNotAfter, counter("webhook_ca_certificate_expiration_timestamp_seconds"));
        https().get(ready).then().statusCode(200)
                .body("checks.find { it.name == 'serving-certificate' }.data.notAfter",
                        equalTo(java.time.Instant.ofEpochSecond(servedNotAfter).toString()))
                .body("checks.find { it.name == 'serving-certificate' }.data.caNotAfter",
                        equalTo(java.time.Instant.ofEpochSecond(caNotAfter).toString()));
    }

    private static long notAfter(String pem) throws Exception {
        try (var in = new java.io.FileInputStream(pem)) {
            return ((java.security.cert.X509Certificate) java.security.cert.CertificateFactory.getInstance("X.509")
                    .generateCertificate(in)).getNotAfter().toInstant().getEpochSecond();
        }
    }

    private double counter(String series) {
        Matcher m = Pattern.compile("(?m)^" + series + " ([0-9.eE+-]+)$").matcher(https().get(metrics).asString());
        return m.find() ? Double.parseDouble(m.group(1)) : 0;
    }

    private static RequestSpecification https() {
        return given().trustStore(new File("target/certificates/dev-truststore.p12"), "changeit");
    }
}
