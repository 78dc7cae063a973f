#!/usr/bin/env python3
"""Checks of the objects `helm template` rendered from the Forewarn chart.

usage: check_rendered.py RENDERED.yaml CHART_DIR [VALUES.yaml ...]

RENDERED.yaml is the output of `helm template`; CHART_DIR/values.yaml merged with the VALUES
files (later files win, as with helm's -f) gives the values the render used, from which the
Secrets the operator declared as existing are taken (see declared_existing).

Workloads (every Deployment):
  - the selector matches the pod template's labels;
  - every container has liveness and readiness probes (and any startup probe) on a port the
    container declares, by name or number; ports have unique names of at most 15 characters;
  - resources: requests and limits for cpu and memory, requests not above limits;
  - security: runAsNonRoot (container or pod), readOnlyRootFilesystem, allowPrivilegeEscalation
    false, capabilities drop ALL and add none, not privileged, seccomp RuntimeDefault (container
    or pod): the Pod Security "restricted" profile;
  - image with an explicit tag or digest, never "latest";
  - env names unique; every volumeMount names a volume of the pod; every env naming a file
    (FOREWARN_*_FILE, FOREWARN_AUTH_TOKENS, FOREWARN_TLS_*) points at a file of a mounted volume:
    under a volumeMount, and one of the volume's items (or, without items, a key of the rendered
    Secret/ConfigMap);
  - topologySpreadConstraints select the pod's own labels;
  - the ServiceAccount is rendered, or declared in values (serviceAccount.create false).
References: every Secret or ConfigMap named by env valueFrom, envFrom, volumes (secret,
  configMap, projected) and imagePullSecrets is rendered by the chart, or (Secrets only) is
  declared as existing in values. For a rendered one, every key referenced (secretKeyRef.key,
  configMapKeyRef.key, volume items) exists in it. `optional: true` does not excuse a dangling
  reference: the chart must not point at a Secret that nobody provides.
ConfigMaps: keys valid, total size at most 1 MiB (the API server's limit).
Jobs (every Job): the container checks above except probes (resources, security, image, env,
  mounts), restartPolicy Never or OnFailure, a backoffLimit and an activeDeadlineSeconds.
Hooks (objects annotated helm.sh/hook): a hook Job runs before the release's own objects exist
  (pre-install), so every Secret, ConfigMap and ServiceAccount it uses must be declared as
  existing in values or be a hook itself, for every phase of the Job and with a lower
  helm.sh/hook-weight. Conversely no Deployment may use a hook object: hooks are not part of the
  release and are deleted once they succeeded.
HorizontalPodAutoscaler: targets a rendered Deployment that has no fixed spec.replicas (helm
  would reset the HPA's count on every upgrade), minReplicas <= maxReplicas, and a CPU
  utilisation target only on pods whose containers all request cpu.
PodDisruptionBudget: its selector matches the pods of exactly one Deployment, no Deployment is
  covered by two PDBs, and it can be satisfied while one pod is evicted (minAvailable below the
  replica count, or HPA minReplicas; maxUnavailable at least 1), or node drains block forever.
Service: its selector matches the pods of a Deployment, and every targetPort is a port of those
  pods' containers.
Everything: (kind, name) unique; names are DNS-1123 (Services: DNS-1035 labels).

Exits 1 listing every problem, 0 with a summary when clean.
"""

import re
import sys

import yaml

DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
CONFIGMAP_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
CONFIGMAP_MAX_BYTES = 1024 * 1024
PROBE_KINDS = ("livenessProbe", "readinessProbe", "startupProbe")
FILE_ENV = re.compile(r"^FOREWARN_(.+_FILE|AUTH_TOKENS|TLS_CERT|TLS_KEY|TLS_CLIENT_CA)$")


# ----------------------------------------------------------------------------- input

