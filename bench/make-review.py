#!/usr/bin/env python3
"""Writes an AdmissionReview (UPDATE of a pull secret) whose document has N registries, every one with a stale auth.

usage: make-review.py N OUT.json
"""
import base64
import json
import sys

n, out = int(sys.argv[1]), sys.argv[2]
entries = ",".join(
    '"r%d.example.com":{"username":"u%d","password":"new-%d","auth":"%s"}'
    % (i, i, i, base64.b64encode(b"u%d:old-%d" % (i, i)).decode())
    for i in range(n))
document = ('{"auths":{%s}}' % entries).encode()
secret = {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/dockerconfigjson",
          "metadata": {"name": "bench", "namespace": "default"},
          "data": {".dockerconfigjson": base64.b64encode(document).decode()}}
review = {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
          "request": {"uid": "00000000-0000-0000-0000-%012d" % n, "operation": "UPDATE", "name": "bench",
                      "namespace": "default", "kind": {"group": "", "version": "v1", "kind": "Secret"},
                      "resource": {"group": "", "version": "v1", "resource": "secrets"},
                      "object": secret, "oldObject": secret, "dryRun": False}}
with open(out, "w") as f:
    json.dump(review, f)
print("%s: %d registries, secret data %d bytes" % (out, n, len(document)), file=sys.stderr)
