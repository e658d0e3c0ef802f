package dev.dockerconfigwebhook.core;

import java.util.Optional;

/** The two Secret types that carry registry credentials, and where their entries live. */
public enum PullSecretType {
    /** {@code {"auths": {"registry": {entry}}, ...}}, the format of {@code ~/.docker/config.json}. */
    DOCKER_CONFIG_JSON("kubernetes.io/dockerconfigjson", ".dockerconfigjson", true),
    /** The legacy {@code ~/.dockercfg}: {@code {"registry": {entry}}}. */
    DOCKERCFG("kubernetes.io/dockercfg", ".dockercfg", false);

    private final String secretType;
    private final String dataKey;
    private final boolean entriesUnderAuths;

    PullSecretType(String secretType, String dataKey, boolean entriesUnderAuths) {
        this.secretType = secretType;
        this.dataKey = dataKey;
        this.entriesUnderAuths = entriesUnderAuths;
    }

    public String secretType() {
        return secretType;
    }

    public String dataKey() {
        return dataKey;
    }

    boolean entriesUnderAuths() {
        return entriesUnderAuths;
    }

    /** The pull secret type named by a Secret's {@code type} field; anything else (Opaque, null) is not one. */
    public static Optional<PullSecretType> of(String secretType) {
        for (PullSecretType type : values()) {
            if (type.secretType.equals(secretType)) {
                return Optional.of(type);
            }
        }
        return Optional.empty();
    }
}
