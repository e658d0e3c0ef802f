#!/usr/bin/env bash
# Creates (or rotates) the webhook's serving certificate with openssl, and with --apply installs it:
# the TLS Secret the pods mount, and the CA as caBundle of the MutatingWebhookConfiguration.
#
#   certs/generate.sh                 # CA + serving certificate into certs/out/ (git-ignored)
#   certs/generate.sh --apply         # ... and create/update the Secret and caBundle with kubectl
#   certs/generate.sh --apply         # again later: new serving certificate, same CA: no downtime
#   certs/generate.sh --apply --new-ca  # new CA too; caBundle trusts old and new CA during the switch
#
# Defaults match deploy/. Running pods pick up the mounted files within webhook.tls.reload-period
# (after the kubelet has synced the Secret volume, typically within a minute): no restart.
set -euo pipefail

namespace=dockerconfig-webhook
service=dockerconfig-webhook
secret=dockerconfig-webhook-tls
webhook=dockerconfig-webhook
days=365
ca_days=3650
out="$(cd "$(dirname "$0")" && pwd)/out"
apply=false
new_ca=false

usage() {
  cat <<USAGE
usage: $0 [--namespace NS] [--service NAME] [--secret NAME] [--webhook-config NAME]
          [--days N] [--ca-days N] [--out DIR] [--new-ca] [--apply]
  --namespace       namespace of the Service and Secret        (default $namespace)
  --service         name of the webhook Service                (default $service)
  --secret          name of the TLS Secret the pods mount      (default $secret)
  --webhook-config  name of the MutatingWebhookConfiguration   (default $webhook)
  --days            validity of the serving certificate        (default $days)
  --ca-days         validity of a new CA                       (default $ca_days)
  --out             where keys and certificates are written    (default certs/out, git-ignored)
  --new-ca          replace the CA as well (otherwise an existing one in --out is reused)
  --apply           create/update the Secret and patch caBundle through kubectl
USAGE
}

while [ $# -gt 0 ]; do
  case "$1" in
    --namespace) namespace="$2"; shift 2 ;;
    --service) service="$2"; shift 2 ;;
    --secret) secret="$2"; shift 2 ;;
    --webhook-config) webhook="$2"; shift 2 ;;
    --days) days="$2"; shift 2 ;;
    --ca-days) ca_days="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --new-ca) new_ca=true; shift ;;
    --apply) apply=true; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done
for n in "$days" "$ca_days"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "--days and --ca-days take a positive whole number" >&2; exit 2; }
done
command -v openssl >/dev/null || { echo "openssl is required" >&2; exit 2; }
if $apply; then command -v kubectl >/dev/null || { echo "--apply needs kubectl" >&2; exit 2; }; fi

umask 077
mkdir -p "$out"
cd "$out"

if $new_ca || [ ! -s ca.key ] || [ ! -s ca.crt ]; then
  [ -s ca.crt ] && cp ca.crt ca-previous.crt
  openssl ecparam -name prime256v1 -genkey -noout -out ca.key.new
  openssl req -x509 -new -sha256 -key ca.key.new -days "$ca_days" -subj "/CN=${service}-ca" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out ca.crt.new 2>/dev/null
  mv ca.key.new ca.key && mv ca.crt.new ca.crt
  echo "created CA: $out/ca.crt"
else
  echo "reusing CA: $out/ca.crt"
fi

cat > server.ext <<EXT
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:${service},DNS:${service}.${namespace},DNS:${service}.${namespace}.svc,DNS:${service}.${namespace}.svc.cluster.local
EXT
openssl ecparam -name prime256v1 -genkey -noout -out tls.key.new
openssl req -new -sha256 -key tls.key.new -subj "/CN=${service}.${namespace}.svc" -out tls.csr 2>/dev/null
openssl x509 -req -sha256 -in tls.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days "$days" \
  -extfile server.ext -out tls.crt.new 2>/dev/null
mv tls.key.new tls.key && mv tls.crt.new tls.crt
rm -f tls.csr server.ext
openssl verify -CAfile ca.crt tls.crt >/dev/null
echo "created serving certificate for ${service}.${namespace}.svc, valid ${days} days: $out/tls.crt"

# The API server must trust the old CA until every pod serves the new certificate.
cat ca.crt > ca-bundle.crt
if $new_ca && [ -s ca-previous.crt ]; then cat ca-previous.crt >> ca-bundle.crt; fi

if $apply; then
  kubectl -n "$namespace" create secret tls "$secret" --cert=tls.crt --key=tls.key \
    --dry-run=client -o yaml | kubectl apply -f -
  bundle=$(base64 < ca-bundle.crt | tr -d '\n')
  kubectl patch mutatingwebhookconfiguration "$webhook" --type=json \
    -p "[{\"op\":\"add\",\"path\":\"/webhooks/0/clientConfig/caBundle\",\"value\":\"${bundle}\"}]"
  echo "applied: secret ${namespace}/${secret} and caBundle of ${webhook}"
fi
