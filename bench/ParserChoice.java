import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.dockerconfigwebhook.core.json.JsonCursor;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * The measurement behind JsonCursor's class comment: one full pass over a pull-secret document (spans of every member
 * and value, as splicing needs) with JsonCursor and with Jackson's streaming parser reporting token byte offsets, by
 * document size; and whether each accepts a document holding invalid UTF-8 (which Go, and so the kubelet, accepts).
 * Run: bench/parser-choice.sh (builds first). Prints ns per byte and bytes allocated per document byte.
 */
public class ParserChoice {

    static final JsonFactory JACKSON = new JsonFactory();

    public static void main(String[] args) throws Exception {
        com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        System.out.println("registries  bytes     cursor ns/B  jackson ns/B  cursor alloc B/B  jackson alloc B/B");
        for (int registries : new int[] {1, 100, 10_000}) {
            byte[] doc = document(registries);
            int rounds = Math.max(20, 20_000_000 / doc.length);
            long sink = 0;
            for (int warm = 0; warm < 3; warm++) {
                for (int i = 0; i < rounds; i++) sink += cursor(doc) + jackson(doc);
            }
            long a0 = threads.getCurrentThreadAllocatedBytes();
            long t0 = System.nanoTime();
            for (int i = 0; i < rounds; i++) sink += cursor(doc);
            long t1 = System.nanoTime();
            long a1 = threads.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < rounds; i++) sink += jackson(doc);
            long t2 = System.nanoTime();
            long a2 = threads.getCurrentThreadAllocatedBytes();
            double bytes = (double) doc.length * rounds;
            System.out.printf("%-11d %-9d %-12.2f %-13.2f %-17.2f %-17.2f%n", registries, doc.length,
                    (t1 - t0) / bytes, (t2 - t1) / bytes, (a1 - a0) / bytes, (a2 - a1) / bytes);
            if (sink == 42) System.out.println();
        }
        byte[] invalid = "{\"auths\":{\"r.io\":{\"username\":\"u\",\"password\":\"p\u00ff\"}}}".getBytes(StandardCharsets.ISO_8859_1);
        System.out.println("invalid UTF-8 in a string: cursor " + accepts(() -> cursor(invalid))
                + ", jackson " + accepts(() -> jackson(invalid)));
    }

    interface Parse {
        long run() throws Exception;
    }

    static String accepts(Parse parse) {
        try {
            parse.run();
            return "accepts";
        } catch (Exception e) {
            return "refuses (" + e.getClass().getSimpleName() + ")";
        }
    }

    /** Every entry's member spans, every string read (what DockerConfigRepair does, minus the rules). */
    static long cursor(byte[] doc) throws Exception {
        JsonCursor c = new JsonCursor(doc);
        long sum = 0;
        c.beginObject();
        while (c.nextMember()) {
            c.beginObject();
            while (c.nextMember()) {
                c.beginObject();
                while (c.nextMember()) {
                    sum += c.memberKeyStart();
                    if (c.peek() == JsonCursor.Kind.STRING) sum += c.readString().end();
                    else c.skipValue();
                }
            }
        }
        c.finish();
        return sum;
    }

    /** The same walk with Jackson: token byte offsets for spans, text for strings. */
    static long jackson(byte[] doc) throws Exception {
        long sum = 0;
        try (JsonParser p = JACKSON.createParser(doc)) {
            JsonToken t;
            while ((t = p.nextToken()) != null) {
                if (t == JsonToken.FIELD_NAME) sum += p.currentTokenLocation().getByteOffset();
                else if (t == JsonToken.VALUE_STRING) sum += p.getText().length() + p.currentTokenLocation().getByteOffset();
            }
        }
        return sum;
    }

    static byte[] document(int registries) {
        StringBuilder b = new StringBuilder("{\"auths\":{");
        for (int i = 0; i < registries; i++) {
            if (i > 0) b.append(',');
            String auth = Base64.getEncoder().encodeToString(("user" + i + ":old-password-" + i).getBytes(StandardCharsets.UTF_8));
            b.append("\"registry").append(i).append(".example.com\":{\"username\":\"user").append(i)
                    .append("\",\"password\":\"new-password-").append(i).append("-abcdefghijklmnopqrstuvwxyz0123456789\",")
                    .append("\"email\":\"user").append(i).append("@example.com\",\"auth\":\"").append(auth).append("\"}");
        }
        return b.append("}}").toString().getBytes(StandardCharsets.UTF_8);
    }
}
