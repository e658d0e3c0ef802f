import dev.dockerconfigwebhook.admission.AdmissionReviewReader;
import dev.dockerconfigwebhook.admission.AdmissionReviewWriter;
import dev.dockerconfigwebhook.admission.SecretMutator;
import dev.dockerconfigwebhook.server.RequestCost;

import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * Heap allocated while one review is read, decided and answered, by body size: an upper bound on the heap that review
 * can hold at once (it includes every short-lived temporary), next to what the memory budget charges for it
 * (server/RequestCost.java). Run by bench/memory.sh; prints a table.
 */
public class HeapPerReview {

    public static void main(String[] args) throws Exception {
        if (args.length >= 2) { // one review kind, decided 20 times: for finding the smallest -Xmx it fits in
            SecretMutator mutator = new SecretMutator(false);
            byte[] body = review(args[0], Integer.parseInt(args[1]));
            System.gc();
            // With a third argument, only the body is built: the harness's own share of that smallest heap.
            for (int i = 0; i < (args.length == 3 ? 0 : 20); i++) {
                byte[] copy = body.clone();
                AdmissionReviewWriter.write(mutator.mutate(AdmissionReviewReader.read(copy, copy.length)).response());
            }
            return;
        }
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        SecretMutator mutator = new SecretMutator(false);
        System.out.printf("%-34s %10s %12s %8s %12s %8s%n", "review", "body_B", "allocated_B", "x_body", "charged_B",
                "margin");
        for (String[] c : new String[][] {{"update", "1"}, {"update", "100"}, {"update", "1000"}, {"update", "10000"},
                {"create", "10000"}, {"create-noauth", "10000"}, {"crafted", "170000"}, {"crafted", "350000"}}) {
            byte[] body = review(c[0], Integer.parseInt(c[1]));
            long allocated = Long.MAX_VALUE;
            for (int i = 0; i < 30; i++) { // the minimum over warm runs: what the code needs, not the JIT's warm-up
                long before = threads.getThreadAllocatedBytes(Thread.currentThread().getId());
                byte[] copy = new byte[body.length]; // the exchange's one copy of the body
                System.arraycopy(body, 0, copy, 0, body.length);
                AdmissionReviewWriter.write(mutator.mutate(AdmissionReviewReader.read(copy, copy.length)).response());
                allocated = Math.min(allocated, threads.getThreadAllocatedBytes(Thread.currentThread().getId()) - before);
            }
            long charged = RequestCost.of(body.length);
            System.out.printf("%-34s %10d %12d %8.2f %12d %8.2f%n", c[0] + " " + c[1] + " registries", body.length,
                    allocated, (double) allocated / body.length, charged, (double) charged / allocated);
        }
    }

    static byte[] review(String kind, int n) {
        StringBuilder doc = new StringBuilder("{\"auths\":{");
        for (int i = 0; i < n; i++) {
            if (i > 0) doc.append(',');
            if (kind.equals("crafted")) {
                doc.append("\"a\":0");
            } else {
                doc.append("\"r").append(i).append(".example.com\":{\"username\":\"u").append(i)
                        .append("\",\"password\":\"new-").append(i).append('"');
                if (!kind.equals("create-noauth")) {
                    doc.append(",\"auth\":\"").append(b64("u" + i + ":old-" + i)).append('"');
                }
                doc.append('}');
            }
        }
        String secret = "{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"type\":\"kubernetes.io/dockerconfigjson\","
                + "\"metadata\":{\"name\":\"bench\",\"namespace\":\"default\"},\"data\":{\".dockerconfigjson\":\""
                + b64(doc.append("}}").toString()) + "\"}}";
        String operation = kind.equals("update") ? "UPDATE" : "CREATE";
        return ("{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"u\","
                + "\"operation\":\"" + operation + "\",\"name\":\"bench\",\"namespace\":\"default\",\"object\":" + secret
                + (operation.equals("UPDATE") ? ",\"oldObject\":" + secret : "") + "}}").getBytes(StandardCharsets.UTF_8);
    }

    static String b64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }
}
