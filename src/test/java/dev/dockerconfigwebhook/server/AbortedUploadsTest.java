package dev.dockerconfigwebhook.server;

import dev.dockerconfigwebhook.testing.TestTls;
import io.quarkus.arc.Arc;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

import javax.net.ssl.SSLSocket;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Clients that give up mid-upload, as the API server does after timeoutSeconds: whichever state their request was
 * in (reading its body, waiting for budget, granted), every byte they reserved comes back to the budget, and the
 * arrays their large bodies were read into come back for reuse.
 */
@QuarkusTest
class AbortedUploadsTest {

    @Test
    void abortedUploadsGiveBackEveryReservedByte() throws Exception {
        AdmissionServer server = Arc.container().instance(AdmissionServer.class).get();
        int port = server.port();
        long reusedBefore = server.bodyArrays().reused();
        for (int i = 0; i < 300; i++) {
            // Small and large declared sizes, so both request lanes are exercised; a fresh connection each time.
            int declared = i % 3 == 0 ? 4 * 1024 * 1024 : 20_000;
            try (SSLSocket socket = (SSLSocket) TestTls.devTrust().getSocketFactory().createSocket("localhost", port)) {
                socket.startHandshake();
                OutputStream out = socket.getOutputStream();
                out.write(("POST /mutate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                        + "Content-Length: " + declared + "\r\n\r\n{\"apiVersion\":\"admission.k8s.io/v1\"")
                        .getBytes(StandardCharsets.US_ASCII));
                out.flush();
            }
        }
        List<MemoryBudget> lanes = List.of(server.smallRequests(), server.largeRequests());
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (lanes.stream().anyMatch(lane -> lane.inUse() > 0) && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        for (MemoryBudget lane : lanes) {
            assertEquals(0, lane.inUse(), lane.name() + " lane: every reserved byte came back");
            assertEquals(0, lane.waiting(), lane.name() + " lane: nobody left waiting");
        }
        assertTrue(server.bodyArrays().reused() - reusedBefore >= 50,
                "the 4 MiB arrays of abandoned bodies were given back and taken again: "
                        + (server.bodyArrays().reused() - reusedBefore) + " of 100");
        assertTrue(server.bodyArrays().idleBytes() <= server.bodyArrays().idleCapacity());
        assertTrue(server.serving());
    }
}
