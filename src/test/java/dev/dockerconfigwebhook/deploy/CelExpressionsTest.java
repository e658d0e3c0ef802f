package dev.dockerconfigwebhook.deploy;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cel.common.CelAbstractSyntaxTree;
import dev.cel.common.CelOptions;
import dev.cel.common.types.SimpleType;
import dev.cel.compiler.CelCompiler;
import dev.cel.compiler.CelCompilerFactory;
import dev.cel.parser.CelStandardMacro;
import dev.cel.extensions.CelExtensions;
import dev.cel.runtime.CelRuntime;
import dev.cel.runtime.CelRuntimeFactory;
import dev.dockerconfigwebhook.testing.Expectation;
import dev.dockerconfigwebhook.testing.Fixtures;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfiguration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every CEL expression the manifests ship, compiled and evaluated by the CEL reference implementation for Java with
 * the variables the API server binds ({@code object}, {@code oldObject}, {@code request}; optional syntax, as
 * Kubernetes enables it): the test API server is 1.20 and evaluates none of them. The expressions are read from the
 * chart as rendered for release {@code acme} in namespace {@code infra} (HelmChartTest checks that {@code deploy/}
 * renders the same).
 */
class CelExpressionsTest {

    private static final String ACCOUNT = "system:serviceaccount:infra:acme-dockerconfig-webhook";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final CelOptions OPTIONS = CelOptions.current().enableOptionalSyntax(true).build();
    private static final CelCompiler COMPILER = CelCompilerFactory.standardCelCompilerBuilder().setOptions(OPTIONS)
            .setStandardMacros(CelStandardMacro.STANDARD_MACROS).addLibraries(CelExtensions.optional()).addVar("object", SimpleType.DYN).addVar("oldObject", SimpleType.DYN)
            .addVar("request", SimpleType.DYN).build();
    private static final CelRuntime RUNTIME = CelRuntimeFactory.standardCelRuntimeBuilder().setOptions(OPTIONS)
            .addLibraries(CelExtensions.optional()).build();

    private static final Manifests CHART = Manifests.of(HelmChartTest.render("acme", "infra",
            Map.of("image.repository", HelmChartTest.REPOSITORY)));
    private static final MutatingWebhookConfiguration CONFIGURATION = CHART.one(MutatingWebhookConfiguration.class);
    private static final Map<String, Object> POLICY = asMap(CHART.named("ValidatingAdmissionPolicy",
            "acme-dockerconfig-webhook-service-account"));

    /** Evaluates {@code expression}; a CEL error fails the test (the API server would fail the request closed). */
    static boolean eval(String expression, Object object, Object oldObject, Object request) {
        try {
            CelAbstractSyntaxTree ast = COMPILER.compile(expression).getAst();
            Map<String, Object> variables = new HashMap<>();
            variables.put("object", object == null ? dev.cel.common.values.NullValue.NULL_VALUE : object);
            variables.put("oldObject", oldObject == null ? dev.cel.common.values.NullValue.NULL_VALUE : oldObject);
            variables.put("request", request);
            return (Boolean) RUNTIME.createProgram(ast).eval(variables);
        } catch (Exception e) {
            throw new AssertionError("CEL: " + e.getMessage() + "\n" + expression, e);
        }
    }

    // --- The webhook's matchConditions: only pull secrets are ever sent to the webhook.

    private static String pullSecretsOnly() {
        var conditions = CONFIGURATION.getWebhooks().get(0).getMatchConditions();
        assertEquals(1, conditions.size());
        return conditions.get(0).getExpression();
    }

