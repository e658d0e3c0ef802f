package dev.dockerconfigwebhook.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Applies an RFC 6902 JSON Patch the way the API server does, for the operations a mutating webhook may
 * send (add, replace, remove, test), so tests assert the object that results rather than the patch text.
 */
public final class JsonPatch {

    private JsonPatch() {
    }

    public static JsonNode apply(JsonNode patch, JsonNode target) {
        if (!patch.isArray()) throw new AssertionError("a JSON Patch is an array of operations");
        JsonNode document = target.deepCopy();
        for (JsonNode op : patch) {
            String path = op.path("path").asText(null);
            if (path == null || !path.startsWith("/")) throw new AssertionError("invalid path in " + op.path("op"));
            String[] tokens = path.substring(1).split("/", -1);
            JsonNode parent = document;
            for (int i = 0; i < tokens.length - 1; i++) {
                parent = parent.get(unescape(tokens[i]));
                if (parent == null) throw new AssertionError("path does not exist: " + path);
            }
            String last = unescape(tokens[tokens.length - 1]);
            if (!(parent instanceof ObjectNode)) throw new AssertionError("only object members are patched here: " + path);
            ObjectNode object = (ObjectNode) parent;
            switch (op.path("op").asText()) {
                case "add": object.set(last, op.get("value")); break;
                case "replace":
                    if (!object.has(last)) throw new AssertionError("replace of a missing member: " + path);
                    object.set(last, op.get("value"));
                    break;
                case "remove":
                    if (object.remove(last) == null) throw new AssertionError("remove of a missing member: " + path);
                    break;
                case "test":
                    if (!op.get("value").equals(object.get(last))) throw new AssertionError("test failed: " + path);
                    break;
                default: throw new AssertionError("unsupported op: " + op.path("op"));
            }
        }
        return document;
    }

    private static String unescape(String token) {
        return token.replace("~1", "/").replace("~0", "~");
    }
}
