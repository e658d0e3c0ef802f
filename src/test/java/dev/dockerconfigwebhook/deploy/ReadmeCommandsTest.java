package dev.dockerconfigwebhook.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Helm commands of the README, read as written and rendered with a real Helm engine: the emergency command of
 * Troubleshooting changes nothing of the install but the failure policy.
 */
class ReadmeCommandsTest {

    /** Every shell command of the README's ```bash blocks, continuation lines joined. */
    static List<String> commands() throws Exception {
        List<String> commands = new ArrayList<>();
        boolean inBlock = false;
        StringBuilder current = new StringBuilder();
        for (String line : Files.readAllLines(Path.of("README.md"))) {
            String trimmed = line.trim();
            if (trimmed.startsWith("```")) {
                inBlock = trimmed.equals("```bash");
                continue;
            }
            if (!inBlock || trimmed.isEmpty() || trimmed.startsWith("#")) continue;
            if (trimmed.endsWith("\\")) {
                current.append(trimmed, 0, trimmed.length() - 1);
                continue;
            }
            commands.add(current.append(trimmed).toString().replaceAll("\\s+", " "));
            current.setLength(0);
        }
        return commands;
    }

    static String command(String start, String containing) throws Exception {
        return commands().stream().filter(c -> c.startsWith(start) && c.contains(containing)).findFirst()
                .orElseThrow(() -> new AssertionError("README has no `" + start + " … " + containing + "`"));
    }

    /** The {@code --set key=value} pairs of a command, in order. */
    static Map<String, String> sets(String command) {
        Map<String, String> sets = new LinkedHashMap<>();
        String[] words = command.split(" ");
        for (int i = 0; i < words.length - 1; i++) {
            if (words[i].equals("--set")) {
                String[] pair = words[i + 1].split("=", 2);
                sets.put(pair[0], pair[1]);
            }
        }
        return sets;
    }

    private static Map<String, JsonNode> render(String release, String namespace, Map<String, String> values) {
        return Manifests.of(HelmChartTest.render(release, namespace, values)).byKindAndName();
    }

    @Test
    void everyDocumentedUpgradeKeepsTheValuesOfTheInstall() throws Exception {
        int upgrades = 0;
        for (Path doc : List.of(Path.of("README.md"), Path.of("docs/install.md"), Path.of("docs/operations.md"),
                HelmChartTest.CHART.resolve("templates/NOTES.txt"))) {
            java.util.regex.Matcher upgrade = java.util.regex.Pattern.compile("helm upgrade [^`]*")
                    .matcher(Files.readString(doc));
            while (upgrade.find()) {
                upgrades++;
                assertTrue(upgrade.group().contains("--reset-then-reuse-values"), doc + ": without it an upgrade resets "
                        + "every --set of the install, the image repository first: " + upgrade.group());
            }
        }
        assertTrue(upgrades >= 3, "the README's, install.md's and the emergency upgrade: " + upgrades);
    }

    @Test
    void theDocumentedUpgradeChangesOnlyTheImageTagOfTheInstall() throws Exception {
        String install = command("helm install ", "--set image.repository=");
        java.util.regex.Matcher documented = java.util.regex.Pattern.compile("helm upgrade RELEASE [^`]*")
                .matcher(Files.readString(Path.of("docs/install.md")));
        assertTrue(documented.find(), "docs/install.md documents the upgrade");
        String upgrade = documented.group().replaceAll("\\s+", " ");
        assertTrue(upgrade.contains(" --reset-then-reuse-values "), upgrade);
        Map<String, String> installed = sets(install);
        Map<String, String> afterwards = new LinkedHashMap<>(installed);
        afterwards.putAll(sets(upgrade));
        assertEquals(Map.of("image.tag", "VERSION"), sets(upgrade), "the upgrade sets the new tag only");
        afterwards.put("image.tag", "9.9.9");
        String namespace = install.replaceAll(".* --namespace ([^ ]+).*", "$1");
        Map<String, JsonNode> before = render("dockerconfig-webhook", namespace, installed);
        Map<String, JsonNode> after = render("dockerconfig-webhook", namespace, afterwards);
        assertEquals(before.keySet(), after.keySet(), "the same objects");
        for (String object : before.keySet()) {
            String expected = before.get(object).toString().replace(":" + installed.get("image.tag") + "\"", ":9.9.9\"");
            assertEquals(expected, after.get(object).toString(), object + " changed by more than its image tag");
        }
    }

    @Test
    void theEmergencyCommandChangesOnlyTheFailurePolicyOfTheInstall() throws Exception {
        String install = command("helm install ", "--set image.repository=");
        String emergency = command("helm upgrade ", "webhook.failurePolicy=Ignore");
        String[] installWords = install.split(" ");
        String[] emergencyWords = emergency.split(" ");
        assertEquals(installWords[2], emergencyWords[2], "the same release");
        assertEquals(installWords[3], emergencyWords[3], "the same chart");
        assertTrue(emergency.contains(" --reset-then-reuse-values "), "the install's values are kept: " + emergency);
        String namespace = install.replaceAll(".* --namespace ([^ ]+).*", "$1");
        assertTrue(emergency.contains(" -n " + namespace + " ") || emergency.contains(" --namespace " + namespace + " "));

        Map<String, String> installed = sets(install);
        Map<String, String> afterwards = new LinkedHashMap<>(installed);
        afterwards.putAll(sets(emergency)); // what --reset-then-reuse-values gives: the install's values, then these
        Map<String, JsonNode> before = render(installWords[2], namespace, installed);
        Map<String, JsonNode> after = render(installWords[2], namespace, afterwards);
        assertEquals(before.keySet(), after.keySet(), "the same objects");
        String key = before.keySet().stream().filter(k -> k.startsWith("MutatingWebhookConfiguration/")).findFirst()
                .orElseThrow();
        JsonNode webhook = after.get(key).get("webhooks").get(0);
        assertEquals("Ignore", webhook.get("failurePolicy").asText());
        ((com.fasterxml.jackson.databind.node.ObjectNode) webhook).put("failurePolicy", "Fail");
        for (String object : before.keySet()) {
            assertEquals(before.get(object), after.get(object), object + " changed by more than its failurePolicy");
        }
        assertNotNull(installed.get("image.repository"));
    }
}
