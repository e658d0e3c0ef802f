package dev.dockerconfigwebhook.tls;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** Which engine {@link TlsEngine#choose} picks, and the reason it logs when BoringSSL cannot load. */
class TlsEngineChoiceTest {

    @Test
    void boringSslLoadsOnTheBuildMachineAndTheJdkEngineIsTakenWhenAskedFor() {
        TlsEngine.Choice openssl = TlsEngine.choose(TlsEngine.OPENSSL);
        assertEquals(TlsEngine.OPENSSL, openssl.engine(), "fell back: " + openssl.fallbackReason());
        assertNull(openssl.fallbackReason());
        assertEquals("BoringSSL", openssl.description());

        TlsEngine.Choice jdk = TlsEngine.choose(TlsEngine.JDK);
        assertEquals(TlsEngine.JDK, jdk.engine());
        assertNull(jdk.fallbackReason(), "chosen, not fallen back to");
        assertEquals("the JDK", jdk.description());
    }

    static Stream<Arguments> unavailable() {
        IllegalArgumentException noLibrary = new IllegalArgumentException("Failed to load any of the given libraries: [a, b]");
        noLibrary.addSuppressed(new UnsatisfiedLinkError("could not load a native library: a") {
            { initCause(new IOException("/tmp/liba.so: failed to map segment from shared object")); }
        });
        noLibrary.addSuppressed(new UnsatisfiedLinkError("could not load a native library: b"));
        return Stream.of(
                Arguments.of("no cause given: the library loaded without ALPN", null,
                        "the native library does not support ALPN"),
                Arguments.of("a plain cause", new UnsupportedOperationException("OpenSSL was explicitly disabled"),
                        "\"UnsupportedOperationException: OpenSSL was explicitly disabled\""),
                Arguments.of("the first attempt's root cause named", noLibrary,
                        "\"IllegalArgumentException: Failed to load any of the given libraries: [a, b]; IOException: "
                                + "/tmp/liba.so: failed to map segment from shared object\""),
                Arguments.of("a line break escaped", new IllegalStateException("one\ntwo"),
                        "\"IllegalStateException: one\\ntwo\""));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("unavailable")
    void theReasonNamesNettysMessageAndTheRootCause(String name, Throwable cause, String expected) {
        assertEquals(expected, TlsEngine.reason(cause));
    }
}
