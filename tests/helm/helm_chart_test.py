#!/usr/bin/env python3
"""Runs the real helm binary ($FOREWARN_HELM, installed by scripts/helm.sh) on the chart.

usage: helm_chart_test.py MODE CHART_DIR OUT_DIR [VALUES.yaml ...]

CHART_DIR is a complete chart (with files/templates/, see scripts/helm-package.sh --chart-dir).
OUT_DIR receives the rendered manifests, for reading after a failure.

lint       `helm lint --strict` with the VALUES files passes (no errors, no warnings).
render     `helm template` with the VALUES files succeeds, and check_rendered.py finds nothing
           wrong in the objects.
rejects    the chart refuses to render, with a message naming the value, each of a table of
           incomplete or contradictory configurations (default values.yaml alone first: it has
           no database URI and no Kafka credentials, so it must not render).
faults     check_rendered.py catches faults injected into a good render (VALUES): each injected
           fault must produce its expected problem, so a checker that silently stopped checking
           something fails here.

Exits 77 (ctest SKIP_RETURN_CODE) when FOREWARN_HELM is unset, 1 on failure, 0 on success.
"""

import copy
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_rendered  # noqa: E402

SKIP = 77
RELEASE = "forewarn"
NAMESPACE = "forewarn"

# (name, --set arguments on top of values.yaml, text the error must contain)
REJECTED = [
    ("default values.yaml alone", [], "set postgresql.uri or postgresql.existingSecret"),
    ("SASL without credentials",
     ["postgresql.uri=postgresql://u@db/forewarn"],
     "kafka.sasl.username and kafka.sasl.password"),
    ("unknown Kafka security protocol",
     ["postgresql.uri=postgresql://u@db/forewarn", "kafka.securityProtocol=SASL_TLS"],
     "kafka.securityProtocol must be one of"),
    ("no bootstrap servers",
     ["postgresql.uri=postgresql://u@db/forewarn", "kafka.securityProtocol=SSL", "kafka.bootstrapServers="],
     "kafka.bootstrapServers is required"),
    ("more notifiers than notice partitions",
     ["postgresql.uri=postgresql://u@db/forewarn", "kafka.securityProtocol=SSL",
      "notifier.autoscaling.maxReplicas=13"],
     "notifier.autoscaling.maxReplicas exceeds kafka.topics.notices.partitions"),
    ("autoscaler minimum above maximum",
     ["postgresql.uri=postgresql://u@db/forewarn", "kafka.securityProtocol=SSL",
      "notifier.autoscaling.minReplicas=5", "notifier.autoscaling.maxReplicas=4"],
     "notifier.autoscaling.minReplicas exceeds maxReplicas"),
    ("mutual TLS without a TLS secret",
     ["postgresql.uri=postgresql://u@db/forewarn", "kafka.securityProtocol=SSL", "intake.mutualTls=true"],
     "intake.mutualTls needs intake.tlsSecret"),
    ("public endpoint without its Secret",
     ["postgresql.uri=postgresql://u@db/forewarn", "kafka.securityProtocol=SSL", "publicEndpoint.enabled=true",
      "publicEndpoint.unsubscribeUrl=https://n.example/u/"],
     "publicEndpoint.enabled needs publicEndpoint.existingSecret"),
    ("unsubscribe links over plain http",
     ["postgresql.uri=postgresql://u@db/forewarn", "kafka.securityProtocol=SSL", "publicEndpoint.enabled=true",
      "publicEndpoint.existingSecret=p", "publicEndpoint.unsubscribeUrl=http://n.example/u/"],
     "publicEndpoint.unsubscribeUrl must be an https URL"),
    ("min.insync.replicas above the replication factor",
     ["postgresql.uri=postgresql://u@db/forewarn", "kafka.securityProtocol=SSL",
      "kafka.provisioning.replicationFactor=2", "kafka.provisioning.minInsyncReplicas=3"],
     "kafka.provisioning.minInsyncReplicas (3) exceeds kafka.provisioning.replicationFactor (2)"),
    ("PDB that blocks every drain",
     ["postgresql.uri=postgresql://u@db/forewarn", "kafka.securityProtocol=SSL",
      "intake.replicaCount=1"],
     "intake.pdb.minAvailable (1) must be below intake.replicaCount (1)"),
]


def helm():
    path = os.environ.get("FOREWARN_HELM")
    if not path:
        print("SKIP: FOREWARN_HELM is not set. Run the helm tests through scripts/test.sh, which "
              "installs a pinned helm with scripts/helm.sh and exports FOREWARN_HELM.")
        sys.exit(SKIP)
    if not os.access(path, os.X_OK):
        print("FAIL: FOREWARN_HELM=%s is not an executable file" % path)
        sys.exit(1)
    return path


def run(args):
    print("$ " + " ".join(args), flush=True)
    return subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def values_args(files):
    return [arg for f in files for arg in ("-f", f)]


