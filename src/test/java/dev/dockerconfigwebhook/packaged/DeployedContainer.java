package dev.dockerconfigwebhook.packaged;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.utils.Serialization;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** The webhook container of deploy/base/deployment.yaml: what tests run the packaged application with. */
final class DeployedContainer {

    static final Path DEPLOYMENT = Path.of("deploy/base/deployment.yaml");

    private DeployedContainer() {
    }

    static Container container() {
        try (InputStream in = Files.newInputStream(DEPLOYMENT)) {
            Deployment deployment = Serialization.unmarshal(in, Deployment.class);
            return deployment.getSpec().getTemplate().getSpec().getContainers().stream()
                    .filter(c -> c.getName().equals("webhook")).findFirst().orElseThrow();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** The container's literal environment variables (JAVA_OPTS, MALLOC_ARENA_MAX). */
    static Map<String, String> env() {
        Map<String, String> env = new LinkedHashMap<>();
        for (EnvVar var : container().getEnv()) {
            env.put(var.getName(), var.getValue());
        }
        return env;
    }
}
