package dev.dockerconfigwebhook.deploy;

import io.fabric8.kubernetes.api.model.apps.Deployment;
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
 * The project's version (pom.xml) is the one version: the chart's version and appVersion, the image tag the
 * documented build makes and the chart deploys by default, the kustomize image and the Dockerfile's default all carry
 * it, and CHANGELOG.md has its section. A release changes pom.xml and whatever this test then names.
 */
class ReleaseVersionTest {

    static String projectVersion() throws Exception {
        Matcher version = Pattern.compile("<artifactId>dockerconfig-webhook</artifactId>\\s*<version>([^<]+)</version>")
                .matcher(Files.readString(Path.of("pom.xml")));
        assertTrue(version.find(), "pom.xml names its version right after its artifactId");
        return version.group(1);
    }

    private static List<String> all(String regex, Path file) throws Exception {
        List<String> found = new ArrayList<>();
        Matcher m = Pattern.compile(regex, Pattern.MULTILINE).matcher(Files.readString(file));
        while (m.find()) found.add(m.group(1));
        return found;
    }

    @Test
    void everyPlaceThatNamesTheVersionNamesTheProjectVersion() throws Exception {
        String version = projectVersion();
        Path chart = HelmChartTest.CHART.resolve("Chart.yaml");
        assertEquals(List.of(version), all("^version: (\\S+)$", chart), "Chart.yaml version");
        assertEquals(List.of(version), all("^appVersion: \"([^\"]+)\"$", chart), "Chart.yaml appVersion");
        assertEquals(List.of(version), all("^ARG VERSION=(\\S+)$", Path.of("src/main/docker/Dockerfile.jvm")),
                "the Dockerfile's default VERSION");
        assertEquals(List.of("dockerconfig-webhook:" + version), all("^  image: (\\S+)$", Path.of("deploy/settings/settings.yaml")),
                "the kustomize image");
        for (Path doc : List.of(Path.of("README.md"), Path.of("docs/install.md"), Path.of("docs/gitops.md"))) {
            List<String> named = new ArrayList<>();
            named.addAll(all("--build-arg VERSION=(\\d[\\w.-]*)", doc));
            named.addAll(all("dockerconfig-webhook:(\\d[\\w.-]*)", doc));
            named.addAll(all("image\\.tag=(\\d[\\w.-]*)", doc));
            named.addAll(all("tag: \"(\\d[\\w.-]*)\"", doc));
            for (String tag : named) assertEquals(version, tag, doc + " names another version");
        }
        assertTrue(Files.readString(Path.of("CHANGELOG.md")).contains(version.endsWith("-SNAPSHOT") ? "## [Unreleased]"
                : "## [" + version + "]"), "CHANGELOG.md has the section of " + version);
    }

    @Test
    void theImageTheReadmeBuildsIsTheImageTheChartDeploysByDefault() throws Exception {
        String build = ReadmeCommandsTest.command("docker build ", "Dockerfile.jvm");
        String built = build.replaceAll(".* -t ([^ ]+) .*", "$1");
        String install = ReadmeCommandsTest.command("helm install ", "--set image.repository=");
        String repository = ReadmeCommandsTest.sets(install).get("image.repository");
        assertEquals(built.substring(0, built.lastIndexOf(':')), repository, "the install deploys the repository built");
        String deployed = Manifests.of(HelmChartTest.render("dockerconfig-webhook", DeployManifestsTest.NS,
                        Map.of("image.repository", repository)))
                .one(Deployment.class).getSpec().getTemplate().getSpec().getContainers().get(0).getImage();
        assertEquals(built, deployed, "with no image.tag the chart deploys the tag the build made");
        assertEquals(repository + ":" + projectVersion(), built);
    }
}
