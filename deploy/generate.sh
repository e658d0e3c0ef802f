#!/usr/bin/env bash
# Renders deploy/'s kustomize manifests from the Helm chart, their one hand-edited source: run it after every change
# to deploy/helm/dockerconfig-webhook and commit what it writes. GeneratedManifestsTest (part of ./mvnw verify) fails
# while a generated file differs from a fresh render. Helm itself is not needed: the test renders with helm-java.
set -euo pipefail
cd "$(dirname "$0")/.."
exec ./mvnw -B -q test -Dtest=GeneratedManifestsTest -Dsurefire.failIfNoSpecifiedTests=false -Ddeploy.regenerate=true
