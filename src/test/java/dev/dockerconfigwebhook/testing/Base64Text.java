package dev.dockerconfigwebhook.testing;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

/** Base64 of UTF-8 text and back: how Secret data is written and read in the tests. */
public final class Base64Text {

    private Base64Text() {
    }

    public static String b64(String text) {
        return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
    }

    public static String decode(String base64) {
        return new String(Base64.getDecoder().decode(base64), StandardCharsets.UTF_8);
    }
}
