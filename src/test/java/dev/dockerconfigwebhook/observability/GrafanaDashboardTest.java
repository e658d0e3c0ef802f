package dev.dockerconfigwebhook.observability;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Grafana dashboard the chart ships (dashboards/dockerconfig-webhook.json) asks only for metrics this application
 * exports: every metric name in every panel's query is a sample name of the running webhook's /q/metrics.
 */
@QuarkusTest
class GrafanaDashboardTest {

    static final Path DASHBOARD = Path.of("deploy/helm/dockerconfig-webhook/dashboards/dockerconfig-webhook.json");
    private static final Pattern METRIC = Pattern.compile("\\b(webhook_[a-z_]+)\\b");

    @TestHTTPResource(value = "/metrics", management = true)
    URL metrics;

    @Test
    void everyQueryNamesOnlyMetricsTheWebhookExports() throws Exception {
        JsonNode dashboard = new ObjectMapper().readTree(Files.readString(DASHBOARD));
        assertEquals("dockerconfig-webhook", dashboard.get("uid").asText());
        Set<String> queried = new TreeSet<>();
        for (JsonNode panel : dashboard.get("panels")) {
            assertFalse(panel.get("targets").isEmpty(), panel.get("title") + " has a query");
            for (JsonNode target : panel.get("targets")) {
                Matcher metric = METRIC.matcher(target.get("expr").asText());
                boolean any = false;
                while (metric.find()) {
                    queried.add(metric.group(1));
                    any = true;
                }
                assertTrue(any, panel.get("title") + ": a query of the webhook's metrics");
            }
        }
        Set<String> exported = given().relaxedHTTPSValidation().get(metrics).then().statusCode(200).extract().asString()
                .lines().filter(line -> !line.startsWith("#") && !line.isBlank())
                .map(line -> line.split("[{ ]", 2)[0]).collect(Collectors.toCollection(TreeSet::new));
        Set<String> missing = new TreeSet<>(queried);
        missing.removeAll(exported);
        assertEquals(Set.of(), missing, "queried by the dashboard but not exported (exported: " + exported + ")");
        for (String title : Set.of("Reviews by outcome", "Review latency", "Memory budget in use",
                "Refused and cut by the budget", "Certificate and CA expiry", "caBundle trusts the served certificate")) {
            assertTrue(dashboard.get("panels").findValuesAsText("title").contains(title), "a panel: " + title);
        }
    }
}
