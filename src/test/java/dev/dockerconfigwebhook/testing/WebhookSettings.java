package dev.dockerconfigwebhook.testing;

import dev.dockerconfigwebhook.config.WebhookConfig;
import io.smallrye.config.ConfigMappingInterface.Property;
import io.smallrye.config.ConfigMappings;

import java.util.Map;
import java.util.TreeMap;

/** The settings {@link WebhookConfig} declares, read from the mapping itself with SmallRye Config's own model of it. */
public final class WebhookSettings {

    private WebhookSettings() {
    }

    /** Every property name ({@code webhook.…}) with its default, or null where it has none. */
    public static Map<String, String> all() {
        Map<String, String> settings = new TreeMap<>();
        for (Map.Entry<String, Property> entry : ConfigMappings.getProperties(
                ConfigMappings.ConfigClass.configClass(WebhookConfig.class, "webhook")).entrySet()) {
            Property property = entry.getValue();
            settings.put(entry.getKey(), property.hasDefaultValue() ? property.getDefaultValue() : null);
        }
        return settings;
    }

    /** The default of one setting; fails when the mapping has no such setting or no default for it. */
    public static String defaultOf(String name) {
        Map<String, String> all = all();
        if (!all.containsKey(name) || all.get(name) == null) throw new AssertionError("no default for " + name + ": " + all);
        return all.get(name);
    }
}
