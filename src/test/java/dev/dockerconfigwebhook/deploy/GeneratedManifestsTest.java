package dev.dockerconfigwebhook.deploy;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The Helm chart is the one hand-edited source of every manifest: the YAML of deploy/ that kustomize applies is
 * rendered from it. Each generated file must equal a fresh render, so a change made to the chart alone fails here
 * until {@code deploy/generate.sh} has written it, and a hand edit to a generated file fails until it is moved to the
 * chart. With {@code -Ddeploy.regenerate=true} (what deploy/generate.sh passes) the files are written instead.
 */
class GeneratedManifestsTest {

    /** The one hand-written object of deploy/: `helm install --create-namespace` makes it for the chart. */
    static final Path NAMESPACE = Path.of("deploy/base/namespace.yaml");

    /** Helm's own labels: they name a release and a chart, which a kustomize install has neither of. */
    private static final Pattern HELM_LABEL = Pattern.compile(
            "(?m)^ *(app\\.kubernetes\\.io/(instance|version|managed-by)|helm\\.sh/chart): .*\\n");

    /** One kustomize variant: a directory, the chart values it is rendered with, and the templates it takes. */
    record Variant(String directory, Map<String, Object> values, String onlyTemplate, boolean withNamespace) {
        Variant {
            values = new java.util.TreeMap<>(values); // Map.of has no stable order; the header must have one
        }
    }

    static final List<Variant> VARIANTS = List.of(
            new Variant("deploy/overlays/script", Map.of("certificates.source", "script"), null, true),
            new Variant("deploy/overlays/script/static-ca-bundle",
                    Map.of("certificates.source", "script", "caBundleKeeper.enabled", false), null, true),
            new Variant("deploy/overlays/cert-manager", Map.of("certificates.source", "cert-manager"), null, true),
            new Variant("deploy/overlays/cert-manager/static-ca-bundle",
                    Map.of("certificates.source", "cert-manager", "caBundleKeeper.enabled", false), null, true),
            new Variant("deploy/overlays/fail-open", Map.of("webhook.failurePolicy", "Ignore"), null, true),
            new Variant("deploy/audit", Map.of("audit.mode", "report"), "audit.yaml", false),
            new Variant("deploy/audit/fix", Map.of("audit.mode", "fix"), "audit.yaml", false));

    /** The chart requires a repository; kustomize's is the placeholder deploy/settings/settings.yaml replaces. */
    static final String PLACEHOLDER_REPOSITORY = "dockerconfig-webhook";

    private static final boolean REGENERATE = Boolean.getBoolean("deploy.regenerate");

    @TestFactory
    Stream<DynamicTest> everyGeneratedFileIsAFreshRenderOfTheChart() throws IOException {
        Map<Path, String> expected = new LinkedHashMap<>();
        // deploy/base: the default values, one file per chart template, so that deploy/base/deployment.yaml reads
        // like the chart's templates/deployment.yaml.
        for (Map.Entry<String, List<String>> template : bySourceTemplate(render(Map.of())).entrySet()) {
            expected.put(Path.of("deploy/base", template.getKey()),
                    header("the default values") + String.join("---\n", template.getValue()));
        }
        for (Variant variant : VARIANTS) {
            Map<String, List<String>> templates = bySourceTemplate(render(variant.values()));
            List<String> documents = new ArrayList<>();
            if (variant.withNamespace()) documents.add(Files.readString(NAMESPACE));
            templates.forEach((name, docs) -> {
                if (variant.onlyTemplate() == null || variant.onlyTemplate().equals(name)) documents.addAll(docs);
            });
            expected.put(Path.of(variant.directory(), "manifests.yaml"),
                    header(variant.values().entrySet().stream().map(e -> e.getKey() + "=" + e.getValue())
                            .collect(Collectors.joining(" ")) + (variant.onlyTemplate() == null ? ""
                            : ", templates/" + variant.onlyTemplate() + " only")) + String.join("---\n", documents));
        }
        if (REGENERATE) {
            for (Map.Entry<Path, String> file : expected.entrySet()) {
                Files.createDirectories(file.getKey().getParent());
                Files.writeString(file.getKey(), file.getValue());
            }
        }
        return expected.entrySet().stream().map(file -> DynamicTest.dynamicTest(file.getKey().toString(), () ->
                assertEquals(file.getValue(), Files.exists(file.getKey()) ? Files.readString(file.getKey()) : "(missing)",
                        file.getKey() + " differs from the chart's render: edit the chart and run deploy/generate.sh")));
    }

    private static String header(String values) {
        return "# Generated by deploy/generate.sh from the Helm chart (deploy/helm/dockerconfig-webhook) with " + values
                + " (and image.repository=" + PLACEHOLDER_REPOSITORY + ").\n# Do not edit: change the chart and run deploy/generate.sh. The image and the namespace are set in"
                + " deploy/settings/settings.yaml.\n";
    }

    private static String render(Map<String, Object> values) {
        Map<String, Object> all = new LinkedHashMap<>(Map.of("image.repository", PLACEHOLDER_REPOSITORY));
        all.putAll(values);
        return HELM_LABEL.matcher(HelmChartTest.render("dockerconfig-webhook", DeployManifestsTest.NS, all)).replaceAll("");
    }

    /** The rendered documents grouped by the template that made them (Helm's "# Source:" line), in render order. */
    private static Map<String, List<String>> bySourceTemplate(String rendered) {
        Map<String, List<String>> byTemplate = new LinkedHashMap<>();
        for (String document : rendered.split("(?m)^---\\n")) {
            if (document.isBlank()) continue;
            String source = document.lines().filter(l -> l.startsWith("# Source: ")).findFirst()
                    .orElseThrow(() -> new AssertionError("a document without a # Source: line:\n" + document));
            String template = source.substring(source.lastIndexOf('/') + 1);
            byTemplate.computeIfAbsent(template, t -> new ArrayList<>()).add(document);
        }
        return byTemplate;
    }
}
