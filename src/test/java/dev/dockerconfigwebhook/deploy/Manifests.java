package dev.dockerconfigwebhook.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Renders a kustomize directory of deploy/ the way `kubectl apply -k` would, and parses it with fabric8. */
final class Manifests {

    private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();
    private static final ObjectMapper JSON = new ObjectMapper();

    private final List<HasMetadata> objects;

    private Manifests(List<HasMetadata> objects) {
        this.objects = objects;
    }

    static Manifests render(String directory) throws IOException, InterruptedException {
        return new Manifests(parse(kustomize(directory)));
    }

    /** Objects from rendered YAML (e.g. `helm template`). */
    static Manifests of(String yaml) {
        return new Manifests(parse(yaml));
    }

    /** The labels Helm adds to every object and selector; without them a chart's objects read like deploy/'s. */
    static final Set<String> HELM_LABELS = Set.of("app.kubernetes.io/instance", "app.kubernetes.io/version",
            "app.kubernetes.io/managed-by", "helm.sh/chart");

    /** The same objects with {@link #HELM_LABELS} removed wherever a label map holds them (labels and selectors). */
    Manifests withoutHelmLabels() {
        List<HasMetadata> stripped = new ArrayList<>();
        for (HasMetadata o : objects) {
            JsonNode tree = tree(o);
            strip(tree);
            stripped.add(SERIALIZATION.unmarshal(tree.toString(), HasMetadata.class));
        }
        return new Manifests(stripped);
    }

    private static JsonNode tree(HasMetadata o) {
        try {
            return JSON.readTree(SERIALIZATION.asJson(o));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static void strip(JsonNode node) {
        if (node instanceof ObjectNode object) {
            HELM_LABELS.forEach(object::remove);
            object.forEach(Manifests::strip);
        } else if (node.isArray()) {
            node.forEach(Manifests::strip);
        }
    }

    /** Only the objects labelled app.kubernetes.io/component={@code component}. */
    Manifests withComponent(String component) {
        return new Manifests(objects.stream().filter(o -> o.getMetadata().getLabels() != null
                && component.equals(o.getMetadata().getLabels().get("app.kubernetes.io/component"))).toList());
    }

    /** Each object as a JSON tree, keyed by kind/name, for comparing two renderings object by object. */
    java.util.Map<String, JsonNode> byKindAndName() {
        java.util.Map<String, JsonNode> map = new java.util.TreeMap<>();
        for (HasMetadata o : objects) {
            map.put(o.getKind() + "/" + o.getMetadata().getName(), tree(o));
        }
        return map;
    }

    /** Plain concatenation of the files a base lists: what the base is without kustomize (it has no transformers). */
    static Manifests readBaseFiles() throws IOException {
        Path base = Path.of("deploy/base");
        StringBuilder all = new StringBuilder();
        for (String line : Files.readAllLines(base.resolve("kustomization.yaml"))) {
            if (line.matches("\\s+- [\\w.-]+\\.yaml\\s*")) {
                all.append(Files.readString(base.resolve(line.trim().substring(2)))).append("\n---\n");
            }
        }
        return new Manifests(parse(all.toString()));
    }

    List<HasMetadata> all() {
        return objects;
    }

    <T extends HasMetadata> T one(Class<T> type) {
        List<T> found = objects.stream().filter(type::isInstance).map(type::cast).collect(Collectors.toList());
        if (found.size() != 1) throw new AssertionError("expected one " + type.getSimpleName() + ", found " + found.size());
        return found.get(0);
    }

    HasMetadata named(String kind, String name) {
        return objects.stream().filter(o -> o.getKind().equals(kind) && o.getMetadata().getName().equals(name))
                .findFirst().orElseThrow(() -> new AssertionError("no " + kind + " " + name));
    }

    private static String kustomize(String directory) throws IOException, InterruptedException {
        assumeTrue(onPath("kubectl"), "kubectl (with its built-in kustomize) is needed to render " + directory);
        Process process = new ProcessBuilder("kubectl", "kustomize", directory).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
            throw new AssertionError("kubectl kustomize " + directory + " failed:\n" + output);
        }
        return output;
    }

    static boolean onPath(String command) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (Files.isExecutable(Path.of(dir, command))) return true;
        }
        return false;
    }

    private static List<HasMetadata> parse(String yaml) {
        List<HasMetadata> parsed = new ArrayList<>();
        for (String document : yaml.split("(?m)^---\\s*$")) {
            if (document.lines().anyMatch(l -> l.startsWith("kind:"))) {
                parsed.add(SERIALIZATION.unmarshal(document, HasMetadata.class));
            }
        }
        return parsed;
    }
}