    static Stream<Expectation> recorded() {
        return Expectation.ALL.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("recorded")
    void theRecordedReviewsReachTheWebhookExactlyWhenTheyArePullSecrets(Expectation expected) throws Exception {
        Map<String, Object> review = tree(Fixtures.bytes(expected.fixture()));
        Map<String, Object> request = map(review.get("request"));
        Map<String, Object> object = map(request.get("object"));
        String type = String.valueOf(object.get("type"));
        boolean pullSecret = type.equals("kubernetes.io/dockerconfigjson") || type.equals("kubernetes.io/dockercfg");
        assertEquals(!expected.fixture().contains("opaque"), pullSecret, "the fixture is what its name says");
        assertEquals(pullSecret, eval(pullSecretsOnly(), object, request.get("oldObject"), request));
    }

    static Stream<Arguments> craftedObjects() {
        return Stream.of(
                Arguments.of("dockerconfigjson", secret("kubernetes.io/dockerconfigjson"), true),
                Arguments.of("legacy dockercfg", secret("kubernetes.io/dockercfg"), true),
                Arguments.of("Opaque", secret("Opaque"), false),
                Arguments.of("tls", secret("kubernetes.io/tls"), false),
                Arguments.of("service-account-token", secret("kubernetes.io/service-account-token"), false),
                Arguments.of("no type", withoutType(secret("x")), false),
                Arguments.of("no object (a DELETE)", null, false));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("craftedObjects")
    void everyOtherSecretNeverWaitsForTheWebhook(String name, Map<String, Object> object, boolean sent) {
        Map<String, Object> request = request(object == null ? "DELETE" : "CREATE", "secrets", "alice");
        assertEquals(sent, eval(pullSecretsOnly(), object, null, request));
    }

    // --- The ValidatingAdmissionPolicy: what the webhook's ServiceAccount may write.

    @Test
    void thePolicyIsBoundAndAppliesToTheWebhooksServiceAccountOnly() {
        Map<String, Object> spec = map(asMap(CHART.named("ValidatingAdmissionPolicyBinding",
                "acme-dockerconfig-webhook-service-account")).get("spec"));
        assertEquals("acme-dockerconfig-webhook-service-account", spec.get("policyName"));
        assertEquals(List.of("Deny"), spec.get("validationActions"));
        assertEquals("Fail", map(POLICY.get("spec")).get("failurePolicy"));
        @SuppressWarnings("unchecked")
        String matchCondition = (String) ((List<Map<String, Object>>) map(POLICY.get("spec")).get("matchConditions"))
                .get(0).get("expression");
        assertTrue(eval(matchCondition, secret("Opaque"), null, request("CREATE", "secrets", ACCOUNT)));
        assertFalse(eval(matchCondition, secret("Opaque"), null, request("CREATE", "secrets", "alice")));
        assertFalse(eval(matchCondition, secret("Opaque"), null,
                request("CREATE", "secrets", "system:serviceaccount:other:acme-dockerconfig-webhook")));
    }

    /** Whether the policy lets the webhook's ServiceAccount make this write: every validation must hold. */
    private static boolean allowed(Object object, Object oldObject, Map<String, Object> request) {
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> validations = (List<Map<String, Object>>) map(POLICY.get("spec")).get("validations");
        assertEquals(2, validations.size());
        return validations.stream().allMatch(v -> eval((String) v.get("expression"), object, oldObject, request));
    }

    static Stream<Arguments> secretWrites() {
        return Stream.of(
                Arguments.of("create its CA Secret", "CREATE", named(secret("kubernetes.io/tls"), "acme-dockerconfig-webhook-ca"), true),
                Arguments.of("update its TLS Secret", "UPDATE", named(secret("kubernetes.io/tls"), "acme-dockerconfig-webhook-tls"), true),
                Arguments.of("create another Secret", "CREATE", named(secret("kubernetes.io/tls"), "stolen"), false),
                Arguments.of("create its CA Secret as Opaque", "CREATE", named(secret("Opaque"), "acme-dockerconfig-webhook-ca"), false),
                Arguments.of("create a pull secret", "CREATE", named(secret("kubernetes.io/dockerconfigjson"), "acme-dockerconfig-webhook-tls"), false));
    }

    @ParameterizedTest(name = "{0}: allowed {3}")
    @MethodSource("secretWrites")
    void theServiceAccountWritesOnlyItsTwoTlsSecrets(String name, String operation, Map<String, Object> secret, boolean allowed) {
        Object old = operation.equals("UPDATE") ? secret : null;
        assertEquals(allowed, allowed(secret, old, request(operation, "secrets", ACCOUNT)));
    }

    static Stream<Arguments> configurationChanges() {
        return Stream.<Arguments>of(
                change("only caBundle", true, c -> webhook(c).put("clientConfig", with(map(webhook(c).get("clientConfig")),
                        "caBundle", "bmV3"))),
                change("the rules: every resource", false, c -> webhook(c).put("rules", List.of(Map.of("apiGroups", List.of("*"),
                        "apiVersions", List.of("*"), "resources", List.of("*"), "operations", List.of("*"))))),
                change("the URL: elsewhere", false, c -> webhook(c).put("clientConfig", Map.of("url", "https://evil.example/mutate"))),
                change("the service", false, c -> webhook(c).put("clientConfig", with(map(webhook(c).get("clientConfig")),
                        "service", Map.of("name", "other", "namespace", "infra")))),
                change("failurePolicy", false, c -> webhook(c).put("failurePolicy", "Ignore")),
                change("namespaceSelector", false, c -> webhook(c).put("namespaceSelector", Map.of())),
                change("objectSelector", false, c -> webhook(c).remove("objectSelector")),
                change("matchConditions", false, c -> webhook(c).remove("matchConditions")),
                change("timeoutSeconds", false, c -> webhook(c).put("timeoutSeconds", 30L)),
                change("a webhook added", false, c -> webhooks(c).add(with(webhook(c), "name", "second.example.dev"))),
                change("a webhook renamed", false, c -> webhook(c).put("name", "renamed.example.dev")),
                change("a label", false, c -> map(c.get("metadata")).put("labels", Map.of("x", "y"))),
                change("an annotation", false, c -> map(c.get("metadata")).put("annotations", Map.of("x", "y"))));
    }

    @ParameterizedTest(name = "{0}: allowed {1}")
    @MethodSource("configurationChanges")
    void theServiceAccountChangesNothingOfItsConfigurationButCaBundle(String name, boolean allowed,
            Consumer<Map<String, Object>> change) throws Exception {
        Map<String, Object> before = configuration();
        webhook(before).put("clientConfig", with(map(webhook(before).get("clientConfig")), "caBundle", "b2xk"));
        Map<String, Object> after = tree(JSON.writeValueAsBytes(before));
        change.accept(after);
        assertEquals(allowed, allowed(after, before, request("UPDATE", "mutatingwebhookconfigurations", ACCOUNT)));
    }

    @Test
    void theServiceAccountCreatesNoConfiguration() throws Exception {
        assertFalse(allowed(configuration(), null, request("CREATE", "mutatingwebhookconfigurations", ACCOUNT)));
    }

    private static Arguments change(String name, boolean allowed, Consumer<Map<String, Object>> change) {
        return Arguments.of(name, allowed, change);
    }

    // --- Objects as the API server hands them to CEL: JSON trees (integers as int64).

    private static Map<String, Object> configuration() throws Exception {
        return tree(JSON.writeValueAsBytes(CONFIGURATION));
    }

    @SuppressWarnings("unchecked")
    private static List<Object> webhooks(Map<String, Object> configuration) {
        return (List<Object>) configuration.get("webhooks");
    }

    private static Map<String, Object> webhook(Map<String, Object> configuration) {
        return map(webhooks(configuration).get(0));
    }

    private static Map<String, Object> secret(String type) {
        Map<String, Object> secret = new LinkedHashMap<>();
        secret.put("apiVersion", "v1");
        secret.put("kind", "Secret");
        secret.put("metadata", new LinkedHashMap<>(Map.of("name", "s", "namespace", "infra")));
        secret.put("type", type);
        secret.put("data", Map.of("k", "dg=="));
        return secret;
    }

    private static Map<String, Object> named(Map<String, Object> secret, String name) {
        map(secret.get("metadata")).put("name", name);
        return secret;
    }

    private static Map<String, Object> withoutType(Map<String, Object> secret) {
        secret.remove("type");
        return secret;
    }

    private static Map<String, Object> with(Map<String, Object> map, String key, Object value) {
        Map<String, Object> copy = new LinkedHashMap<>(map);
        copy.put(key, value);
        return copy;
    }

    private static Map<String, Object> request(String operation, String resource, String user) {
        return Map.of("operation", operation, "resource", Map.of("group", "", "version", "v1", "resource", resource),
                "userInfo", Map.of("username", user), "namespace", "infra");
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> asMap(Object object) {
        return (Map<String, Object>) JSON.convertValue(object, Map.class);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object value) {
        return (Map<String, Object>) value;
    }

    /** JSON as CEL sees it: objects as maps, integers as long. */
    @SuppressWarnings("unchecked")
    private static Map<String, Object> tree(byte[] json) throws Exception {
        return (Map<String, Object>) int64(JSON.readValue(json, Object.class));
    }

    private static Object int64(Object value) {
        if (value instanceof Integer i) return i.longValue();
        if (value instanceof Map<?, ?> m) {
            Map<String, Object> copy = new LinkedHashMap<>();
            m.forEach((k, v) -> copy.put((String) k, int64(v)));
            return copy;
        }
        if (value instanceof List<?> l) {
            List<Object> copy = new ArrayList<>();
            l.forEach(v -> copy.add(int64(v)));
            return copy;
        }
        return value;
    }
}
