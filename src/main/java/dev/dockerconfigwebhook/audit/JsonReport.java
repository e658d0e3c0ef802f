package dev.dockerconfigwebhook.audit;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.dockerconfigwebhook.audit.SecretAudit.RegistryReport;
import dev.dockerconfigwebhook.audit.SecretAudit.SecretReport;
import dev.dockerconfigwebhook.audit.SecretAudit.Status;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.Map;

/**
 * {@code {"secrets":[...],"summary":{...}}}, streamed so that ten thousand secrets need no buffering. Status names are
 * the text output's ({@code would-fix}), in each registry, each secret and the summary's keys.
 */
final class JsonReport implements Report {

    private final JsonGenerator json;

    JsonReport(PrintWriter out) {
        try {
            json = new JsonFactory().createGenerator(out);
            json.writeStartObject();
            json.writeArrayFieldStart("secrets");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void secret(SecretReport s) {
        if (s.status() == Status.CONSISTENT) {
            return;
        }
        try {
            json.writeStartObject();
            json.writeStringField("namespace", s.namespace());
            json.writeStringField("name", s.name());
            json.writeStringField("type", s.type());
            json.writeStringField("status", s.status().label());
            if (s.skipReason() != null) json.writeStringField("skipReason", s.skipReason());
            if (s.error() != null) json.writeStringField("error", s.error());
            json.writeArrayFieldStart("registries");
            for (RegistryReport r : s.registries()) {
                json.writeStartObject();
                json.writeStringField("registry", r.finding().subject());
                json.writeStringField("status", r.status().label());
                json.writeStringField("finding", r.finding().kind().name().toLowerCase().replace('_', '-'));
                json.writeStringField("category", r.finding().category().name().toLowerCase());
                json.writeStringField("reason", r.finding().kind().reason());
                json.writeEndObject();
            }
            json.writeEndArray();
            json.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void summary(Map<Status, Integer> counts) {
        try {
            json.writeEndArray();
            json.writeObjectFieldStart("summary");
            json.writeNumberField("scanned", Report.scanned(counts));
            for (Status status : Status.values()) {
                json.writeNumberField(status.label(), counts.getOrDefault(status, 0));
            }
            json.writeEndObject();
            json.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        try {
            json.writeRaw('\n');
            json.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
