package dev.dockerconfigwebhook.observability;

/**
 * Makes a request-controlled value (a uid, name, namespace, registry key, exception message) safe for one log line:
 * control characters (newline, carriage return, ANSI escape), Unicode line and paragraph separators and invisible
 * format characters (bidi overrides) are escaped, the length is capped, and a value that could be mistaken for more
 * {@code key=value} pairs is quoted. So a tenant can neither forge a line nor make one huge.
 */
public final class LogText {

    /** Kubernetes names are at most 253 characters; uids are 36. Anything longer is cut. */
    public static final int MAX_CHARS = 256;

    private LogText() {
    }

    public static String safe(String value) {
        return safe(value, MAX_CHARS);
    }

    public static String safe(String value, int maxChars) {
        if (value == null) {
            return "-";
        }
        boolean plain = !value.isEmpty();
        for (int i = 0; i < value.length() && plain; i++) {
            plain = isPlain(value.charAt(i));
        }
        if (plain && value.length() <= maxChars) {
            return value;
        }
        StringBuilder out = new StringBuilder(Math.min(value.length(), maxChars) + 16).append('"');
        int shown = Math.min(value.length(), maxChars);
        for (int i = 0; i < shown; i++) {
            char c = value.charAt(i);
            if (c == '"' || c == '\\') {
                out.append('\\').append(c);
            } else if (c == '\n') {
                out.append("\\n");
            } else if (c == '\r') {
                out.append("\\r");
            } else if (c == '\t') {
                out.append("\\t");
            } else if (needsEscape(c)) {
                out.append(String.format("\\u%04x", (int) c));
            } else {
                out.append(c);
            }
        }
        out.append('"');
        if (value.length() > maxChars) {
            out.append("...(").append(value.length() - maxChars).append(" more chars)");
        }
        return out.toString();
    }

    /** Characters that never need quoting: what Kubernetes names, uids and registry hosts are made of. */
    private static boolean isPlain(char c) {
        return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
                || c == '-' || c == '.' || c == '_' || c == ':' || c == '/';
    }

    private static boolean needsEscape(char c) {
        int type = Character.getType(c);
        return Character.isISOControl(c) || Character.isSurrogate(c) || type == Character.LINE_SEPARATOR
                || type == Character.PARAGRAPH_SEPARATOR || type == Character.FORMAT;
    }

    /** The innermost cause's type, for a log line: a message could carry a URL with credentials in it. */
    public static String rootCauseType(Throwable e) {
        Throwable cause = e;
        while (cause.getCause() != null && cause.getCause() != cause) cause = cause.getCause();
        return cause.getClass().getSimpleName();
    }
}
