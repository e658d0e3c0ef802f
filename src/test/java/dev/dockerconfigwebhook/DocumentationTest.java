package dev.dockerconfigwebhook;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Claims of the documentation that are cheap to check: every link resolves, every Helm value it names exists. */
class DocumentationTest {

    private static final Pattern LINK = Pattern.compile("\\]\\(([^)\\s]+)\\)");
    private static final Pattern CODE = Pattern.compile("`([^`]+)`");

    static List<Path> documents() throws Exception {
        List<Path> documents = new ArrayList<>(List.of(Path.of("README.md"), Path.of("CHANGELOG.md"),
                Path.of("SECURITY.md"), Path.of("BENCHMARKS.md")));
        try (Stream<Path> docs = Files.list(Path.of("docs"))) {
            docs.filter(p -> p.toString().endsWith(".md")).sorted().forEach(documents::add);
        }
        return documents;
    }

    /** GitHub's anchor of a heading: lower case, punctuation dropped, spaces as dashes. */
    static String anchor(String heading) {
        return heading.trim().toLowerCase(Locale.ROOT).replaceAll("[^\\p{L}\\p{N} _-]", "").replace(' ', '-');
    }

    static Set<String> anchors(Path markdown) throws Exception {
        Set<String> anchors = new TreeSet<>();
        boolean inCode = false;
        for (String line : Files.readAllLines(markdown)) {
            if (line.trim().startsWith("```")) inCode = !inCode;
            if (!inCode && line.startsWith("#")) anchors.add(anchor(line.replaceFirst("^#+ ", "")));
        }
        return anchors;
    }

    @Test
    void everyRelativeLinkPointsToAFileAndHeadingThatExist() throws Exception {
        List<String> broken = new ArrayList<>();
        int links = 0;
        for (Path document : documents()) {
            Matcher link = LINK.matcher(Files.readString(document));
            while (link.find()) {
                String target = link.group(1);
                if (target.matches("^[a-z]+:.*")) continue; // https:, mailto:
                links++;
                String file = target.contains("#") ? target.substring(0, target.indexOf('#')) : target;
                String fragment = target.contains("#") ? target.substring(target.indexOf('#') + 1) : null;
                Path resolved = file.isEmpty() ? document : document.toAbsolutePath().getParent().resolve(file).normalize();
                if (!Files.exists(resolved)) {
                    broken.add(document + ": " + target + " (no such file)");
                } else if (fragment != null && resolved.toString().endsWith(".md") && !anchors(resolved).contains(fragment)) {
                    broken.add(document + ": " + target + " (no such heading)");
                }
            }
        }
        assertTrue(links > 30, "the documents link to each other: " + links);
        assertEquals(List.of(), broken);
    }

    @Test
    void everyHelmValueTheValueTablesNameExistsInValuesYaml() throws Exception {
        JsonNode values = new ObjectMapper(new YAMLFactory())
                .readTree(Path.of("deploy/helm/dockerconfig-webhook/values.yaml").toFile());
        List<String> missing = new ArrayList<>();
        int named = 0;
        for (Path document : List.of(Path.of("README.md"), Path.of("docs/install.md"))) {
            boolean inTable = false;
            for (String line : Files.readAllLines(document)) {
                String row = line.trim();
                if (row.startsWith("| value |")) {
                    inTable = true;
                    continue;
                }
                if (!row.startsWith("|")) inTable = false;
                if (!inTable || row.startsWith("|---")) continue;
                Matcher code = CODE.matcher(row.split("\\|")[1]);
                String first = null;
                while (code.find()) {
                    String name = code.group(1);
                    if (first == null) first = name;
                    String full = name.startsWith(".") ? first.substring(0, first.lastIndexOf('.')) + name : name;
                    named++;
                    if (values.at("/" + full.replace('.', '/')).isMissingNode()) missing.add(document + ": " + full);
                }
            }
        }
        assertTrue(named > 30, "the tables name the values: " + named);
        assertEquals(List.of(), missing);
    }
}
