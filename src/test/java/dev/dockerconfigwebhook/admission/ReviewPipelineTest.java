package dev.dockerconfigwebhook.admission;

import dev.dockerconfigwebhook.testing.Expectation;
import dev.dockerconfigwebhook.testing.Fixtures;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.charset.StandardCharsets;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The admission core without HTTP or Quarkus: bytes in through {@link AdmissionReviewReader}, a decision by
 * {@link SecretMutator}, bytes out through {@link AdmissionReviewWriter}. Every recorded review gives the answer its
 * expectation describes; every malformed body gives exactly the one-line reason the 400 answer carries.
 */
class ReviewPipelineTest {

    static Stream<Expectation> fixtures() {
        return Expectation.ALL.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fixtures")
    void recordedReviewsGiveTheExpectedAnswer(Expectation expected) throws Exception {
        byte[] body = Fixtures.bytes(expected.fixture());
        ReviewRequest request = AdmissionReviewReader.read(body, body.length);
        SecretMutator.Decision decision = new SecretMutator(false).mutate(request);
        expected.assertAnswer(AdmissionReviewWriter.write(decision.response()));
    }

    /**
     * {@link AdmissionReviewReader#read} reads {@code body[0, length)} and nothing after it.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("fixtures")
    void recordedReviewsInALongerArrayGiveTheSameAnswer(Expectation expected) throws Exception {
        byte[] body = Fixtures.bytes(expected.fixture());
        ReviewRequest request = AdmissionReviewReader.read(longerArray(body), body.length);
        SecretMutator.Decision decision = new SecretMutator(false).mutate(request);
        expected.assertAnswer(AdmissionReviewWriter.write(decision.response()));
    }

    /** {@code body} at the start of a longer array whose rest is JSON that would complete or change it. */
    private static byte[] longerArray(byte[] body) {
        byte[] after = "\"}}}]]},\"request\":{\"uid\":\"stale\"}}".getBytes(StandardCharsets.UTF_8);
        byte[] array = new byte[body.length + 4 * after.length];
        for (int i = body.length; i < array.length; i++) {
            array[i] = after[(i - body.length) % after.length];
        }
        System.arraycopy(body, 0, array, 0, body.length);
        return array;
    }

    /**
     * What the API server accepts is read, however long its names and numbers: a managedFields key of 100,000
     * characters (Jackson's default stops at 50,000) and a number of 5,000 digits (its default: 1,000), both in fields
     * the reader skips, leave the answer what it was.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("fixtures")
    void longNamesAndNumbersTheApiServerAcceptsAreRead(Expectation expected) throws Exception {
        String body = new String(Fixtures.bytes(expected.fixture()), StandardCharsets.UTF_8);
        java.util.regex.Matcher request = java.util.regex.Pattern.compile("\"request\"\\s*:\\s*\\{").matcher(body);
        assertTrue(request.find(), expected.fixture());
        String longer = body.substring(0, request.end()) + "\"managedFields\":[{\"fieldsV1\":{\"f:" + "k".repeat(100_000)
                + "\":{}}}],\"generation\":" + "1".repeat(5_000) + "," + body.substring(request.end());
        byte[] bytes = longer.getBytes(StandardCharsets.UTF_8);
        ReviewRequest read = AdmissionReviewReader.read(bytes, bytes.length);
        expected.assertAnswer(AdmissionReviewWriter.write(new SecretMutator(false).mutate(read).response()));
    }

    private static final String ENVELOPE = "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",";

    static Stream<Arguments> badBodies() {
        return Stream.of(
                Arguments.of("", "request body is empty; expected an admission.k8s.io/v1 AdmissionReview"),
                Arguments.of("{\"apiVersion\":\"admission.k8s.io/v1beta1\",\"kind\":\"AdmissionReview\",\"request\":{}}",
                        "expected apiVersion admission.k8s.io/v1 and kind AdmissionReview "
                                + "(register the webhook with admissionReviewVersions: [v1])"),
                Arguments.of(ENVELOPE + "\"x\":1}", "AdmissionReview has no request"),
                Arguments.of(ENVELOPE + "\"request\":{\"operation\":\"CREATE\"}}", "AdmissionReview request has no uid"),
                Arguments.of(ENVELOPE + "\"request\":[]}",
                        "request body is not an AdmissionReview: request must be an object (line 1, column 72)"),
                Arguments.of(ENVELOPE + "\"request\":{\"uid\":7}}",
                        "request body is not an AdmissionReview: request.uid must be a string (line 1, column 79)"),
                Arguments.of(ENVELOPE + "\"request\":{\"uid\":\"u\",\"object\":{\"data\":{\"k\":1}}}}",
                        "request body is not an AdmissionReview: request.object.data must be an object of strings "
                                + "(line 1, column 105)"),
                Arguments.of(ENVELOPE + "\"request\":{\"uid\":\"u\"", "request body is truncated JSON"),
                Arguments.of(ENVELOPE + "\"request\":{\"uid\":\"u\"}} x", "request body has data after the AdmissionReview"),
                Arguments.of("{\"a\":tru}", "request body is not valid JSON (line 1, column 6)"),
                Arguments.of("[".repeat(10_001) + "]".repeat(10_001),
                        "request body is not an AdmissionReview: the request body must be an object (line 1, column 1)"),
                Arguments.of(ENVELOPE + "\"x\":" + "[".repeat(10_000) + "]".repeat(10_000) + "}",
                        "request body is nested deeper than 10000 levels"));
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource("badBodies")
    void malformedBodiesGiveTheExactReason(String body, String reason) {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        BadReviewException e = assertThrows(BadReviewException.class, () -> AdmissionReviewReader.read(bytes, bytes.length));
        assertEquals(reason, e.getMessage());
        BadReviewException inLongerArray = assertThrows(BadReviewException.class,
                () -> AdmissionReviewReader.read(longerArray(bytes), bytes.length));
        assertEquals(reason, inLongerArray.getMessage(), "the bytes after the body are not read");
    }
}
