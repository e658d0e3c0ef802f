package dev.dockerconfigwebhook.config;

import dev.dockerconfigwebhook.testing.WebhookSettings;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * docs/operations.md's configuration reference lists exactly the settings {@link WebhookConfig} declares, each with the
 * default the mapping gives it. A row may name siblings after its first key as {@code `.name`}.
 */
class ConfigurationReferenceTest {

    private static final Pattern CODE = Pattern.compile("`([^`]+)`");

    @Test
    void theReferenceListsEverySettingOfTheMappingWithItsDefault() throws Exception {
        Map<String, String> documented = documentedSettings();
        Map<String, String> declared = WebhookSettings.all();
        assertEquals(declared.keySet(), documented.keySet(), "webhook.* settings: declared (left) vs documented (right)");
        for (Map.Entry<String, String> setting : declared.entrySet()) {
            if (setting.getValue() == null) continue;
            assertTrue(documented.get(setting.getKey()).contains("`" + setting.getValue() + "`"),
                    setting.getKey() + ": the documented default should name `" + setting.getValue() + "`: "
                            + documented.get(setting.getKey()));
        }
    }

    /** Each webhook.* setting named in the reference table, with the default column of its row. */
    private static Map<String, String> documentedSettings() throws Exception {
        String doc = Files.readString(Path.of("docs/operations.md"));
        String table = doc.substring(doc.indexOf("## Configuration reference"));
        Map<String, String> settings = new java.util.TreeMap<>();
        for (String row : table.lines().takeWhile(l -> !l.startsWith("So running")).toList()) {
            if (!row.startsWith("| `webhook.")) continue;
            String[] cells = row.split("\\|");
            List<String> names = new ArrayList<>();
            Matcher code = CODE.matcher(cells[1]);
            while (code.find()) names.add(code.group(1));
            String first = names.get(0);
            for (String name : names) {
                if (name.startsWith("WEBHOOK_")) continue;
                String full = name.startsWith(".") ? first.substring(0, first.lastIndexOf('.')) + name : name;
                settings.put(full, cells[2]);
            }
        }
        return settings;
    }
}
