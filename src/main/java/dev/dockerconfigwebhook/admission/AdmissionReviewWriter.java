package dev.dockerconfigwebhook.admission;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.util.ByteArrayBuilder;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * Writes the answering {@code admission.k8s.io/v1} AdmissionReview. The patch is base64 of a JSON Patch whose value
 * is base64 of the new document; both encodings stream into one array of the exact final size, so a 1 MiB document
 * costs its answer (1.8 MiB) and nothing in between.
 */
public final class AdmissionReviewWriter {

    private static final JsonFactory JSON = JsonFactory.builder().build();
    private static final Base64.Encoder BASE64 = Base64.getEncoder();
    private static final byte[] CLOSE_PATCH = "\"}]".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] CLOSE_REVIEW = "\"}}".getBytes(StandardCharsets.US_ASCII);

    private AdmissionReviewWriter() {
    }

    public static byte[] write(ReviewResponse response) {
        byte[] head = head(response);
        ReviewResponse.Patch patch = response.patch();
        if (patch == null) {
            return head;
        }
        // The patch's pointer: ".dockerconfigjson" or ".dockercfg", neither needs JSON or pointer escaping.
        byte[] openPatch = ("[{\"op\":\"replace\",\"path\":\"/data/" + patch.dataKey() + "\",\"value\":\"")
                .getBytes(StandardCharsets.US_ASCII);
        long patchLength = openPatch.length + base64Length(patch.document().length) + CLOSE_PATCH.length;
        long total = head.length + base64Length(patchLength) + CLOSE_REVIEW.length;
        if (total > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("answer too large: " + total + " bytes");
        }
        ArrayOutput out = new ArrayOutput((int) total);
        out.write(head, 0, head.length);
        try (OutputStream patchBase64 = BASE64.wrap(out.keepOpen())) {
            patchBase64.write(openPatch);
            try (OutputStream valueBase64 = BASE64.wrap(keepOpen(patchBase64))) {
                valueBase64.write(patch.document());
            }
            patchBase64.write(CLOSE_PATCH);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // writing to memory does not fail
        }
        out.write(CLOSE_REVIEW, 0, CLOSE_REVIEW.length);
        return out.array();
    }

    /**
     * Everything but the patch value, with {@code "patch":"} last when there is one (so the value and the closing
     * {@code "}}} follow it directly).
     */
    private static byte[] head(ReviewResponse response) {
        try (ByteArrayBuilder out = new ByteArrayBuilder(256);
             JsonGenerator g = JSON.createGenerator(out)) {
            g.writeStartObject();
            g.writeStringField("apiVersion", AdmissionReviewReader.API_VERSION);
            g.writeStringField("kind", AdmissionReviewReader.KIND);
            g.writeObjectFieldStart("response");
            g.writeStringField("uid", response.uid());
            g.writeBooleanField("allowed", response.allowed());
            if (!response.warnings().isEmpty()) {
                g.writeArrayFieldStart("warnings");
                for (String warning : response.warnings()) {
                    g.writeString(warning);
                }
                g.writeEndArray();
            }
            ReviewResponse.Denial denial = response.denial();
            if (denial != null) {
                g.writeObjectFieldStart("status");
                g.writeNumberField("code", denial.code());
                g.writeStringField("reason", denial.reason());
                g.writeStringField("message", denial.message());
                g.writeEndObject();
            }
            if (response.patch() != null) {
                g.writeStringField("patchType", "JSONPatch");
                g.writeFieldName("patch");
                g.writeRawValue("\"");
                g.flush();
                return out.toByteArray();
            }
            g.writeEndObject();
            g.writeEndObject();
            g.flush();
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e); // writing to memory does not fail
        }
    }

    /** Padded base64 of {@code n} bytes. */
    static long base64Length(long n) {
        return (n + 2) / 3 * 4;
    }

    private static OutputStream keepOpen(OutputStream out) {
        return new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                out.write(b);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                out.write(b, off, len);
            }
        };
    }

    /** Writes into one array of a size known in advance. */
    private static final class ArrayOutput extends OutputStream {
        private final byte[] array;
        private int size;

        ArrayOutput(int capacity) {
            this.array = new byte[capacity];
        }

        @Override
        public void write(int b) {
            array[size++] = (byte) b;
        }

        @Override
        public void write(byte[] b, int off, int len) {
            System.arraycopy(b, off, array, size, len);
            size += len;
        }

        OutputStream keepOpen() {
            return AdmissionReviewWriter.keepOpen(this);
        }

        byte[] array() {
            if (size != array.length) {
                throw new IllegalStateException("wrote " + size + " of " + array.length + " bytes");
            }
            return array;
        }
    }
}
