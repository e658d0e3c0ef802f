package dev.dockerconfigwebhook.audit;

import io.fabric8.kubernetes.client.KubernetesClientException;

import java.net.ConnectException;
import java.net.UnknownHostException;

/**
 * One clear line for what went wrong talking to the API server. Built from status codes and exception types
 * only: API server messages can quote request bodies, and requests here carry secrets.
 */
final class AuditErrors {

    private AuditErrors() {
    }

    static String describe(Throwable e, String action) {
        if (e instanceof KubernetesClientException && ((KubernetesClientException) e).getCode() > 0) {
            int code = ((KubernetesClientException) e).getCode();
            switch (code) {
                case 401: return "unauthorized (401): the API server rejected the credentials of the current kubeconfig context or service account";
                case 403: return "forbidden (403): missing RBAC permission for " + action;
                case 404: return "not found (404) for " + action;
                case 409: return "conflict (409): the secret kept changing while it was being fixed";
                case 422: return "invalid (422): the API server refused the update of " + action;
                default: return "the API server answered " + code + " for " + action;
            }
        }
        for (Throwable cause = e; cause != null; cause = cause.getCause()) {
            if (cause instanceof UnknownHostException) {
                return "cannot resolve the API server's host name (check the kubeconfig's server address)";
            }
            if (cause instanceof ConnectException) {
                return "cannot reach the API server: connection refused (check the kubeconfig's server address and that the cluster is up)";
            }
            if (cause instanceof javax.net.ssl.SSLException) {
                return "TLS with the API server failed (" + cause.getClass().getSimpleName() + "): check the kubeconfig's certificate authority";
            }
            if (cause instanceof java.util.concurrent.TimeoutException || cause instanceof java.net.SocketTimeoutException) {
                return "the API server did not answer in time";
            }
        }
        return "cannot talk to the API server (" + e.getClass().getSimpleName() + ") while trying " + action;
    }
}