def load_rendered(path):
    """[(source, object)] of every non-empty document of `helm template` output."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    objects = []
    for chunk in re.split(r"^---\s*$", text, flags=re.M):
        source = re.search(r"^# Source: (.+)$", chunk, re.M)
        obj = yaml.safe_load(chunk)
        if obj is None:
            continue
        if not isinstance(obj, dict) or "kind" not in obj:
            raise ValueError("%s: a document that is not a Kubernetes object" % (source and source.group(1)))
        objects.append((source.group(1) if source else "?", obj))
    return objects


def merge_values(base, overlay):
    """helm's -f merge: maps merge recursively, anything else replaces; null deletes a key."""
    out = dict(base)
    for key, value in overlay.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge_values(out[key], value)
        else:
            out[key] = value
    return out


def load_values(chart, files):
    with open("%s/values.yaml" % chart, encoding="utf-8") as f:
        values = yaml.safe_load(f) or {}
    for path in files:
        with open(path, encoding="utf-8") as f:
            values = merge_values(values, yaml.safe_load(f) or {})
    return values


def declared_existing(values):
    """Names of Secrets the values declare as provided by the operator, not by the chart.

    The rule: a non-empty string under a key named `existingSecret` or ending in `Secret`
    (postgresql.existingSecret, kafka.sasl.existingSecret, intake.tlsSecret,
    intake.authTokensSecret, ...), and the names in `imagePullSecrets`. The chart's own
    convention is that such keys name a Secret it does not create; a key that holds a secret
    VALUE (kafka.sasl.password, sms.authHeader) never ends in `Secret`.
    """
    names = {}

    def walk(node, path):
        if isinstance(node, dict):
            for key, value in node.items():
                where = "%s.%s" % (path, key) if path else str(key)
                if isinstance(value, str) and value and str(key).endswith("Secret"):
                    names.setdefault(value, where)
                elif key == "imagePullSecrets" and isinstance(value, list):
                    for i, entry in enumerate(value):
                        if isinstance(entry, dict) and entry.get("name"):
                            names.setdefault(entry["name"], "%s[%d].name" % (where, i))
                else:
                    walk(value, where)

    walk(values, "")
    return names


# ----------------------------------------------------------------------------- helpers

