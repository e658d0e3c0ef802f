#!/usr/bin/env bash
# The webhook's serving certificate and its CA, with openssl. With --apply the CA lives in the cluster (Secret
# dockerconfig-webhook-ca, next to the TLS Secret), so any machine and any checkout renews under the same CA.
#
#   certs/generate.sh --apply                 # first run: CA + serving certificate; later runs: renew, same CA
#   certs/generate.sh --apply --namespace NS --release NAME   # the same for Helm release NAME (its names and labels)
#   certs/generate.sh --apply --new-ca        # CA rotation, step 1: trust a new CA (caBundle, ca.crt); not signing yet
#   certs/generate.sh --apply --promote-ca    # CA rotation, step 2: sign with the new CA; the old one stays trusted
#   certs/generate.sh                         # no cluster: the same files in certs/out/ (git-ignored)
#
# Every step is safe to repeat and never removes trust a served certificate may still need: a CA is dropped from
# caBundle only after it has stopped signing for --retire-after seconds (pods reload the mounted Secret within a
# minute or two: the kubelet's sync plus webhook.certificates.check-period). Writes go in this order: CA Secret, caBundle,
# TLS Secret, so the API server trusts a CA before any pod can serve a certificate of it.
# With self-managed certificates (the default install) the pods renew by themselves; --new-ca then starts a CA
# rotation early, and the pods finish it after their overlap (webhook.certificates.overlap).
# Exit codes: 0 done; 2 bad arguments, a missing tool, a failed kubectl call, a concurrent change (run again), or a
# namespace that holds an install under other names (the message gives the command with those names).
set -euo pipefail

namespace=dockerconfig-webhook
service=dockerconfig-webhook
secret=dockerconfig-webhook-tls
ca_secret=dockerconfig-webhook-ca
webhook=dockerconfig-webhook
days=365
ca_days=3650
retire_after=3600
out="$(cd "$(dirname "$0")" && pwd)/out"
apply=false
new_ca=false
promote_ca=false
release=""
names_given=false

usage() {
  cat <<USAGE
usage: $0 [--apply] [--new-ca | --promote-ca] [--namespace NS] [--release NAME] [--service NAME] [--secret NAME]
          [--ca-secret NAME] [--webhook-config NAME] [--days N] [--ca-days N] [--retire-after SECONDS] [--out DIR]
  --apply           read and write the CA Secret, the TLS Secret and caBundle in the cluster (kubectl's context)
  --new-ca          CA rotation step 1: add a new CA to caBundle and ca.crt; the serving certificate keeps the old CA
  --promote-ca      CA rotation step 2: sign with the CA added by --new-ca; the old CA stays trusted a while
  --namespace       namespace of the Service and Secrets           (default $namespace)
  --release         the names of Helm release NAME (service, secrets, webhook config), as its NOTES print
  --service         name of the webhook Service                    (default $service)
  --secret          name of the TLS Secret the pods mount          (default $secret)
  --ca-secret       name of the Secret holding the CA (--apply)    (default $ca_secret)
  --webhook-config  name of the MutatingWebhookConfiguration       (default $webhook)
  --days            validity of the serving certificate            (default $days)
  --ca-days         validity of a new CA                           (default $ca_days)
  --retire-after    seconds a CA that stopped signing stays trusted (default $retire_after)
  --out             without --apply: where keys and certificates are kept (default certs/out, git-ignored)
USAGE
}

die() { echo "$*" >&2; exit 2; }

while [ $# -gt 0 ]; do
  case "$1" in
    --namespace) namespace="$2"; shift 2 ;;
    --release) release="$2"; shift 2 ;;
    --service) service="$2"; names_given=true; shift 2 ;;
    --secret) secret="$2"; names_given=true; shift 2 ;;
    --ca-secret) ca_secret="$2"; names_given=true; shift 2 ;;
    --webhook-config) webhook="$2"; names_given=true; shift 2 ;;
    --days) days="$2"; shift 2 ;;
    --ca-days) ca_days="$2"; shift 2 ;;
    --retire-after) retire_after="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --new-ca) new_ca=true; shift ;;
    --promote-ca) promote_ca=true; shift ;;
    --apply) apply=true; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done
for n in "$days" "$ca_days"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || die "--days and --ca-days take a positive whole number"
done
[[ "$retire_after" =~ ^[0-9]+$ ]] || die "--retire-after takes a whole number of seconds"
if $new_ca && $promote_ca; then die "--new-ca and --promote-ca are two steps: run them one after the other"; fi
command -v openssl >/dev/null || die "openssl is required"
if $apply; then command -v kubectl >/dev/null || die "--apply needs kubectl"; fi

