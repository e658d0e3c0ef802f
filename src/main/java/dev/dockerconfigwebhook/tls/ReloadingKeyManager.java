package dev.dockerconfigwebhook.tls;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;
import javax.net.ssl.X509KeyManager;
import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;

/**
 * A key manager whose key and certificate can be replaced while the server runs: each handshake asks for the current
 * pair. The server's SSL context never changes, so a rotation has no window in which new connections can fail.
 * Aliases carry a generation, so a handshake that started before a swap finishes with the pair it chose.
 */
final class ReloadingKeyManager extends X509ExtendedKeyManager {

    private record Generation(long number, X509KeyManager delegate) {
    }

    private volatile Generation current;
    private volatile Generation previous;

    /** @param initial the first pair, or null while none is loaded (handshakes then fail: no certificate) */
    ReloadingKeyManager(X509KeyManager initial) {
        this.current = new Generation(0, initial);
    }

    void replace(X509KeyManager next) {
        Generation now = current;
        previous = now;
        current = new Generation(now.number() + 1, next);
    }

    @Override
    public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
        Generation g = current;
        if (g.delegate() == null) return null;
        String alias = g.delegate() instanceof X509ExtendedKeyManager
                ? ((X509ExtendedKeyManager) g.delegate()).chooseEngineServerAlias(keyType, issuers, engine)
                : g.delegate().chooseServerAlias(keyType, issuers, null);
        return alias == null ? null : g.number() + ":" + alias;
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
        Generation g = current;
        if (g.delegate() == null) return null;
        String alias = g.delegate().chooseServerAlias(keyType, issuers, socket);
        return alias == null ? null : g.number() + ":" + alias;
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
        Generation g = current;
        if (g.delegate() == null) return null;
        String[] aliases = g.delegate().getServerAliases(keyType, issuers);
        if (aliases == null) return null;
        for (int i = 0; i < aliases.length; i++) aliases[i] = g.number() + ":" + aliases[i];
        return aliases;
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
        Generation g = generationOf(alias);
        return g == null || g.delegate() == null ? null : g.delegate().getCertificateChain(delegateAlias(alias));
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
        Generation g = generationOf(alias);
        return g == null || g.delegate() == null ? null : g.delegate().getPrivateKey(delegateAlias(alias));
    }

    /** A server never authenticates as a client. */
    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
        return null;
    }

    @Override
    public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
        return null;
    }

    private Generation generationOf(String alias) {
        int colon = alias == null ? -1 : alias.indexOf(':');
        if (colon < 0) return null;
        long number;
        try {
            number = Long.parseLong(alias.substring(0, colon));
        } catch (NumberFormatException e) {
            return null;
        }
        Generation now = current;
        if (now.number() == number) return now;
        Generation before = previous;
        return before != null && before.number() == number ? before : null;
    }

    private static String delegateAlias(String alias) {
        return alias.substring(alias.indexOf(':') + 1);
    }
}