def parse_quantity(text):
    """A Kubernetes quantity (cpu "250m", "2"; memory "512Mi", "1G") as a float."""
    text = str(text)
    m = re.match(r"^([0-9.]+)([a-zA-Z]*)$", text)
    if not m:
        raise ValueError("bad quantity %r" % text)
    number, suffix = float(m.group(1)), m.group(2)
    factors = {"": 1, "m": 1e-3, "k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12,
               "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}
    if suffix not in factors:
        raise ValueError("bad quantity suffix in %r" % text)
    return number * factors[suffix]


def matches(selector, labels):
    """True if a matchLabels map selects an object with these labels."""
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def pod_spec(deploy):
    return deploy.get("spec", {}).get("template", {}).get("spec", {}) or {}


def pod_labels(deploy):
    return deploy.get("spec", {}).get("template", {}).get("metadata", {}).get("labels", {}) or {}


def name_of(obj):
    return obj.get("metadata", {}).get("name", "")


class Hook:
    """The helm.sh/hook annotations of an object: phases, weight, delete policies."""

    def __init__(self, annotations):
        self.phases = {p.strip() for p in annotations["helm.sh/hook"].split(",") if p.strip()}
        self.weight = int(annotations.get("helm.sh/hook-weight", "0"))
        self.delete = {p.strip() for p in annotations.get("helm.sh/hook-delete-policy", "").split(",") if p.strip()}

    def __str__(self):
        return "hook %s weight %d" % (",".join(sorted(self.phases)), self.weight)


def hook_of(obj):
    annotations = obj.get("metadata", {}).get("annotations") or {}
    return Hook(annotations) if "helm.sh/hook" in annotations else None


class Checker:
    def __init__(self, objects, values):
        self.objects = objects
        self.values = values
        self.existing = declared_existing(values)
        self.problems = []
        self.external_used = set()
        self.by_kind = {}
        for _, obj in objects:
            self.by_kind.setdefault(obj["kind"], {})[name_of(obj)] = obj

    def fail(self, where, message):
        self.problems.append("%s: %s" % (where, message))

    def kind(self, kind):
        return self.by_kind.get(kind, {})

    # --------------------------------------------------------------- references

    def keys_of(self, kind, name):
        obj = self.kind(kind)[name]
        keys = set((obj.get("data") or {}).keys()) | set((obj.get("binaryData") or {}).keys())
        if kind == "Secret":
            keys |= set((obj.get("stringData") or {}).keys())
        return keys

    def check_order(self, where, kind, name, user_hook):
        """A rendered object `name` used by a workload that is the hook `user_hook` (or None)."""
        target_hook = hook_of(self.kind(kind)[name])
        if user_hook is None:
            if target_hook is not None:
                self.fail(where, "%s %s is a helm hook (%s), not part of the release: it may be gone "
                          "(hook-delete-policy %s) when the pods need it"
                          % (kind, name, target_hook, ",".join(sorted(target_hook.delete)) or "none"))
            return
        if target_hook is None:
            self.fail(where, "%s %s is created with the release, after this %s that needs it; make it "
                      "a hook of a lower weight or use an existing one" % (kind, name, user_hook))
        elif not user_hook.phases <= target_hook.phases or target_hook.weight >= user_hook.weight:
            self.fail(where, "%s %s (%s) is not created before this %s" % (kind, name, target_hook, user_hook))

    def reference(self, where, kind, name, keys=(), hook=None):
        """A reference to Secret/ConfigMap `name`, using `keys` of it, by a workload that is the
        helm hook `hook` (or None)."""
        if not name:
            self.fail(where, "%s reference without a name" % kind)
            return
        if name in self.kind(kind):
            missing = sorted(set(keys) - self.keys_of(kind, name))
            if missing:
                self.fail(where, "%s %s has no key %s" % (kind, name, ", ".join(missing)))
            self.check_order(where, kind, name, hook)
            return
        if kind == "Secret" and name in self.existing:
            self.external_used.add("%s (%s)" % (name, self.existing[name]))
            return
        self.fail(where, "%s %s is neither rendered by the chart nor declared as existing in values"
                  % (kind, name))

    def check_env_refs(self, where, container, hook=None):
        seen = set()
        for env in container.get("env") or []:
            name = env.get("name")
            if name in seen:
                self.fail(where, "env %s set twice" % name)
            seen.add(name)
            source = env.get("valueFrom") or {}
            if "secretKeyRef" in source:
                ref = source["secretKeyRef"]
                self.reference("%s env %s" % (where, name), "Secret", ref.get("name"), [ref.get("key")], hook)
            if "configMapKeyRef" in source:
                ref = source["configMapKeyRef"]
                self.reference("%s env %s" % (where, name), "ConfigMap", ref.get("name"), [ref.get("key")], hook)
        for source in container.get("envFrom") or []:
            if "secretRef" in source:
                self.reference("%s envFrom" % where, "Secret", source["secretRef"].get("name"), (), hook)
            if "configMapRef" in source:
                self.reference("%s envFrom" % where, "ConfigMap", source["configMapRef"].get("name"), (), hook)

    def check_volume_refs(self, where, volume, hook=None):
        vwhere = "%s volume %s" % (where, volume.get("name"))
        items = lambda src: [i.get("key") for i in (src.get("items") or [])]  # noqa: E731
        if "secret" in volume:
            src = volume["secret"]
            self.reference(vwhere, "Secret", src.get("secretName"), items(src), hook)
        if "configMap" in volume:
            src = volume["configMap"]
            self.reference(vwhere, "ConfigMap", src.get("name"), items(src), hook)
        for src in (volume.get("projected") or {}).get("sources") or []:
            if "secret" in src:
                self.reference(vwhere, "Secret", src["secret"].get("name"), items(src["secret"]), hook)
            if "configMap" in src:
                self.reference(vwhere, "ConfigMap", src["configMap"].get("name"), items(src["configMap"]), hook)

    def check_env_files(self, where, container, volumes):
        """Every env that names a file (FILE_ENV) points at a file a mounted volume provides."""
        mounts = container.get("volumeMounts") or []
        for env in container.get("env") or []:
            name, path = env.get("name") or "", env.get("value")
            if not FILE_ENV.match(name) or not isinstance(path, str):
                continue
            under = [m for m in mounts if path.startswith((m.get("mountPath") or "").rstrip("/") + "/")]
            if not under:
                self.fail(where, "env %s=%s is under no volumeMount of the container" % (name, path))
                continue
            mount = max(under, key=lambda m: len(m.get("mountPath") or ""))
            rel = path[len(mount["mountPath"].rstrip("/")) + 1:]
            volume = volumes.get(mount.get("name")) or {}
            kind = "Secret" if "secret" in volume else "ConfigMap" if "configMap" in volume else None
            if kind is None or mount.get("subPath"):
                continue
            src = volume["secret"] if kind == "Secret" else volume["configMap"]
            source = src.get("secretName") if kind == "Secret" else src.get("name")
            items = src.get("items")
            if items:
                if rel not in [i.get("path") for i in items]:
                    self.fail(where, "env %s=%s: volume %s (%s %s) mounted at %s has no file %s, only %s"
                              % (name, path, mount["name"], kind, source, mount["mountPath"], rel,
                                 ", ".join(sorted(i.get("path") for i in items))))
            elif source in self.kind(kind) and rel not in self.keys_of(kind, source):
                self.fail(where, "env %s=%s: %s %s mounted at %s has no key %s"
                          % (name, path, kind, source, mount["mountPath"], rel))

    # --------------------------------------------------------------- containers

    def check_probes(self, where, container):
        ports = container.get("ports") or []
        names = {p.get("name") for p in ports if p.get("name")}
        numbers = {p.get("containerPort") for p in ports}
        for kind in ("livenessProbe", "readinessProbe"):
            if kind not in container:
                self.fail(where, "no %s" % kind)
        for kind in PROBE_KINDS:
            probe = container.get(kind)
            if probe is None:
                continue
            handler = [h for h in ("httpGet", "tcpSocket", "grpc") if h in probe]
            if len(handler) != 1:
                self.fail(where, "%s must use exactly one of httpGet, tcpSocket, grpc (on a port)" % kind)
                continue
            port = probe[handler[0]].get("port")
            if isinstance(port, str) and port not in names:
                self.fail(where, "%s %s port %r is not a named port of the container (%s)"
                          % (kind, handler[0], port, ", ".join(sorted(names)) or "none"))
            elif isinstance(port, int) and port not in numbers:
                self.fail(where, "%s %s port %d is not a containerPort (%s)"
                          % (kind, handler[0], port, ", ".join(str(n) for n in sorted(numbers))))
            elif not isinstance(port, (str, int)):
                self.fail(where, "%s %s has no port" % (kind, handler[0]))
            if handler[0] == "grpc" and not isinstance(port, int):
                self.fail(where, "%s grpc port must be a number (the API takes no port names)" % kind)

    def check_ports(self, where, container):
        seen = set()
        for port in container.get("ports") or []:
            name = port.get("name")
            if name is None:
                continue
            if len(name) > 15 or not DNS1035_LABEL.match(name):
                self.fail(where, "port name %r is not an IANA service name (<= 15, lower case)" % name)
            if name in seen:
                self.fail(where, "port name %s declared twice" % name)
            seen.add(name)

    def check_resources(self, where, container):
        resources = container.get("resources") or {}
        for part in ("requests", "limits"):
            for res in ("cpu", "memory"):
                if res not in (resources.get(part) or {}):
                    self.fail(where, "resources.%s.%s missing" % (part, res))
        for res in ("cpu", "memory"):
            req = (resources.get("requests") or {}).get(res)
            lim = (resources.get("limits") or {}).get(res)
            if req is None or lim is None:
                continue
            try:
                if parse_quantity(req) > parse_quantity(lim):
                    self.fail(where, "resources.requests.%s %s exceeds limits.%s %s" % (res, req, res, lim))
            except ValueError as e:
                self.fail(where, "resources.%s: %s" % (res, e))

    def check_security(self, where, container, pod):
        sc = container.get("securityContext") or {}
        psc = pod.get("securityContext") or {}
        non_root = sc.get("runAsNonRoot", psc.get("runAsNonRoot"))
        if non_root is not True:
            self.fail(where, "securityContext.runAsNonRoot is not true")
        if sc.get("runAsUser", psc.get("runAsUser")) == 0:
            self.fail(where, "runs as user 0")
        if sc.get("readOnlyRootFilesystem") is not True:
            self.fail(where, "securityContext.readOnlyRootFilesystem is not true")
        if sc.get("allowPrivilegeEscalation") is not False:
            self.fail(where, "securityContext.allowPrivilegeEscalation is not false")
        if sc.get("privileged"):
            self.fail(where, "securityContext.privileged is set")
        caps = sc.get("capabilities") or {}
        if "ALL" not in (caps.get("drop") or []):
            self.fail(where, "securityContext.capabilities.drop does not contain ALL")
        if caps.get("add"):
            self.fail(where, "securityContext.capabilities.add is %s" % caps["add"])
        seccomp = (sc.get("seccompProfile") or psc.get("seccompProfile") or {}).get("type")
        if seccomp not in ("RuntimeDefault", "Localhost"):
            self.fail(where, "seccompProfile is %s, not RuntimeDefault (container or pod)" % seccomp)

    def check_image(self, where, container):
        image = container.get("image") or ""
        last = image.rsplit("/", 1)[-1]
        if "@sha256:" in image:
            return
        if ":" not in last:
            self.fail(where, "image %r has no tag" % image)
        elif last.rsplit(":", 1)[1] in ("", "latest"):
            self.fail(where, "image %r uses a moving tag" % image)

    # --------------------------------------------------------------- workloads

    def check_pod(self, where, pod, labels, hook=None, probes=True):
        """Checks of a pod template shared by Deployments and Jobs; `hook` is the workload's
        helm hook (None for a release object)."""
        volumes = {v.get("name"): v for v in pod.get("volumes") or []}
        for volume in volumes.values():
            self.check_volume_refs(where, volume, hook)
        for i, secret in enumerate(pod.get("imagePullSecrets") or []):
            self.reference("%s imagePullSecrets[%d]" % (where, i), "Secret", secret.get("name"), (), hook)
        containers = pod.get("containers") or []
        if not containers:
            self.fail(where, "no containers")
        for container in containers:
            cwhere = "%s container %s" % (where, container.get("name"))
            self.check_ports(cwhere, container)
            if probes:
                self.check_probes(cwhere, container)
            self.check_resources(cwhere, container)
        for container in containers + (pod.get("initContainers") or []):
            cwhere = "%s container %s" % (where, container.get("name"))
            self.check_security(cwhere, container, pod)
            self.check_image(cwhere, container)
            self.check_env_refs(cwhere, container, hook)
            self.check_env_files(cwhere, container, volumes)
            mounts = set()
            for mount in container.get("volumeMounts") or []:
                if mount.get("name") not in volumes:
                    self.fail(cwhere, "volumeMount %s names no volume of the pod" % mount.get("name"))
                if mount.get("mountPath") in mounts:
                    self.fail(cwhere, "two volumeMounts at %s" % mount.get("mountPath"))
                mounts.add(mount.get("mountPath"))
        for tsc in pod.get("topologySpreadConstraints") or []:
            sel = (tsc.get("labelSelector") or {}).get("matchLabels") or {}
            if not matches(sel, labels):
                self.fail(where, "topologySpreadConstraints labelSelector %s does not select the "
                          "pod's own labels %s" % (sel, labels))
        sa = pod.get("serviceAccountName", "default")
        sa_values = self.values.get("serviceAccount") or {}
        declared = not sa_values.get("create", True) and sa == (sa_values.get("name") or "default")
        if sa in self.kind("ServiceAccount"):
            self.check_order(where, "ServiceAccount", sa, hook)
        elif not declared:
            self.fail(where, "serviceAccountName %s is not rendered and not declared in values" % sa)

    def check_deployment(self, deploy):
        where = "Deployment/%s" % name_of(deploy)
        spec = deploy.get("spec") or {}
        selector = (spec.get("selector") or {}).get("matchLabels") or {}
        labels = pod_labels(deploy)
        if not matches(selector, labels):
            self.fail(where, "selector %s does not match the pod labels %s" % (selector, labels))
        if hook_of(deploy):
            self.fail(where, "a Deployment must not be a helm hook")
        self.check_pod(where, pod_spec(deploy), labels)

    def check_job(self, job):
        where = "Job/%s" % name_of(job)
        spec = job.get("spec") or {}
        pod = pod_spec(job)
        if pod.get("restartPolicy") not in ("Never", "OnFailure"):
            self.fail(where, "restartPolicy must be Never or OnFailure, not %s" % pod.get("restartPolicy"))
        for key in ("backoffLimit", "activeDeadlineSeconds"):
            if key not in spec:
                self.fail(where, "no spec.%s: a failing hook Job would hold helm until its timeout" % key)
        self.check_pod(where, pod, pod_labels(job), hook_of(job), probes=False)

    def pods_selected(self, selector):
        return [d for d in self.kind("Deployment").values() if matches(selector, pod_labels(d))]

    def replicas_floor(self, deploy):
        """Lowest replica count the Deployment runs at: the HPA's minReplicas or spec.replicas."""
        for hpa in self.kind("HorizontalPodAutoscaler").values():
            ref = hpa.get("spec", {}).get("scaleTargetRef", {})
            if ref.get("kind") == "Deployment" and ref.get("name") == name_of(deploy):
                return hpa["spec"].get("minReplicas", 1)
        return deploy.get("spec", {}).get("replicas", 1)

    def check_hpa(self, hpa):
        where = "HorizontalPodAutoscaler/%s" % name_of(hpa)
        spec = hpa.get("spec") or {}
        ref = spec.get("scaleTargetRef") or {}
        target = self.kind("Deployment").get(ref.get("name"))
        if ref.get("kind") != "Deployment" or ref.get("apiVersion") != "apps/v1" or target is None:
            self.fail(where, "scaleTargetRef %s does not name a rendered apps/v1 Deployment" % ref)
            return
        if "replicas" in target.get("spec", {}):
            self.fail(where, "its Deployment %s sets spec.replicas, which every upgrade would "
                      "reset under the autoscaler" % ref["name"])
        if spec.get("minReplicas", 1) > spec.get("maxReplicas", 0):
            self.fail(where, "minReplicas exceeds maxReplicas")
        for metric in spec.get("metrics") or []:
            resource = metric.get("resource") or {}
            if metric.get("type") == "Resource" and resource.get("target", {}).get("type") == "Utilization":
                for c in pod_spec(target).get("containers") or []:
                    if resource.get("name") not in ((c.get("resources") or {}).get("requests") or {}):
                        self.fail(where, "targets %s utilisation but container %s requests no %s"
                                  % (resource.get("name"), c.get("name"), resource.get("name")))

    def check_pdbs(self):
        covered = {}
        for pdb in self.kind("PodDisruptionBudget").values():
            where = "PodDisruptionBudget/%s" % name_of(pdb)
            spec = pdb.get("spec") or {}
            selector = (spec.get("selector") or {}).get("matchLabels") or {}
            targets = self.pods_selected(selector)
            if len(targets) != 1:
                self.fail(where, "selector %s matches the pods of %d Deployments, not 1: %s"
                          % (selector, len(targets), [name_of(t) for t in targets]))
            for deploy in targets:
                covered.setdefault(name_of(deploy), []).append(name_of(pdb))
                floor = self.replicas_floor(deploy)
                if "minAvailable" in spec and isinstance(spec["minAvailable"], int) and spec["minAvailable"] >= floor:
                    self.fail(where, "minAvailable %d with %d replica(s) of %s: no pod may ever be "
                              "evicted, node drains block" % (spec["minAvailable"], floor, name_of(deploy)))
                if "maxUnavailable" in spec and spec["maxUnavailable"] in (0, "0", "0%"):
                    self.fail(where, "maxUnavailable 0 blocks every eviction")
            if ("minAvailable" in spec) == ("maxUnavailable" in spec):
                self.fail(where, "set exactly one of minAvailable and maxUnavailable")
        for deploy, pdbs in covered.items():
            if len(pdbs) > 1:
                self.fail("Deployment/%s" % deploy, "covered by several PDBs %s: the eviction API "
                          "refuses such pods" % pdbs)

    def check_service(self, svc):
        where = "Service/%s" % name_of(svc)
        spec = svc.get("spec") or {}
        selector = spec.get("selector") or {}
        targets = self.pods_selected(selector)
        if not targets:
            self.fail(where, "selector %s matches the pods of no Deployment" % selector)
        for port in spec.get("ports") or []:
            target = port.get("targetPort", port.get("port"))
            for deploy in targets:
                cports = [p for c in pod_spec(deploy).get("containers") or [] for p in c.get("ports") or []]
                if not any(target in (p.get("name"), p.get("containerPort")) for p in cports):
                    self.fail(where, "port %s targets %r, which Deployment %s's containers do not declare"
                              % (port.get("name"), target, name_of(deploy)))

    def check_configmap(self, cm):
        where = "ConfigMap/%s" % name_of(cm)
        size = 0
        for key, value in (cm.get("data") or {}).items():
            if not CONFIGMAP_KEY.match(str(key)):
                self.fail(where, "key %r is not a valid ConfigMap key" % key)
            if not isinstance(value, str):
                self.fail(where, "data.%s is a %s, not a string" % (key, type(value).__name__))
            size += len(str(key)) + len(str(value).encode("utf-8"))
        if size > CONFIGMAP_MAX_BYTES:
            self.fail(where, "%d bytes of data, over the 1 MiB limit" % size)

    def check_names(self):
        seen = set()
        for source, obj in self.objects:
            ident = (obj["kind"], name_of(obj))
            if ident in seen:
                self.fail("%s/%s" % ident, "rendered twice (second in %s)" % source)
            seen.add(ident)
            name = name_of(obj)
            if not DNS1123_SUBDOMAIN.match(name) or len(name) > 253:
                self.fail("%s/%s" % ident, "name is not a DNS-1123 subdomain")
            if obj["kind"] == "Service" and (len(name) > 63 or not DNS1035_LABEL.match(name)):
                self.fail("%s/%s" % ident, "Service name is not a DNS-1035 label")

    def run(self):
        self.check_names()
        for deploy in self.kind("Deployment").values():
            self.check_deployment(deploy)
        for job in self.kind("Job").values():
            self.check_job(job)
        for hpa in self.kind("HorizontalPodAutoscaler").values():
            self.check_hpa(hpa)
        self.check_pdbs()
        for svc in self.kind("Service").values():
            self.check_service(svc)
        for cm in self.kind("ConfigMap").values():
            self.check_configmap(cm)
        if not self.kind("Deployment"):
            self.fail("render", "no Deployment rendered")
        return self.problems

    def summary(self):
        counts = ", ".join("%d %s" % (len(v), k) for k, v in sorted(self.by_kind.items()))
        external = ", ".join(sorted(self.external_used)) or "none"
        return "%s; existing Secrets taken from values: %s" % (counts, external)


def check(rendered_path, chart, value_files):
    """(problems, summary) for a `helm template` output file."""
    checker = Checker(load_rendered(rendered_path), load_values(chart, value_files))
    problems = checker.run()
    return problems, checker.summary()


def report(rendered_path, chart, value_files):
    """Checks a `helm template` output file and prints the verdict; the exit status (0: no problems)."""
    problems, summary = check(rendered_path, chart, value_files)
    for p in problems:
        print("FAIL " + p)
    if problems:
        return 1
    print("ok: " + summary)
    return 0


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    return report(argv[1], argv[2], argv[3:])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
