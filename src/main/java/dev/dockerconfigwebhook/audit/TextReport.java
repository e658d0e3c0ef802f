package dev.dockerconfigwebhook.audit;

import dev.dockerconfigwebhook.audit.SecretAudit.RegistryReport;
import dev.dockerconfigwebhook.audit.SecretAudit.SecretReport;
import dev.dockerconfigwebhook.audit.SecretAudit.Status;

import java.io.PrintWriter;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * {@code STATUS NAMESPACE/NAME REGISTRY REASON}, tab-separated, one line per registry with that registry's own status;
 * consistent secrets are only counted. The summary names every status as the lines and the JSON output do.
 */
final class TextReport implements Report {

    private final PrintWriter out;

    TextReport(PrintWriter out) {
        this.out = out;
    }

    @Override
    public void secret(SecretReport s) {
        String secret = s.namespace() + "/" + s.name();
        if (s.status() == Status.CONSISTENT) {
            return;
        }
        if (s.status() == Status.SKIPPED) {
            out.println(s.status().label() + "\t" + secret + "\t" + s.skipReason());
            return;
        }
        for (RegistryReport r : s.registries()) {
            out.println(r.status().label() + "\t" + secret + "\t" + r.finding().subject() + "\t" + r.finding().kind().reason());
        }
        if (s.error() != null) {
            out.println(s.status().label() + "\t" + secret + "\t" + s.error());
        }
    }

    @Override
    public void summary(Map<Status, Integer> counts) {
        out.println("scanned " + Report.scanned(counts) + " pull secrets: " + Stream.of(Status.values())
                .map(status -> counts.getOrDefault(status, 0) + " " + status.label()).collect(Collectors.joining(", ")));
    }

    @Override
    public void close() {
        out.flush();
    }
}
