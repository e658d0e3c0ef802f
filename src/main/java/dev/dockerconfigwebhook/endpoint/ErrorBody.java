package dev.dockerconfigwebhook.endpoint;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import io.vertx.core.buffer.Buffer;

import java.nio.charset.StandardCharsets;

/** Every error answer is the same one line of JSON, {@code {"error":"…"}}, written by Jackson's string encoder. */
public final class ErrorBody {

    private static final byte[] OPEN = "{\"error\":\"".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] CLOSE = "\"}".getBytes(StandardCharsets.US_ASCII);

    private ErrorBody() {
    }

    public static Buffer of(String message) {
        byte[] quoted = JsonStringEncoder.getInstance().quoteAsUTF8(message);
        return Buffer.buffer(OPEN.length + quoted.length + CLOSE.length)
                .appendBytes(OPEN).appendBytes(quoted).appendBytes(CLOSE);
    }
}