def template(chart, files, sets=()):
    return run([helm(), "template", RELEASE, chart, "--namespace", NAMESPACE]
               + values_args(files) + [a for s in sets for a in ("--set", s)])


def mode_lint(chart, out_dir, files):
    result = run([helm(), "lint", "--strict", chart, "--namespace", NAMESPACE] + values_args(files))
    print(result.stdout)
    return 0 if result.returncode == 0 else 1


def render_to(chart, out_dir, files):
    """Path of the rendered manifests, or None after printing helm's error."""
    result = template(chart, files)
    name = "-".join(os.path.splitext(os.path.basename(f))[0] for f in files) or "defaults"
    path = os.path.join(out_dir, "rendered-%s.yaml" % name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(result.stdout)
    if result.returncode != 0:
        print(result.stdout)
        print("FAIL: helm template exited with %d" % result.returncode)
        return None
    print("rendered into %s" % path)
    return path


def mode_render(chart, out_dir, files):
    path = render_to(chart, out_dir, files)
    if path is None:
        return 1
    return check_rendered.report(path, chart, files)


def mode_rejects(chart, out_dir, files):
    failures = 0
    for name, sets, expected in REJECTED:
        result = template(chart, files, sets)
        if result.returncode == 0:
            print("FAIL %s: rendered, but should have been refused (%s)" % (name, expected))
            failures += 1
        elif expected not in result.stdout:
            print("FAIL %s: refused without the expected message %r:\n%s" % (name, expected, result.stdout))
            failures += 1
        else:
            print("ok %s: %s" % (name, [l for l in result.stdout.splitlines() if expected in l][0]))
    return 1 if failures else 0


# ------------------------------------------------------------------------- faults

def deployments(objs, name_suffix):
    return [o for o in objs if o["kind"] == "Deployment" and o["metadata"]["name"].endswith(name_suffix)]


def first_container(objs, suffix):
    return deployments(objs, suffix)[0]["spec"]["template"]["spec"]["containers"][0]


def of_kind(objs, kind, suffix=""):
    return [o for o in objs if o["kind"] == kind and o["metadata"]["name"].endswith(suffix)][0]


def fault_probe_port(objs):
    first_container(objs, "-resolver")["livenessProbe"]["httpGet"]["port"] = "http"


def fault_no_readiness(objs):
    del first_container(objs, "-notifier")["readinessProbe"]


def fault_no_limits(objs):
    del first_container(objs, "-scheduler")["resources"]["limits"]


def fault_privilege_escalation(objs):
    first_container(objs, "-intake")["securityContext"]["allowPrivilegeEscalation"] = True


def fault_capabilities(objs):
    first_container(objs, "-intake")["securityContext"]["capabilities"] = {"drop": ["NET_RAW"]}


def fault_writable_root(objs):
    del first_container(objs, "-resolver")["securityContext"]["readOnlyRootFilesystem"]


def fault_root(objs):
    for d in deployments(objs, "-notifier"):
        d["spec"]["template"]["spec"]["securityContext"].pop("runAsNonRoot", None)
        d["spec"]["template"]["spec"]["containers"][0]["securityContext"].pop("runAsNonRoot", None)


def fault_dangling_secret(objs):
    for env in first_container(objs, "-resolver")["env"]:
        if "valueFrom" in env and "secretKeyRef" in env["valueFrom"]:
            env["valueFrom"]["secretKeyRef"]["name"] = "nobody-made-this"
            return


def fault_dangling_configmap(objs):
    first_container(objs, "-scheduler")["envFrom"][0]["configMapRef"]["name"] = "forewarn-setings"


def fault_missing_key(objs):
    cm = of_kind(objs, "ConfigMap", "-templates")
    cm["data"].pop(sorted(cm["data"])[0])


def fault_hpa_target(objs):
    of_kind(objs, "HorizontalPodAutoscaler")["spec"]["scaleTargetRef"]["name"] = "forewarn-notifiers"


def fault_hpa_replicas(objs):
    deployments(objs, "-notifier")[0]["spec"]["replicas"] = 3


def fault_pdb_selector(objs):
    of_kind(objs, "PodDisruptionBudget", "-resolver")["spec"]["selector"]["matchLabels"][
        "app.kubernetes.io/component"] = "resolvers"


def fault_pdb_blocks(objs):
    of_kind(objs, "PodDisruptionBudget", "-intake")["spec"]["minAvailable"] = 99


def fault_service_selector(objs):
    of_kind(objs, "Service", "-intake")["spec"]["selector"]["app.kubernetes.io/component"] = "api"


def fault_service_port(objs):
    of_kind(objs, "Service", "-intake")["spec"]["ports"][0]["targetPort"] = "grpcs"


def fault_volume_mount(objs):
    first_container(objs, "-intake")["volumeMounts"].append({"name": "scratch", "mountPath": "/scratch"})


def fault_latest_image(objs):
    c = first_container(objs, "-scheduler")
    c["image"] = c["image"].rsplit(":", 1)[0] + ":latest"


def fault_spread(objs):
    spec = deployments(objs, "-intake")[0]["spec"]["template"]["spec"]
    spec["topologySpreadConstraints"][0]["labelSelector"]["matchLabels"]["app.kubernetes.io/instance"] = "fw"


def job(objs):
    return of_kind(objs, "Job", "-topics")


def fault_job_uses_release_configmap(objs):
    job(objs)["spec"]["template"]["spec"]["containers"][0]["envFrom"] = [
        {"configMapRef": {"name": "forewarn-settings"}}]


def fault_job_no_deadline(objs):
    del job(objs)["spec"]["activeDeadlineSeconds"]


def fault_job_privilege_escalation(objs):
    job(objs)["spec"]["template"]["spec"]["containers"][0]["securityContext"]["allowPrivilegeEscalation"] = True


def fault_job_no_limits(objs):
    del job(objs)["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]


def fault_hook_account_too_late(objs):
    of_kind(objs, "ServiceAccount", "-topics")["metadata"]["annotations"]["helm.sh/hook-weight"] = "5"


def fault_deployment_uses_hook_account(objs):
    deployments(objs, "-notifier")[0]["spec"]["template"]["spec"]["serviceAccountName"] = "forewarn-topics"


# (fault, text the checker's report must contain)
FAULTS = [
    (fault_probe_port, "livenessProbe httpGet port 'http' is not a named port"),
    (fault_no_readiness, "no readinessProbe"),
    (fault_no_limits, "resources.limits.cpu missing"),
    (fault_privilege_escalation, "allowPrivilegeEscalation is not false"),
    (fault_capabilities, "capabilities.drop does not contain ALL"),
    (fault_writable_root, "readOnlyRootFilesystem is not true"),
    (fault_root, "runAsNonRoot is not true"),
    (fault_dangling_secret, "Secret nobody-made-this is neither rendered by the chart nor declared"),
    (fault_dangling_configmap, "ConfigMap forewarn-setings is neither rendered"),
    (fault_missing_key, "has no key"),
    (fault_hpa_target, "does not name a rendered apps/v1 Deployment"),
    (fault_hpa_replicas, "sets spec.replicas"),
    (fault_pdb_selector, "matches the pods of 0 Deployments"),
    (fault_pdb_blocks, "no pod may ever be evicted"),
    (fault_service_selector, "matches the pods of no Deployment"),
    (fault_service_port, "targets 'grpcs'"),
    (fault_volume_mount, "volumeMount scratch names no volume"),
    (fault_latest_image, "uses a moving tag"),
    (fault_spread, "does not select the pod's own labels"),
    (fault_job_uses_release_configmap, "ConfigMap forewarn-settings is created with the release, after this hook"),
    (fault_job_no_deadline, "Job/forewarn-topics: no spec.activeDeadlineSeconds"),
    (fault_job_privilege_escalation, "Job/forewarn-topics container topics: securityContext.allowPrivilegeEscalation"),
    (fault_job_no_limits, "Job/forewarn-topics container topics: resources.limits.cpu missing"),
    (fault_hook_account_too_late, "ServiceAccount forewarn-topics (hook pre-install,pre-upgrade weight 5) is not "
                                  "created before this hook"),
    (fault_deployment_uses_hook_account, "ServiceAccount forewarn-topics is a helm hook"),
]


def mode_faults(chart, out_dir, files):
    path = render_to(chart, out_dir, files)
    if path is None:
        return 1
    objects = check_rendered.load_rendered(path)
    values = check_rendered.load_values(chart, files)
    clean = check_rendered.Checker(objects, values).run()
    if clean:
        print("FAIL: the unmodified render already has problems:\n  " + "\n  ".join(clean))
        return 1
    failures = 0
    for fault, expected in FAULTS:
        broken = copy.deepcopy(objects)
        fault([obj for _, obj in broken])
        problems = check_rendered.Checker(broken, values).run()
        if any(expected in p for p in problems):
            print("ok %s: %s" % (fault.__name__, [p for p in problems if expected in p][0]))
        else:
            print("FAIL %s: expected a problem containing %r, got %s" % (fault.__name__, expected, problems))
            failures += 1
    return 1 if failures else 0


MODES = {"lint": mode_lint, "render": mode_render, "rejects": mode_rejects, "faults": mode_faults}


def main(argv):
    if len(argv) < 4 or argv[1] not in MODES:
        print(__doc__, file=sys.stderr)
        return 2
    helm()  # skip early when there is no helm
    mode, chart, out_dir, files = argv[1], argv[2], argv[3], argv[4:]
    if not os.path.isdir(os.path.join(chart, "files", "templates")):
        print("FAIL: %s/files/templates is missing; prepare the chart with "
              "scripts/helm-package.sh --chart-dir %s --copy-only" % (chart, chart))
        return 1
    os.makedirs(out_dir, exist_ok=True)
    return MODES[mode](chart, out_dir, files)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
