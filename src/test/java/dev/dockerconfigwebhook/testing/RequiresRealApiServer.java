package dev.dockerconfigwebhook.testing;

import org.junit.jupiter.api.condition.EnabledIf;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * A test class that needs {@link RealApiServer}: JUnit evaluates the condition before anything starts, so a machine
 * without the kube-api-test binaries skips the class with this one-line reason instead of failing.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@EnabledIf(value = "dev.dockerconfigwebhook.testing.RealApiServer#binariesInstalled",
        disabledReason = "no kube-apiserver binaries (run ../shared/tools/kube-api-test-binaries/install.sh)")
public @interface RequiresRealApiServer {
}