# The chart's names for a release (templates/_helpers.tpl, dcw.fullname and dcw.fit): the release name when it contains
# the chart's name, else RELEASE-dockerconfig-webhook; over 63 characters, the first 56, a dash and 6 hex of sha256.
labels="app.kubernetes.io/part-of=dockerconfig-webhook app.kubernetes.io/component=certificates"
if [ -n "$release" ]; then
  $names_given && die "--release gives all the names: leave out --service, --secret, --ca-secret and --webhook-config"
  [[ "$release" =~ ^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$ ]] || die "--release takes a Helm release name (lowercase, digits, - and .)"
  case "$release" in *dockerconfig-webhook*) fullname="$release" ;; *) fullname="${release}-dockerconfig-webhook" ;; esac
  if [ ${#fullname} -gt 63 ]; then
    hash=$(printf '%s' "$fullname" | sha256sum | cut -c1-6)
    short="${fullname:0:56}"; short="${short%-}"; short="${short%.}"
    fullname="${short}-${hash}"
  fi
  service="$fullname"; secret="${fullname}-tls"; ca_secret="${fullname}-ca"; webhook="$fullname"
  labels="$labels dockerconfig-webhook/release=$release"
fi

umask 077
now=$(date +%s)

# --- another install in this namespace under other names (a Helm release, say): refuse, and say how to reach it.
if $apply; then
  installs=$(kubectl -n "$namespace" get deployments -l app.kubernetes.io/part-of=dockerconfig-webhook \
    -o jsonpath='{range .items[*]}{.metadata.name}{" "}{.metadata.labels.app\.kubernetes\.io/instance}{"\n"}{end}' 2>/dev/null) \
    || { echo "note: cannot list deployments in ${namespace}; not checking for an install under other names" >&2; installs=""; }
  if [ -n "$installs" ] && ! printf '%s\n' "$installs" | grep -q "^${service} "; then
    {
      echo "namespace ${namespace} holds dockerconfig-webhook under other names than ${service}; nothing was written."
      echo "run this instead:"
      while read -r name instance; do
        [ -n "$name" ] || continue
        if [ -n "$instance" ]; then
          echo "  $0 --apply --namespace ${namespace} --release ${instance}"
        else
          echo "  $0 --apply --namespace ${namespace} --service ${name} --secret ${name}-tls --ca-secret ${name}-ca --webhook-config ${name}"
        fi
      done <<< "$installs"
    } >&2
    exit 2
  fi
fi

# --- state: ca.crt/ca.key (signs), pending.crt/pending.key (step 1 done), retired.crt + retired-at (trusted a while)
if $apply; then
  state=$(mktemp -d)
  trap 'rm -rf "$state"' EXIT
  ca_version=$(kubectl -n "$namespace" get secret "$ca_secret" --ignore-not-found -o jsonpath='{.metadata.resourceVersion}') \
    || die "cannot read secret ${namespace}/${ca_secret} (kubectl failed; check the context and your permissions)"
  if [ -n "$ca_version" ]; then
    for key in tls.crt tls.key pending.crt pending.key retired.crt retired-at; do
      value=$(kubectl -n "$namespace" get secret "$ca_secret" -o jsonpath="{.data.${key//./\\.}}") || die "cannot read ${ca_secret}"
      target=$key; [ "$key" = tls.crt ] && target=ca.crt; [ "$key" = tls.key ] && target=ca.key
      [ -n "$value" ] && printf '%s' "$value" | base64 -d > "$state/$target"
    done
    echo "using the CA in secret ${namespace}/${ca_secret}"
  elif [ -s "$out/ca.key" ] && [ -s "$out/ca.crt" ]; then
    # Installs made before the CA moved into the cluster serve certificates of this local CA: keep it.
    cp "$out/ca.crt" "$out/ca.key" "$state/"
    echo "moving the local CA $out/ca.crt into secret ${namespace}/${ca_secret}"
  fi
else
  mkdir -p "$out"
  state="$out"
  rm -f "$state/ca-previous.crt" # the layout before rotation had steps
fi
cd "$state"

cn() { printf '%s' "${1:0:64}"; } # X.509 caps a common name at 64 characters; the SANs carry the full names
new_ca_pair() { # $1: file prefix
  openssl ecparam -name prime256v1 -genkey -noout -out "$1.key"
  openssl req -x509 -new -sha256 -key "$1.key" -days "$ca_days" -subj "/CN=$(cn "${service}-ca")/O=$(date -u +%Y%m%dT%H%M%SZ)" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" -addext "keyUsage=critical,keyCertSign,cRLSign" -out "$1.crt" 2>/dev/null
}
fingerprint() { openssl x509 -in "$1" -noout -fingerprint -sha256 2>/dev/null | cut -d= -f2; }
split_pem() { # $1: bundle, $2: prefix of one file per certificate
  awk -v prefix="$2" '/-----BEGIN CERTIFICATE-----/{n++; f=prefix n ".pem"} f{print > f} /-----END CERTIFICATE-----/{f=""}' "$1"
}
issued_by() { openssl verify -no-CApath -CAfile "$2" "$1" >/dev/null 2>&1; } # $1 certificate, $2 one CA

if [ ! -s ca.key ] || [ ! -s ca.crt ]; then
  new_ca_pair ca
  echo "created CA: ${service}-ca"
fi
if $new_ca; then
  if [ -s pending.crt ]; then
    echo "a new CA is already trusted and waiting (step 1 was done before): next, --promote-ca"
  else
    new_ca_pair pending
    echo "created a new CA, trusted from now on but not signing yet: next, --promote-ca"
  fi
fi

# A retired CA stops being trusted only after it has not signed anything for retire_after seconds.
if [ -s retired.crt ] && [ -s retired-at ] && [ $((now - $(cat retired-at))) -ge "$retire_after" ]; then
  rm -f retired.crt retired-at
  echo "dropped the retired CA(s) from caBundle (retired over ${retire_after}s ago)"
fi
retire() { # $1: a CA certificate file that no longer signs but may still be served
  local fp; fp=$(fingerprint "$1")
  if [ -s retired.crt ]; then
    split_pem retired.crt check-
    for f in check-*.pem; do [ "$(fingerprint "$f")" = "$fp" ] && { rm -f check-*.pem; echo "$now" > retired-at; return; }; done
    rm -f check-*.pem
  fi
  cat "$1" >> retired.crt
  echo "$now" > retired-at
}

if $promote_ca; then
  if [ ! -s pending.crt ]; then
    echo "no new CA waiting to be promoted (--new-ca first; or it was promoted already): renewing under the current CA"
  else
    if $apply; then
      # Step 2 signs with the new CA: the API server must trust it already, i.e. step 1 reached caBundle.
      live=$(kubectl get mutatingwebhookconfiguration "$webhook" --ignore-not-found -o jsonpath='{.webhooks[0].clientConfig.caBundle}') \
        || die "cannot read mutatingwebhookconfiguration ${webhook}"
      printf '%s' "$live" | base64 -d > live-bundle.crt 2>/dev/null || true
      grep -q . live-bundle.crt 2>/dev/null && split_pem live-bundle.crt live- || true
      trusted=false
      for f in live-*.pem; do [ -e "$f" ] && [ "$(fingerprint "$f")" = "$(fingerprint pending.crt)" ] && trusted=true; done
      rm -f live-*.pem live-bundle.crt
      if [ -n "$live" ] && ! $trusted; then
        die "caBundle of ${webhook} does not trust the new CA yet: run --new-ca --apply first (already done? the pods keep caBundle at the ca.crt they mount: wait until they have loaded the new one, a minute or two, and run this again)"
      fi
    fi
    retire ca.crt
    mv pending.crt ca.crt && mv pending.key ca.key
    echo "promoted the new CA; the old one stays trusted for at least ${retire_after}s"
  fi
fi

# What pods serve right now: if no CA we keep trusts it (an older install, another tool), keep the one that does.
if $apply; then
  kubectl -n "$namespace" get secret "$secret" --ignore-not-found -o jsonpath='{.data.tls\.crt}' | base64 -d > served.crt \
    || die "cannot read secret ${namespace}/${secret}"
  if [ -s served.crt ]; then
    kept=false
    for f in ca.crt pending.crt retired.crt; do
      [ -s "$f" ] || continue
      split_pem "$f" known-
      for c in known-*.pem; do issued_by served.crt "$c" && kept=true; done
      rm -f known-*.pem
    done
    if ! $kept; then
      kubectl get mutatingwebhookconfiguration "$webhook" --ignore-not-found -o jsonpath='{.webhooks[0].clientConfig.caBundle}' \
        | base64 -d > live-bundle.crt 2>/dev/null || true
      if [ -s live-bundle.crt ]; then
        split_pem live-bundle.crt live-
        for c in live-*.pem; do issued_by served.crt "$c" && { retire "$c"; echo "keeping the CA of the certificate pods serve now trusted for ${retire_after}s"; }; done
        rm -f live-*.pem
      fi
      rm -f live-bundle.crt
    fi
  fi
  rm -f served.crt
fi

# --- the serving certificate, always from the current CA
cat > server.ext <<EXT
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:${service},DNS:${service}.${namespace},DNS:${service}.${namespace}.svc,DNS:${service}.${namespace}.svc.cluster.local
EXT
openssl ecparam -name prime256v1 -genkey -noout -out tls.key.new
openssl req -new -sha256 -key tls.key.new -subj "/CN=$(cn "${service}.${namespace}.svc")" -out tls.csr 2>/dev/null
openssl x509 -req -sha256 -in tls.csr -CA ca.crt -CAkey ca.key -set_serial "0x$(openssl rand -hex 16)" -days "$days" \
  -extfile server.ext -out tls.crt.new 2>/dev/null
mv tls.key.new tls.key && mv tls.crt.new tls.crt
rm -f tls.csr server.ext ca.srl
openssl verify -no-CApath -CAfile ca.crt tls.crt >/dev/null
echo "created serving certificate for ${service}.${namespace}.svc, valid ${days} days"

# Everything a client must trust: the signing CA, a new one waiting, and retired ones still in their window.
cat ca.crt > ca-bundle.crt
for f in pending.crt retired.crt; do [ -s "$f" ] && cat "$f" >> ca-bundle.crt; done

if ! $apply; then
  echo "written to $out: tls.crt, tls.key, ca-bundle.crt (caBundle and the Secret's ca.crt); ca.key stays here"
  exit 0
fi

# --- write back: CA Secret (optimistic: a concurrent run makes this one fail), caBundle, then the TLS Secret
ca_files=(--from-file=tls.crt=ca.crt --from-file=tls.key=ca.key)
for f in pending.crt pending.key retired.crt retired-at; do [ -s "$f" ] && ca_files+=("--from-file=$f=$f"); done
kubectl -n "$namespace" create secret generic "$ca_secret" --type=kubernetes.io/tls "${ca_files[@]}" \
  --dry-run=client -o yaml > ca-secret.yaml
if [ -n "$ca_version" ]; then
  sed -i "s/^metadata:\$/metadata:\n  resourceVersion: \"${ca_version}\"/" ca-secret.yaml
  kubectl replace -f ca-secret.yaml >/dev/null \
    || die "secret ${namespace}/${ca_secret} changed while this ran (another run?): nothing else was written; run again"
else
  kubectl create -f ca-secret.yaml >/dev/null \
    || die "cannot create secret ${namespace}/${ca_secret} (does the namespace exist? another run?): run again"
fi

if kubectl get mutatingwebhookconfiguration "$webhook" >/dev/null 2>&1; then
  bundle=$(base64 < ca-bundle.crt | tr -d '\n')
  count=$(kubectl get mutatingwebhookconfiguration "$webhook" -o jsonpath='{range .webhooks[*]}x{end}')
  ops=""
  for ((i = 0; i < ${#count}; i++)); do
    ops+="${ops:+,}{\"op\":\"add\",\"path\":\"/webhooks/$i/clientConfig/caBundle\",\"value\":\"${bundle}\"}"
  done
  kubectl patch mutatingwebhookconfiguration "$webhook" --type=json -p "[${ops}]" >/dev/null \
    || die "cannot patch caBundle of ${webhook}"
  echo "caBundle of ${webhook}: $(grep -c 'BEGIN CERTIFICATE' ca-bundle.crt) CA certificate(s)"
else
  echo "mutatingwebhookconfiguration ${webhook} not found yet: install next (the pods fill in caBundle from ca.crt)"
fi

kubectl -n "$namespace" create secret generic "$secret" --type=kubernetes.io/tls \
  --from-file=tls.crt=tls.crt --from-file=tls.key=tls.key --from-file=ca.crt=ca-bundle.crt \
  --dry-run=client -o yaml > tls-secret.yaml
if kubectl -n "$namespace" get secret "$secret" >/dev/null 2>&1; then
  kubectl replace -f tls-secret.yaml >/dev/null || die "cannot replace secret ${namespace}/${secret}"
else
  kubectl create -f tls-secret.yaml >/dev/null || die "cannot create secret ${namespace}/${secret}"
fi
# shellcheck disable=SC2086 # one word per label
kubectl -n "$namespace" label --overwrite secret "$ca_secret" "$secret" $labels app.kubernetes.io/instance- >/dev/null \
  || die "cannot label secrets ${ca_secret} and ${secret}"
# Not in Git by design: Argo CD must neither report nor prune them (the release is in dockerconfig-webhook/release, not
# app.kubernetes.io/instance, which label-tracking GitOps tools claim).
kubectl -n "$namespace" annotate --overwrite secret "$ca_secret" "$secret" \
  argocd.argoproj.io/compare-options=IgnoreExtraneous argocd.argoproj.io/sync-options=Prune=false >/dev/null \
  || die "cannot annotate secrets ${ca_secret} and ${secret}"
echo "applied: secret ${namespace}/${secret} (tls.crt, tls.key, ca.crt); pods load it within a minute or two"
