package dev.dockerconfigwebhook.core;

import java.util.Arrays;
import java.util.Base64;

/**
 * The {@code auth} field as the kubelet reads it: Kubernetes {@code pkg/credentialprovider/config.go},
 * {@code decodeDockerConfigFieldAuth}. A value ending in {@code '='} (after trimming) is decoded as padded
 * standard base64, anything else as unpadded; Go's decoder skips {@code \r} and {@code \n}. The decoded
 * text is split at the first {@code ':'}.
 */
final class KubeletAuth {

    private KubeletAuth() {
    }

    /** The standard, padded base64 of {@code username:password}: what {@code docker login} writes. */
    static byte[] encode(byte[] username, byte[] password) {
        byte[] pair = new byte[username.length + 1 + password.length];
        System.arraycopy(username, 0, pair, 0, username.length);
        pair[username.length] = ':';
        System.arraycopy(password, 0, pair, username.length + 1, password.length);
        return Base64.getEncoder().encode(pair);
    }

    /** The decoded bytes the kubelet would split, or {@code null} where the kubelet fails to decode. */
    static byte[] decode(byte[] auth) {
        byte[] compact = withoutLineBreaks(auth);
        boolean padded = endsWithPaddingIgnoringSpace(auth);
        if (padded ? compact.length % 4 != 0 : indexOf(compact, (byte) '=') >= 0) {
            return null;
        }
        try {
            return Base64.getDecoder().decode(compact);
        } catch (IllegalArgumentException notBase64) {
            return null;
        }
    }

    /** Whether {@code auth} decodes to exactly {@code username:password}, however it was padded. */
    static boolean matches(byte[] auth, byte[] username, byte[] password) {
        byte[] decoded = decode(auth);
        if (decoded == null || decoded.length != username.length + 1 + password.length) {
            return false;
        }
        return Arrays.equals(decoded, 0, username.length, username, 0, username.length)
                && decoded[username.length] == ':'
                && Arrays.equals(decoded, username.length + 1, decoded.length, password, 0, password.length);
    }

    /** Whether the kubelet can take a username and password out of {@code auth}. */
    static boolean parsable(byte[] auth) {
        byte[] decoded = decode(auth);
        return decoded != null && indexOf(decoded, (byte) ':') >= 0;
    }

    /** Go's {@code strings.HasSuffix(strings.TrimSpace(field), "=")}. */
    private static boolean endsWithPaddingIgnoringSpace(byte[] auth) {
        for (int i = auth.length - 1; i >= 0; i--) {
            byte b = auth[i];
            if (b != ' ' && b != '\t' && b != '\n' && b != '\r' && b != 0x0B && b != '\f') {
                return b == '=';
            }
        }
        return false;
    }

    private static byte[] withoutLineBreaks(byte[] in) {
        if (indexOf(in, (byte) '\n') < 0 && indexOf(in, (byte) '\r') < 0) {
            return in;
        }
        byte[] out = new byte[in.length];
        int n = 0;
        for (byte b : in) {
            if (b != '\n' && b != '\r') out[n++] = b;
        }
        return Arrays.copyOf(out, n);
    }

    static int indexOf(byte[] bytes, byte wanted) {
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] == wanted) return i;
        }
        return -1;
    }
}
