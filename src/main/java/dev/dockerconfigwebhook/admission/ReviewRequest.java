package dev.dockerconfigwebhook.admission;

import java.nio.ByteBuffer;

/**
 * The parts of an {@code admission.k8s.io/v1} AdmissionReview request the decision needs; everything else in the
 * body was skipped unread.
 *
 * @param secret the v1 Secret in {@code request.object}, or null when the object is something else
 */
public record ReviewRequest(String uid, String operation, String namespace, String name, boolean dryRun,
        SecretObject secret) {

    /**
     * A Secret's type and the base64 values of its two pull-secret data keys (their UTF-8 bytes, copied out of the
     * request body by the reader): the only data a decision reads.
     */
    public record SecretObject(String type, ByteBuffer dockerConfigJson, ByteBuffer dockercfg) {
        public ByteBuffer data(String key) {
            switch (key) {
                case ".dockerconfigjson": return dockerConfigJson;
                case ".dockercfg": return dockercfg;
                default: return null;
            }
        }
    }
}
