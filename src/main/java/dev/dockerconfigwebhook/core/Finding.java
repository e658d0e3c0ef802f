package dev.dockerconfigwebhook.core;

/**
 * One thing the rules found about one registry entry (or, for document-level problems, about the data key).
 * {@link #subject()} and {@link #message()} are safe to show anywhere: they name the registry and a fixed reason,
 * never a value.
 *
 * @param key the registry key as written (or the data key); shown only through {@link #subject()}
 */
public record Finding(String key, Kind kind) {

    /** Registry names longer than this are shortened so that every message stays under 120 characters. */
    static final int MAX_SUBJECT_LENGTH = 48;

    public enum Category {
        /** {@code auth} was set from username and password. */
        FIXED,
        /** username/password are present but no {@code auth} can express them; refused in strict mode. */
        UNFIXABLE,
        /** The kubelet cannot use this entry or document as written; left unchanged. */
        BROKEN
    }

    public enum Kind {
        AUTH_ADDED(Category.FIXED, "auth added from username/password"),
        AUTH_RECOMPUTED(Category.FIXED, "auth recomputed from username/password (written auth did not match)"),
        AUTH_FROM_REPLACED_TEXT(Category.FIXED, "auth derived with U+FFFD for invalid UTF-8, as the kubelet reads it"),
        EMPTY_USERNAME(Category.UNFIXABLE, "username is empty, so no auth can be derived; left unchanged"),
        COLON_IN_USERNAME(Category.UNFIXABLE, "username contains ':', which auth cannot express; left unchanged"),
        DOCUMENT_FIX_TOO_LARGE(Category.UNFIXABLE, "would exceed the 1 MiB a Secret can hold once auth is fixed; left unchanged"),
        AUTH_UNPARSABLE(Category.BROKEN, "auth is not base64 of user:password; pulls with it will fail"),
        USERNAME_NOT_STRING(Category.BROKEN, "username is not a string; left unchanged"),
        PASSWORD_NOT_STRING(Category.BROKEN, "password is not a string; left unchanged"),
        AUTH_NOT_STRING(Category.BROKEN, "auth is not a string; left unchanged"),
        EMAIL_NOT_STRING(Category.BROKEN, "email is not a string; left unchanged"),
        ENTRY_NOT_OBJECT(Category.BROKEN, "entry is not a JSON object; left unchanged"),
        AUTHS_NOT_OBJECT(Category.BROKEN, "\"auths\" is not a JSON object; left unchanged"),
        DOCUMENT_NOT_OBJECT(Category.BROKEN, "is not a JSON object; left unchanged"),
        DOCUMENT_NOT_JSON(Category.BROKEN, "is not valid JSON; left unchanged"),
        DOCUMENT_TOO_LARGE(Category.BROKEN, "is larger than the 1 MiB a Secret can hold; left unchanged, not parsed"),
        DOCUMENT_NOT_BASE64(Category.BROKEN, "is not valid base64; left unchanged"),
        DOCUMENT_MISSING(Category.BROKEN, "is missing from data; nothing to check");

        private final Category category;
        private final String reason;

        Kind(Category category, String reason) {
            this.category = category;
            this.reason = reason;
        }

        public Category category() {
            return category;
        }

        public String reason() {
            return reason;
        }
    }

    public Category category() {
        return kind.category();
    }

    /** The registry as it may be shown (see {@link #displayName}); computed when asked, as most are never shown. */
    public String subject() {
        return displayName(key);
    }

    /** E.g. {@code ghcr.io: auth added from username/password}. */
    public String message() {
        return subject() + (kind.name().startsWith("DOCUMENT_") ? " " : ": ") + kind.reason();
    }

    /**
     * A registry key as it may be shown: credentials embedded as {@code user:pass@host} are dropped, control
     * characters, line and paragraph separators and invisible format characters (bidi overrides) replaced, and long
     * names shortened.
     */
    static String displayName(String registryKey) {
        String name = registryKey.substring(registryKey.lastIndexOf('@') + 1);
        StringBuilder shown = new StringBuilder(Math.min(name.length(), MAX_SUBJECT_LENGTH));
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (shown.length() == MAX_SUBJECT_LENGTH - 1 && i < name.length() - 1) {
                shown.append('\u2026');
                break;
            }
            shown.append(displayable(c) ? c : '?');
        }
        return registryKey.indexOf('@') >= 0 ? "\u2026@" + shown : shown.toString();
    }

    private static boolean displayable(char c) {
        int type = Character.getType(c);
        return !Character.isISOControl(c) && !Character.isSurrogate(c) && c != '\ufffd'
                && type != Character.LINE_SEPARATOR && type != Character.PARAGRAPH_SEPARATOR && type != Character.FORMAT;
    }
}
