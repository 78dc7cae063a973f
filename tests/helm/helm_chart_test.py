#!/usr/bin/env python3
"""Runs the real helm binary ($FOREWARN_HELM, installed by scripts/helm.sh) on the chart.

usage: helm_chart_test.py MODE CHART_DIR OUT_DIR [VALUES.yaml ...]

CHART_DIR is a complete chart (with files/templates/, see scripts/helm-package.sh --chart-dir).
OUT_DIR receives the rendered manifests, for reading after a failure.

lint       `helm lint --strict` with the VALUES files passes (no errors, no warnings).
render     `helm template` with the VALUES files succeeds, and check_rendered.py finds nothing
           wrong in the objects; for a values file listed in EXPECTED (the SMS providers), the
           Deployments also have exactly the environment, mounted secret files and arguments
           listed there.
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
    ("a display name in the sender address (the notifier would refuse it at start-up)",
     ["postgresql.uri=postgresql://u@db/forewarn", "kafka.securityProtocol=SSL",
      "smtp.from=Forewarn <no-reply@example.com>"],
     "smtp.from must be the address alone"),
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

# SMS providers, delivery receipts and the lead margin (issue 17).
BASE = ["postgresql.uri=postgresql://u@db/forewarn", "kafka.securityProtocol=SSL"]
KANNEL = BASE + ["sms.provider=kannel", "sms.kannel.url=http://kannel:13013/cgi-bin/sendsms",
                 "sms.kannel.user=fw", "sms.kannel.password=pw",
                 "receipts.secret=0123456789abcdef0123456789abcdef", "receipts.url=https://n.example"]
SMPP = BASE + ["sms.provider=smpp", "sms.smpp.host=smsc.example:2775", "sms.smpp.systemId=fw",
               "sms.smpp.password=pw"]


def without(sets, key):
    return [s for s in sets if not s.startswith(key + "=")]


REJECTED += [
    ("unknown SMS provider", BASE + ["sms.provider=twilio"],
     'sms.provider must be one of http, kannel, smpp, got "twilio"'),
    ("Kannel without its URL", without(KANNEL, "sms.kannel.url"), "sms.provider kannel needs sms.kannel.url"),
    ("Kannel URL that is not http", without(KANNEL, "sms.kannel.url") + ["sms.kannel.url=kannel:13013"],
     "sms.kannel.url must be an http:// or https:// URL with a host"),
    ("Kannel without its user", without(KANNEL, "sms.kannel.user"), "sms.provider kannel needs sms.kannel.user"),
    ("Kannel without its password", without(KANNEL, "sms.kannel.password"),
     'sms.provider kannel needs sms.kannel.password, or sms.existingSecret with the key "kannel-password"'),
    ("Kannel without the receipts secret", without(KANNEL, "receipts.secret"),
     "sms.provider kannel needs receipts.secret or receipts.existingSecret"),
    ("Kannel without a receipt URL", without(KANNEL, "receipts.url"), "sms.provider kannel needs receipts.url"),
    ("receipt URL with a query", without(KANNEL, "receipts.url") + ["receipts.url=https://n.example/?k=1"],
     "receipts.url must be http(s)://host[:port] of the intake's public endpoint, without a query"),
    ("short receipts secret", BASE + ["receipts.secret=too-short"],
     "receipts.secret has 9 bytes; it needs at least 32"),
    ("SMPP without a host", without(SMPP, "sms.smpp.host"), "sms.provider smpp needs sms.smpp.host"),
    ("SMPP host without a port", without(SMPP, "sms.smpp.host") + ["sms.smpp.host=smsc.example"],
     'sms.smpp.host must be HOST:PORT, got "smsc.example"'),
    ("SMPP without a system id", without(SMPP, "sms.smpp.systemId"), "sms.provider smpp needs sms.smpp.systemId"),
    ("SMPP system id over 15 characters", without(SMPP, "sms.smpp.systemId") + ["sms.smpp.systemId=forewarn-notices"],
     "sms.smpp.systemId has 16 characters; SMPP allows at most 15"),
    ("SMPP without a password", without(SMPP, "sms.smpp.password"),
     'sms.provider smpp needs sms.smpp.password, or sms.existingSecret with the key "smpp-password"'),
    ("SMPP password over 8 characters", without(SMPP, "sms.smpp.password") + ["sms.smpp.password=123456789"],
     "sms.smpp.password has 9 characters; SMPP allows at most 8"),
    ("SMPP system type over 12 characters", SMPP + ["sms.smpp.systemType=forewarn-main"],
     "sms.smpp.systemType has 13 characters; SMPP allows at most 12"),
    ("SMPP window of 0", SMPP + ["sms.smpp.window=0"], "sms.smpp.window must be within 1..1000, got 0"),
    ("receipt timeout without a channel", BASE + ["receipts.timeout=1h"],
     'receipts.timeout must be CHANNEL=DURATION pairs, comma separated (sms or email, e.g. sms=1h,email=4h), got "1h"'),
    ("lead margin that is not a duration", BASE + ["settings.leadMargin=half a day"],
     'settings.leadMargin must be a duration like 12h or 90m, got "half a day"'),
    ("receipt give-up that is not a duration", BASE + ["receipts.giveUp=1d"],
     'receipts.giveUp must be a duration like 24h, got "1d"'),
    # The notices' status link and verification code (issue 19).
    ("status link over plain http", BASE + ["noticeLinks.statusBaseUrl=http://status.example.com"],
     'noticeLinks.statusBaseUrl must be https://host[/path] without a query, got "http://status.example.com"'),
    ("short code secret", BASE + ["noticeLinks.codeSecret=too-short"],
     "noticeLinks.codeSecret has 9 bytes; it needs at least 32"),
]

# forewarn-status (status.*); its message-code secret is noticeLinks' (made by the chart when not given).
STATUS = BASE + ["status.enabled=true"]
REJECTED += [
    ("status pages in an unknown language", STATUS + ["status.defaultLanguage=fr"],
     'status.defaultLanguage must be ar or en, got "fr"'),
    ("status base URL with a path", STATUS + ["status.baseUrl=https://status.example.com/pages/"],
     "status.baseUrl must be http(s)://host[:port] without a path, query or trailing slash"),
    ("status PDB that blocks every drain", STATUS + ["status.replicaCount=1"],
     "status.pdb.minAvailable (1) must be below status.replicaCount (1)"),
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


# ---------------------------------------------------------------------- expected

class File:
    """An env value that must be the path of a file holding key KEY of Secret SECRET, through a
    volume of the pod mounted in the container (the key of a chart-made Secret must also hold
    VALUE, when given)."""

    def __init__(self, secret, key, value=None):
        self.secret, self.key, self.value = secret, key, value

    def __repr__(self):
        return "file of Secret %s key %s" % (self.secret, self.key)


class SecretKey:
    """An env value taken from key KEY of Secret SECRET (valueFrom.secretKeyRef)."""

    def __init__(self, secret, key):
        self.secret, self.key = secret, key

    def __repr__(self):
        return "secretKeyRef %s/%s" % (self.secret, self.key)


ABSENT = "<absent>"
SMS_ENV = ["FOREWARN_SMS_URL", "FOREWARN_SMS_AUTH_HEADER", "FOREWARN_SMS_SENDER", "FOREWARN_SMS_PROVIDER",
           "FOREWARN_KANNEL_URL", "FOREWARN_KANNEL_USER", "FOREWARN_KANNEL_PASSWORD_FILE", "FOREWARN_RECEIPT_URL",
           "FOREWARN_RECEIPT_SECRET_FILE", "FOREWARN_RECEIPT_TIMEOUT", "FOREWARN_SMPP_HOST", "FOREWARN_SMPP_SYSTEM_ID",
           "FOREWARN_SMPP_PASSWORD_FILE", "FOREWARN_SMPP_SYSTEM_TYPE", "FOREWARN_SMPP_SOURCE_ADDR",
           "FOREWARN_SMPP_WINDOW", "FOREWARN_SMPP_ENQUIRE_LINK_S", "FOREWARN_SMPP_THROUGHPUT"]


def only(expected, names=SMS_ENV):
    """`expected`, with every other name of `names` ABSENT."""
    out = {n: ABSENT for n in names}
    out.update(expected)
    return out


RECEIPT_SECRET = "placeholder-receipt-secret-0123456789abcdef"
CODE_SECRET = "placeholder-message-code-secret-0123456789"
# values file -> {Deployment suffix: {env name: value, File or ABSENT, "@args": [argument run]}}
#                 plus "@settings": {key: value or ABSENT} of the settings ConfigMap and
#                 "@public": whether the intake Service has its public port;
#                 "@status": whether forewarn-status is deployed (Deployment, Service, PDB).
EXPECTED = {
    "values-kannel.yaml": {
        "-notifier": only({
            "FOREWARN_SMS_PROVIDER": "kannel",
            "FOREWARN_SMS_SENDER": "BANK",
            "FOREWARN_KANNEL_URL": "http://kannel.sms.svc:13013/cgi-bin/sendsms",
            "FOREWARN_KANNEL_USER": "forewarn",
            "FOREWARN_KANNEL_PASSWORD_FILE": File("forewarn-sms", "kannel-password", "placeholder"),
            "FOREWARN_RECEIPT_URL": "https://notices.example.com",
            "FOREWARN_RECEIPT_SECRET_FILE": File("forewarn-receipts", "receipt-secret", RECEIPT_SECRET),
            "FOREWARN_RECEIPT_TIMEOUT": "sms=30m,email=4h",
            "FOREWARN_UNSUBSCRIBE_SECRET_FILE": File("forewarn-public", "unsubscribe-keys"),
            "FOREWARN_MESSAGE_CODE_SECRET_FILE": File("forewarn-message-codes", "message-code-secret", CODE_SECRET),
            "FOREWARN_STATUS_BASE_URL": "https://status.example.com",
            "FOREWARN_STATUS_LINK_KINDS": ABSENT,
        }),
        "-intake": {
            "FOREWARN_MESSAGE_CODE_SECRET_FILE": File("forewarn-message-codes", "message-code-secret", CODE_SECRET),
            "FOREWARN_STATUS_BASE_URL": "https://status.example.com",
            "FOREWARN_PUBLIC_LISTEN": "0.0.0.0:8081",
            "FOREWARN_RECEIPT_SECRET_FILE": File("forewarn-receipts", "receipt-secret", RECEIPT_SECRET),
            "FOREWARN_UNSUBSCRIBE_SECRET_FILE": File("forewarn-public", "unsubscribe-keys"),
            "FOREWARN_INBOUND_SMS_SECRET_FILE": File("forewarn-public", "inbound-sms-secret"),
        },
        "-scheduler": {"@args": ["--receipt-give-up", "36h"]},
        "@settings": {"FOREWARN_LEAD_MARGIN": "6h"},
        "@public": True,
    },
    "values-smpp.yaml": {
        "-notifier": only({
            "FOREWARN_SMS_PROVIDER": "smpp",
            "FOREWARN_SMPP_HOST": "smsc.operator.example:2775",
            "FOREWARN_SMPP_SYSTEM_ID": "forewarn01",
            "FOREWARN_SMPP_PASSWORD_FILE": File("forewarn-smpp", "password"),
            "FOREWARN_SMPP_SYSTEM_TYPE": "VMA",
            "FOREWARN_SMPP_SOURCE_ADDR": "BANK",
            "FOREWARN_SMPP_WINDOW": "20",
            "FOREWARN_SMPP_ENQUIRE_LINK_S": "60",
            "FOREWARN_SMPP_THROUGHPUT": "50",
            "FOREWARN_UNSUBSCRIBE_SECRET_FILE": ABSENT,
            "FOREWARN_MESSAGE_CODE_SECRET_FILE": File("forewarn-code-key", "code"),
            "FOREWARN_STATUS_BASE_URL": "https://status.example.com/bank",
            "FOREWARN_STATUS_LINK_KINDS": "outage_started,outage_restored",
        }),
        "-intake": {
            "FOREWARN_MESSAGE_CODE_SECRET_FILE": File("forewarn-code-key", "code"),
            "FOREWARN_PUBLIC_LISTEN": "0.0.0.0:8081",
            "FOREWARN_RECEIPT_SECRET_FILE": File("forewarn-receipt-key", "hmac"),
            "FOREWARN_UNSUBSCRIBE_SECRET_FILE": ABSENT,
            "FOREWARN_INBOUND_SMS_SECRET_FILE": ABSENT,
        },
        "-scheduler": {"@args": ABSENT},
        "@settings": {"FOREWARN_LEAD_MARGIN": ABSENT},
        "@public": True,
    },
    "values-status.yaml": {
        "-status": {
            "FOREWARN_PG": SecretKey("forewarn-postgresql", "uri"),
            "FOREWARN_PG_READ": SecretKey("forewarn-postgresql", "readUri"),
            "FOREWARN_STATUS_LISTEN": "0.0.0.0:8080",
            "FOREWARN_STATUS_THREADS": "16",
            "FOREWARN_HTTP_LISTEN": "0.0.0.0:9090",
            "FOREWARN_MESSAGE_CODE_SECRET_FILE": File("forewarn-message-codes", "message-code-secret", CODE_SECRET),
            "FOREWARN_KAFKA_SASL_USERNAME": ABSENT,
            "FOREWARN_KAFKA_SASL_PASSWORD": ABSENT,
            "@args": ["--default-language", "en", "--default-time-zone", "Asia/Riyadh", "--cache-ms", "1000",
                      "--miss-burst", "10", "--miss-refill-seconds", "10", "--restored-hours", "48",
                      "--base-url", "https://status.example.com", "--client-ip-header", "X-Forwarded-For"],
        },
        "@status": True,
    },
    "values-minimal.yaml": {
        "-notifier": only({
            "FOREWARN_SMS_URL": "https://sms-gateway.example.com/v1/messages",
            "FOREWARN_SMS_SENDER": "Forewarn",
            # No code secret given: the chart's own, random, kept across upgrades.
            "FOREWARN_MESSAGE_CODE_SECRET_FILE": File("forewarn-message-codes", "message-code-secret"),
            "FOREWARN_STATUS_BASE_URL": ABSENT,
        }),
        "-intake": {"FOREWARN_PUBLIC_LISTEN": ABSENT, "FOREWARN_RECEIPT_SECRET_FILE": ABSENT,
                    "FOREWARN_MESSAGE_CODE_SECRET_FILE": File("forewarn-message-codes", "message-code-secret")},
        "-scheduler": {"@args": ABSENT},
        "@settings": {"FOREWARN_LEAD_MARGIN": ABSENT},
        "@public": False,
        "@status": False,
    },
}


def file_source(pod, container, path):
    """(Secret name, key) of the file at `path` in the container, or None."""
    volumes = {v["name"]: v for v in pod.get("volumes") or []}
    for mount in container.get("volumeMounts") or []:
        base = mount["mountPath"].rstrip("/") + "/"
        volume = volumes.get(mount["name"], {})
        if not path.startswith(base) or "secret" not in volume:
            continue
        rel = path[len(base):]
        items = volume["secret"].get("items")
        if items is None:
            return volume["secret"]["secretName"], rel
        for item in items:
            if item["path"] == rel:
                return volume["secret"]["secretName"], item["key"]
    return None


def check_env(where, pod, container, secrets, expected):
    problems = []
    env = {e["name"]: e for e in container.get("env") or []}
    for name, want in expected.items():
        if name == "@args":
            args, run = container.get("args") or [], ["--receipt-give-up"] if want is ABSENT else want
            found = any(args[i:i + len(run)] == run for i in range(len(args)))
            if found != (want is not ABSENT):
                problems.append("%s: arguments %s %s" % (where, run, "present" if found else "missing"))
            continue
        got = env.get(name)
        if want is ABSENT:
            if got is not None:
                problems.append("%s: env %s should be absent, is %s" % (where, name, got))
        elif got is None:
            problems.append("%s: env %s missing (expected %r)" % (where, name, want))
        elif isinstance(want, SecretKey):
            ref = (got.get("valueFrom") or {}).get("secretKeyRef") or {}
            if (ref.get("name"), ref.get("key")) != (want.secret, want.key):
                problems.append("%s: env %s is %s, expected a %r" % (where, name, got, want))
        elif isinstance(want, File):
            source = file_source(pod, container, got.get("value") or "")
            if source != (want.secret, want.key):
                problems.append("%s: env %s=%s is %s, expected a %r"
                                % (where, name, got.get("value"), source or "no mounted secret file", want))
            elif want.value is not None and secrets.get(want.secret, {}).get(want.key) != want.value:
                problems.append("%s: Secret %s key %s does not hold the value given" % (where, want.secret, want.key))
        elif got.get("value") != want:
            problems.append("%s: env %s is %r, expected %r" % (where, name, got.get("value", got), want))
    return problems


def check_expected(objs, expected):
    """Problems of the rendered objects against an EXPECTED entry."""
    problems = []
    secrets = {name_of(o): o.get("stringData") or {} for o in objs if o["kind"] == "Secret"}
    for suffix, want in expected.items():
        if suffix == "@settings":
            data = of_kind(objs, "ConfigMap", "-settings").get("data") or {}
            for key, value in want.items():
                if data.get(key, ABSENT) != value:
                    problems.append("ConfigMap settings: %s is %r, expected %r" % (key, data.get(key, ABSENT), value))
        elif suffix == "@public":
            ports = [p["name"] for p in of_kind(objs, "Service", "-intake")["spec"]["ports"]]
            if ("public" in ports) != want:
                problems.append("Service intake: public port %s" % ("present" if "public" in ports else "missing"))
        elif suffix == "@status":
            found = sorted(o["kind"] for o in objs if name_of(o).endswith("-status"))
            expected = ["Deployment", "PodDisruptionBudget", "Service"] if want else []
            if found != expected:
                problems.append("forewarn-status objects: %s, expected %s" % (found, expected))
        else:
            deploy = deployments(objs, suffix)[0]
            pod = deploy["spec"]["template"]["spec"]
            problems += check_env("Deployment/%s" % name_of(deploy), pod, pod["containers"][0], secrets, want)
    return problems


def mode_render(chart, out_dir, files):
    path = render_to(chart, out_dir, files)
    if path is None:
        return 1
    status = check_rendered.report(path, chart, files)
    for f in files:
        expected = EXPECTED.get(os.path.basename(f))
        if expected is None:
            continue
        problems = check_expected([o for _, o in check_rendered.load_rendered(path)], expected)
        for p in problems:
            print("FAIL " + p)
        if problems:
            status = 1
        else:
            print("ok: %s renders the expected environment, secret files and arguments" % os.path.basename(f))
    return status


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


def name_of(obj):
    return obj["metadata"]["name"]


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


def fault_env_file_not_mounted(objs):
    c = first_container(objs, "-intake")
    c["volumeMounts"] = [m for m in c["volumeMounts"] if m["name"] != "public-secrets"]


def fault_env_file_not_in_items(objs):
    for v in deployments(objs, "-notifier")[0]["spec"]["template"]["spec"]["volumes"]:
        if v["name"] == "unsubscribe-keys":
            v["secret"]["items"][0]["path"] = "keys"


def fault_status_code_secret_not_mounted(objs):
    c = first_container(objs, "-status")
    c["volumeMounts"] = [m for m in c["volumeMounts"] if m["name"] != "message-codes"]


def fault_status_service_port(objs):
    of_kind(objs, "Service", "-status")["spec"]["ports"][0]["targetPort"] = "https"


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
    (fault_env_file_not_mounted, "env FOREWARN_UNSUBSCRIBE_SECRET_FILE=/etc/forewarn/public/unsubscribe-keys is "
                                 "under no volumeMount"),
    (fault_env_file_not_in_items, "env FOREWARN_UNSUBSCRIBE_SECRET_FILE=/etc/forewarn/public/unsubscribe-keys: "
                                  "volume unsubscribe-keys (Secret forewarn-public) mounted at /etc/forewarn/public "
                                  "has no file unsubscribe-keys, only keys"),
    (fault_status_code_secret_not_mounted, "env FOREWARN_MESSAGE_CODE_SECRET_FILE=/etc/forewarn/message-codes/"
                                           "secret is under no volumeMount"),
    (fault_status_service_port, "targets 'https'"),
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
