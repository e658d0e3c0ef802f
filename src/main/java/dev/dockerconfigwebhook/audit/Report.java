package dev.dockerconfigwebhook.audit;

import dev.dockerconfigwebhook.audit.SecretAudit.SecretReport;
import dev.dockerconfigwebhook.audit.SecretAudit.Status;

import java.util.Map;

/** Output of one audit run: each secret that matters as it is known, then the summary (text or JSON). */
interface Report extends AutoCloseable {

    void secret(SecretReport secret);

    /** {@code counts}: secrets by their worst registry's status. */
    void summary(Map<Status, Integer> counts);

    @Override
    void close();

    static int scanned(Map<Status, Integer> counts) {
        return counts.values().stream().mapToInt(Integer::intValue).sum();
    }
}
