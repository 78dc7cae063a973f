{{/*
Helpers shared by every template. Helpers taking "." expect the root context; helpers taking a
dict document their keys. Inside with/range blocks templates use $.Values (tests/helm checks it).
*/}}

{{/* Chart name, overridable. */}}
{{- define "forewarn.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Full name: RELEASE-forewarn unless the release name already contains the chart name. */}}
{{- define "forewarn.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* chart-version label value. */}}
{{- define "forewarn.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Common labels. */}}
{{- define "forewarn.labels" -}}
helm.sh/chart: {{ include "forewarn.chart" . }}
app.kubernetes.io/name: {{ include "forewarn.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: forewarn
{{- end -}}

{{/* Selector labels of one component. dict: root (the root context), component (e.g. "intake"). */}}
{{- define "forewarn.selectorLabels" -}}
app.kubernetes.io/name: {{ include "forewarn.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* Common labels plus the component. dict: root, component. */}}
{{- define "forewarn.componentLabels" -}}
{{ include "forewarn.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* ServiceAccount name. */}}
{{- define "forewarn.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "forewarn.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* Image reference: repository:tag (the tag defaults to the chart's appVersion), plus
@digest when image.digest is set (the runtime then pulls by digest; the tag is informative). */}}
{{- define "forewarn.image" -}}
{{- $ref := printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- if .Values.image.digest -}}
{{- $ref = printf "%s@%s" $ref .Values.image.digest -}}
{{- end -}}
{{- $ref -}}
{{- end -}}

{{/* Names of the Secrets: an existing one when configured, else the chart's own. */}}
{{- define "forewarn.postgresqlSecretName" -}}
{{- default (printf "%s-postgresql" (include "forewarn.fullname" .)) .Values.postgresql.existingSecret -}}
{{- end -}}

{{- define "forewarn.kafkaSaslSecretName" -}}
{{- default (printf "%s-kafka" (include "forewarn.fullname" .)) .Values.kafka.sasl.existingSecret -}}
{{- end -}}

{{- define "forewarn.kafkaCaSecretName" -}}
{{- default (printf "%s-kafka" (include "forewarn.fullname" .)) .Values.kafka.tls.existingSecret -}}
{{- end -}}

{{/*
The topics Job runs as a pre-install/pre-upgrade hook, before the release's own objects exist on
a first install. It therefore uses an operator's existing Secret and ServiceAccount where values
name one, and otherwise hook copies of its own (RELEASE-forewarn-topics-kafka, -topics), created
just before it and deleted once it succeeded.
*/}}
{{- define "forewarn.topicsName" -}}
{{- printf "%s-topics" (include "forewarn.fullname" .) -}}
{{- end -}}

{{- define "forewarn.topicsKafkaSaslSecretName" -}}
{{- default (printf "%s-kafka" (include "forewarn.topicsName" .)) .Values.kafka.sasl.existingSecret -}}
{{- end -}}

{{- define "forewarn.topicsKafkaCaSecretName" -}}
{{- default (printf "%s-kafka" (include "forewarn.topicsName" .)) .Values.kafka.tls.existingSecret -}}
{{- end -}}

{{- define "forewarn.topicsServiceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- include "forewarn.topicsName" . -}}
{{- else -}}
{{- include "forewarn.serviceAccountName" . -}}
{{- end -}}
{{- end -}}

{{/* "true" when the chart creates a Kafka Secret (inline SASL credentials or CA bundle), else empty. */}}
{{- define "forewarn.kafkaSecretHere" -}}
{{- $saslHere := and (include "forewarn.kafkaSasl" .) (not .Values.kafka.sasl.existingSecret) -}}
{{- $caHere := and (include "forewarn.kafkaTls" .) .Values.kafka.tls.ca (not .Values.kafka.tls.existingSecret) -}}
{{- if or $saslHere $caHere -}}true{{- end -}}
{{- end -}}

{{/* stringData of the chart's Kafka Secret (and of the topics Job's hook copy). */}}
{{- define "forewarn.kafkaSecretData" -}}
{{- if and (include "forewarn.kafkaSasl" .) (not .Values.kafka.sasl.existingSecret) }}
{{ .Values.kafka.sasl.usernameKey }}: {{ .Values.kafka.sasl.username | quote }}
{{ .Values.kafka.sasl.passwordKey }}: {{ .Values.kafka.sasl.password | quote }}
{{- end }}
{{- if and (include "forewarn.kafkaTls" .) .Values.kafka.tls.ca (not .Values.kafka.tls.existingSecret) }}
{{ .Values.kafka.tls.caKey }}: {{ .Values.kafka.tls.ca | quote }}
{{- end }}
{{- end -}}

{{- define "forewarn.smtpSecretName" -}}
{{- default (printf "%s-smtp" (include "forewarn.fullname" .)) .Values.smtp.existingSecret -}}
{{- end -}}

{{- define "forewarn.smsSecretName" -}}
{{- default (printf "%s-sms" (include "forewarn.fullname" .)) .Values.sms.existingSecret -}}
{{- end -}}

{{/* "true" when an SMTP Secret exists (the operator's or the chart's), else empty. The chart
creates one only when it has something to store (secrets.yaml); the notifier reads the
credentials only from a Secret that exists, never from an optional dangling reference. */}}
{{- define "forewarn.smtpSecret" -}}
{{- if or .Values.smtp.existingSecret .Values.smtp.username .Values.smtp.password -}}true{{- end -}}
{{- end -}}

{{/* "true" when an SMS gateway Secret exists (the operator's or the chart's), else empty. The
chart's holds what the provider needs: the http gateway's header, or Kannel's or the SMPP
account's password. */}}
{{- define "forewarn.smsSecret" -}}
{{- $p := .Values.sms.provider -}}
{{- if or .Values.sms.existingSecret (and (eq $p "http") .Values.sms.authHeader) (and (eq $p "kannel") .Values.sms.kannel.password) (and (eq $p "smpp") .Values.sms.smpp.password) -}}true{{- end -}}
{{- end -}}

{{/* "true" when delivery receipts are on (receipts.secret or receipts.existingSecret), else empty:
the intake serves /receipts/kannel and /receipts on its public endpoint. */}}
{{- define "forewarn.receipts" -}}
{{- if or .Values.receipts.existingSecret .Values.receipts.secret -}}true{{- end -}}
{{- end -}}

{{- define "forewarn.receiptsSecretName" -}}
{{- default (printf "%s-receipts" (include "forewarn.fullname" .)) .Values.receipts.existingSecret -}}
{{- end -}}

{{/* "true" when the intake serves its public endpoint (publicEndpoint.enabled or receipts), else empty. */}}
{{- define "forewarn.publicListener" -}}
{{- if or .Values.publicEndpoint.enabled (include "forewarn.receipts" .) -}}true{{- end -}}
{{- end -}}

{{/* The notifiers' receipt base URL (FOREWARN_RECEIPT_URL): receipts.url, else the scheme and
host of publicEndpoint.unsubscribeUrl; empty when neither is set. */}}
{{- define "forewarn.receiptUrl" -}}
{{- if .Values.receipts.url -}}
{{- .Values.receipts.url -}}
{{- else -}}
{{- regexFind "^https?://[^/?#]+" .Values.publicEndpoint.unsubscribeUrl -}}
{{- end -}}
{{- end -}}

{{/* The receipts signing secret as the file /etc/forewarn/receipts/receipt-secret (mount the
volume there), for the intake and, with sms.provider kannel, the notifiers. */}}
{{- define "forewarn.receiptSecretVolume" -}}
- name: receipt-secret
  secret:
    secretName: {{ include "forewarn.receiptsSecretName" . }}
    items:
      - key: {{ .Values.receipts.secretKey }}
        path: receipt-secret
{{- end -}}

{{/*
The notifiers' environment for sms.provider kannel or smpp. Passwords and the receipts secret
are files of the sms-credentials and receipt-secret volumes (/etc/forewarn/sms,
/etc/forewarn/receipts). The receipt flags are for Kannel only: the notifier refuses them with
another provider (SMPP receipts come back over the SMPP session).
*/}}
{{- define "forewarn.smsProviderEnv" -}}
- name: FOREWARN_SMS_PROVIDER
  value: {{ .Values.sms.provider | quote }}
{{- if eq .Values.sms.provider "kannel" }}
- name: FOREWARN_SMS_SENDER
  value: {{ .Values.sms.sender | quote }}
- name: FOREWARN_KANNEL_URL
  value: {{ .Values.sms.kannel.url | quote }}
- name: FOREWARN_KANNEL_USER
  value: {{ .Values.sms.kannel.user | quote }}
- name: FOREWARN_KANNEL_PASSWORD_FILE
  value: /etc/forewarn/sms/kannel-password
- name: FOREWARN_RECEIPT_URL
  value: {{ include "forewarn.receiptUrl" . | quote }}
- name: FOREWARN_RECEIPT_SECRET_FILE
  value: /etc/forewarn/receipts/receipt-secret
{{- else }}
- name: FOREWARN_SMPP_HOST
  value: {{ .Values.sms.smpp.host | quote }}
- name: FOREWARN_SMPP_SYSTEM_ID
  value: {{ .Values.sms.smpp.systemId | toString | quote }}
- name: FOREWARN_SMPP_PASSWORD_FILE
  value: /etc/forewarn/sms/smpp-password
{{- with .Values.sms.smpp.systemType }}
- name: FOREWARN_SMPP_SYSTEM_TYPE
  value: {{ . | toString | quote }}
{{- end }}
{{- with include "forewarn.smppSourceAddr" . }}
- name: FOREWARN_SMPP_SOURCE_ADDR
  value: {{ . | quote }}
{{- end }}
- name: FOREWARN_SMPP_WINDOW
  value: {{ .Values.sms.smpp.window | int | quote }}
- name: FOREWARN_SMPP_ENQUIRE_LINK_S
  value: {{ .Values.sms.smpp.enquireLinkSeconds | int | quote }}
- name: FOREWARN_SMPP_THROUGHPUT
  value: {{ .Values.sms.smpp.throughput | toString | quote }}
{{- end }}
{{- end -}}

{{/* The SMPP source address: sms.smpp.sourceAddr, else sms.sender. */}}
{{- define "forewarn.smppSourceAddr" -}}
{{- toString (default .Values.sms.sender .Values.sms.smpp.sourceAddr) -}}
{{- end -}}

{{/* "true" when Kafka uses SASL, else empty. */}}
{{- define "forewarn.kafkaSasl" -}}
{{- if hasPrefix "SASL_" .Values.kafka.securityProtocol -}}true{{- end -}}
{{- end -}}

{{/* "true" when Kafka uses TLS, else empty. */}}
{{- define "forewarn.kafkaTls" -}}
{{- if or (eq .Values.kafka.securityProtocol "SSL") (eq .Values.kafka.securityProtocol "SASL_SSL") -}}true{{- end -}}
{{- end -}}

{{/* "true" when a Kafka CA bundle is mounted at /etc/forewarn/kafka/ca.crt, else empty. */}}
{{- define "forewarn.kafkaCa" -}}
{{- if and (include "forewarn.kafkaTls" .) (or .Values.kafka.tls.ca .Values.kafka.tls.existingSecret) -}}true{{- end -}}
{{- end -}}

{{/* Rejects contradictory or incomplete values; included by every Deployment. */}}
{{- define "forewarn.validate" -}}
{{- $protocols := list "PLAINTEXT" "SSL" "SASL_PLAINTEXT" "SASL_SSL" -}}
{{- if not (has .Values.kafka.securityProtocol $protocols) -}}
{{- fail (printf "kafka.securityProtocol must be one of %s, got %q" (join ", " $protocols) .Values.kafka.securityProtocol) -}}
{{- end -}}
{{- if not .Values.kafka.bootstrapServers -}}
{{- fail "kafka.bootstrapServers is required" -}}
{{- end -}}
{{- if not (regexMatch "^[^<>\\s]+@[^<>\\s]+$" (toString .Values.smtp.from)) -}}
{{- fail (printf "smtp.from must be the address alone, e.g. no-reply@example.com (the name goes in smtp.fromName), got %q" (toString .Values.smtp.from)) -}}
{{- end -}}
{{- if and (not .Values.postgresql.existingSecret) (not .Values.postgresql.uri) -}}
{{- fail "set postgresql.uri or postgresql.existingSecret" -}}
{{- end -}}
{{- if and (include "forewarn.kafkaSasl" .) (not .Values.kafka.sasl.existingSecret) -}}
{{- if or (not .Values.kafka.sasl.username) (not .Values.kafka.sasl.password) -}}
{{- fail "kafka.securityProtocol uses SASL: set kafka.sasl.username and kafka.sasl.password, or kafka.sasl.existingSecret" -}}
{{- end -}}
{{- end -}}
{{- $p := .Values.kafka.provisioning -}}
{{- if and $p.enabled (gt (int $p.minInsyncReplicas) (int $p.replicationFactor)) -}}
{{- fail (printf "kafka.provisioning.minInsyncReplicas (%d) exceeds kafka.provisioning.replicationFactor (%d): no acks=all write could ever succeed" (int $p.minInsyncReplicas) (int $p.replicationFactor)) -}}
{{- end -}}
{{- if and .Values.intake.mutualTls (not .Values.intake.tlsSecret) -}}
{{- fail "intake.mutualTls needs intake.tlsSecret (its ca.crt verifies the client certificates); without it the intake would serve plaintext" -}}
{{- end -}}
{{- if .Values.publicEndpoint.enabled -}}
{{- if not .Values.publicEndpoint.existingSecret -}}
{{- fail "publicEndpoint.enabled needs publicEndpoint.existingSecret (a Secret with the keys unsubscribe-keys and inbound-sms-secret)" -}}
{{- end -}}
{{- if not (hasPrefix "https://" .Values.publicEndpoint.unsubscribeUrl) -}}
{{- fail (printf "publicEndpoint.unsubscribeUrl must be an https URL ending in /u/ (the links customers click), got %q" .Values.publicEndpoint.unsubscribeUrl) -}}
{{- end -}}
{{- end -}}
{{- include "forewarn.validateSms" . -}}
{{- include "forewarn.validateReceipts" . -}}
{{- include "forewarn.validateStatus" . -}}
{{- include "forewarn.validateNoticeLinks" . -}}
{{- $duration := "^([0-9]+(\\.[0-9]*)?(ns|us|ms|s|m|h))+$" -}}
{{- if and .Values.settings.leadMargin (not (regexMatch $duration (toString .Values.settings.leadMargin))) -}}
{{- fail (printf "settings.leadMargin must be a duration like 12h or 90m, got %q" (toString .Values.settings.leadMargin)) -}}
{{- end -}}
{{- include "forewarn.validatePdb" (dict "name" "intake" "component" .Values.intake "replicas" .Values.intake.replicaCount) -}}
{{- include "forewarn.validatePdb" (dict "name" "status" "component" .Values.status "replicas" .Values.status.replicaCount) -}}
{{- include "forewarn.validatePdb" (dict "name" "resolver" "component" .Values.resolver "replicas" .Values.resolver.replicaCount) -}}
{{- $notifierReplicas := ternary .Values.notifier.autoscaling.minReplicas .Values.notifier.replicaCount .Values.notifier.autoscaling.enabled -}}
{{- include "forewarn.validatePdb" (dict "name" "notifier" "component" .Values.notifier "replicas" $notifierReplicas "replicasKey" (ternary "autoscaling.minReplicas" "replicaCount" .Values.notifier.autoscaling.enabled)) -}}
{{- if and .Values.notifier.enabled .Values.notifier.autoscaling.enabled -}}
{{- if gt (int .Values.notifier.autoscaling.maxReplicas) (int .Values.kafka.topics.notices.partitions) -}}
{{- fail "notifier.autoscaling.maxReplicas exceeds kafka.topics.notices.partitions: the extra notifiers would get no partition" -}}
{{- end -}}
{{- if gt (int .Values.notifier.autoscaling.minReplicas) (int .Values.notifier.autoscaling.maxReplicas) -}}
{{- fail "notifier.autoscaling.minReplicas exceeds maxReplicas" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* sms.provider and the settings it needs (Kannel's or the SMPP account's). */}}
{{- define "forewarn.validateSms" -}}
{{- $providers := list "http" "kannel" "smpp" -}}
{{- $p := .Values.sms.provider -}}
{{- if not (has $p $providers) -}}
{{- fail (printf "sms.provider must be one of %s, got %q" (join ", " $providers) (toString $p)) -}}
{{- end -}}
{{- if eq $p "kannel" -}}
{{- $k := .Values.sms.kannel -}}
{{- if not $k.url -}}
{{- fail "sms.provider kannel needs sms.kannel.url (Kannel's sendsms URL, e.g. http://kannel:13013/cgi-bin/sendsms)" -}}
{{- end -}}
{{- if not (regexMatch "^https?://[^/]" (toString $k.url)) -}}
{{- fail (printf "sms.kannel.url must be an http:// or https:// URL with a host, got %q" $k.url) -}}
{{- end -}}
{{- if not $k.user -}}
{{- fail "sms.provider kannel needs sms.kannel.user (the sendsms-user's name)" -}}
{{- end -}}
{{- if and (not .Values.sms.existingSecret) (not $k.password) -}}
{{- fail (printf "sms.provider kannel needs sms.kannel.password, or sms.existingSecret with the key %q (sms.kannel.passwordKey)" $k.passwordKey) -}}
{{- end -}}
{{- if not (include "forewarn.receipts" .) -}}
{{- fail "sms.provider kannel needs receipts.secret or receipts.existingSecret (the key that signs Kannel's delivery report callbacks)" -}}
{{- end -}}
{{- if not (include "forewarn.receiptUrl" .) -}}
{{- fail "sms.provider kannel needs receipts.url (the intake's public endpoint base Kannel calls back, e.g. https://notices.example.com), or publicEndpoint.unsubscribeUrl to take it from" -}}
{{- end -}}
{{- if not (regexMatch "^https?://[^/?#]+[^?#]*$" (include "forewarn.receiptUrl" .)) -}}
{{- fail (printf "receipts.url must be http(s)://host[:port] of the intake's public endpoint, without a query, got %q" (include "forewarn.receiptUrl" .)) -}}
{{- end -}}
{{- else if eq $p "smpp" -}}
{{- $s := .Values.sms.smpp -}}
{{- if not $s.host -}}
{{- fail "sms.provider smpp needs sms.smpp.host (the SMSC, HOST:PORT)" -}}
{{- end -}}
{{- if not (regexMatch "^[^:/ ]([^/ ]*[^:/ ])?:[0-9]{1,5}$" (toString $s.host)) -}}
{{- fail (printf "sms.smpp.host must be HOST:PORT, got %q" $s.host) -}}
{{- end -}}
{{- if not $s.systemId -}}
{{- fail "sms.provider smpp needs sms.smpp.systemId (the account's system_id)" -}}
{{- end -}}
{{- if gt (len (toString $s.systemId)) 15 -}}
{{- fail (printf "sms.smpp.systemId has %d characters; SMPP allows at most 15" (len (toString $s.systemId))) -}}
{{- end -}}
{{- if and (not .Values.sms.existingSecret) (not $s.password) -}}
{{- fail (printf "sms.provider smpp needs sms.smpp.password, or sms.existingSecret with the key %q (sms.smpp.passwordKey)" $s.passwordKey) -}}
{{- end -}}
{{- if and (not .Values.sms.existingSecret) (gt (len (toString $s.password)) 8) -}}
{{- fail (printf "sms.smpp.password has %d characters; SMPP allows at most 8" (len (toString $s.password))) -}}
{{- end -}}
{{- if gt (len (toString $s.systemType)) 12 -}}
{{- fail (printf "sms.smpp.systemType has %d characters; SMPP allows at most 12" (len (toString $s.systemType))) -}}
{{- end -}}
{{- if gt (len (include "forewarn.smppSourceAddr" .)) 20 -}}
{{- fail (printf "the SMPP source address (sms.smpp.sourceAddr, else sms.sender) has %d characters; SMPP allows at most 20" (len (include "forewarn.smppSourceAddr" .))) -}}
{{- end -}}
{{- if or (lt (int $s.window) 1) (gt (int $s.window) 1000) -}}
{{- fail (printf "sms.smpp.window must be within 1..1000, got %v" $s.window) -}}
{{- end -}}
{{- if or (lt (int $s.enquireLinkSeconds) 1) (gt (int $s.enquireLinkSeconds) 3600) -}}
{{- fail (printf "sms.smpp.enquireLinkSeconds must be within 1..3600, got %v" $s.enquireLinkSeconds) -}}
{{- end -}}
{{- if lt (float64 $s.throughput) 0.0 -}}
{{- fail (printf "sms.smpp.throughput must be 0 (unlimited) or more, got %v" $s.throughput) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* receipts.*: the inline secret, the timeouts, the scheduler's give-up. */}}
{{- define "forewarn.validateReceipts" -}}
{{- $r := .Values.receipts -}}
{{- if and $r.secret (not $r.existingSecret) -}}
{{- $secret := trim (toString $r.secret) -}}
{{- if contains "\n" $secret -}}
{{- fail "receipts.secret must be one line" -}}
{{- end -}}
{{- if lt (len $secret) 32 -}}
{{- fail (printf "receipts.secret has %d bytes; it needs at least 32" (len $secret)) -}}
{{- end -}}
{{- end -}}
{{- $duration := "([0-9]+(\\.[0-9]*)?(ns|us|ms|s|m|h))+" -}}
{{- $pair := printf " *(sms|email) *= *%s *" $duration -}}
{{- if and $r.timeout (not (regexMatch (printf "^%s(,%s)*$" $pair $pair) $r.timeout)) -}}
{{- fail (printf "receipts.timeout must be CHANNEL=DURATION pairs, comma separated (sms or email, e.g. sms=1h,email=4h), got %q" $r.timeout) -}}
{{- end -}}
{{- if and $r.giveUp (not (regexMatch (printf "^%s$" $duration) (toString $r.giveUp))) -}}
{{- fail (printf "receipts.giveUp must be a duration like 24h, got %q" (toString $r.giveUp)) -}}
{{- end -}}
{{- end -}}

{{/* forewarn-status (status.*); its message-code secret is noticeLinks' (validateNoticeLinks). */}}
{{- define "forewarn.validateStatus" -}}
{{- $s := .Values.status -}}
{{- if $s.enabled -}}
{{- if not (has (toString $s.defaultLanguage) (list "ar" "en")) -}}
{{- fail (printf "status.defaultLanguage must be ar or en, got %q" (toString $s.defaultLanguage)) -}}
{{- end -}}
{{- if and $s.baseUrl (not (regexMatch "^https?://[^/?#]+$" (toString $s.baseUrl))) -}}
{{- fail (printf "status.baseUrl must be http(s)://host[:port] without a path, query or trailing slash (the pages are served at the root), e.g. https://status.example.com, got %q" (toString $s.baseUrl)) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
A PodDisruptionBudget with minAvailable at or above the replica count allows no eviction at
all: node drains and cluster upgrades hang on it. dict: name (e.g. "intake"), component (its
values), replicas (lowest replica count), replicasKey (value named in the message; default
replicaCount).
*/}}
{{- define "forewarn.validatePdb" -}}
{{- $c := .component -}}
{{- if and $c.enabled $c.pdb.enabled (hasKey $c.pdb "minAvailable") -}}
{{- if ge (int $c.pdb.minAvailable) (int .replicas) -}}
{{- fail (printf "%s.pdb.minAvailable (%d) must be below %s.%s (%d): otherwise no %s pod can ever be evicted and node drains block" .name (int $c.pdb.minAvailable) .name (default "replicaCount" .replicasKey) (int .replicas) .name) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
Pod annotations. dict: root, extra (the component's podAnnotations), checksums (list of template
file names under templates/ whose content rolls the pods when it changes). Precedence: the
component's annotations, then the global podAnnotations, then the chart's own.
*/}}
{{- define "forewarn.podAnnotations" -}}
{{- $root := .root -}}
{{- $own := dict -}}
{{- range .checksums -}}
{{- $_ := set $own (printf "checksum/%s" (trimSuffix ".yaml" .)) (include (print $root.Template.BasePath "/" .) $root | sha256sum) -}}
{{- end -}}
{{- if $root.Values.metrics.podAnnotations -}}
{{- $_ := set $own "prometheus.io/scrape" "true" -}}
{{- $_ := set $own "prometheus.io/port" (toString $root.Values.ports.metrics) -}}
{{- $_ := set $own "prometheus.io/path" "/metrics" -}}
{{- end -}}
{{- toYaml (merge (dict) (.extra | default dict) ($root.Values.podAnnotations | default dict) $own) -}}
{{- end -}}

{{/*
Container arguments every service takes: librdkafka properties as repeated
`--kafka-prop key=value`. Secrets are interpolated by the kubelet from env vars ($(NAME)).
*/}}
{{- define "forewarn.kafkaArgs" -}}
- --kafka-prop
- security.protocol={{ .Values.kafka.securityProtocol }}
{{- if include "forewarn.kafkaSasl" . }}
- --kafka-prop
- sasl.mechanism={{ .Values.kafka.sasl.mechanism }}
- --kafka-prop
- sasl.username=$(FOREWARN_KAFKA_SASL_USERNAME)
- --kafka-prop
- sasl.password=$(FOREWARN_KAFKA_SASL_PASSWORD)
{{- end }}
{{- if include "forewarn.kafkaCa" . }}
- --kafka-prop
- ssl.ca.location=/etc/forewarn/kafka/ca.crt
{{- end }}
{{- range $key, $value := .Values.kafka.extraProperties }}
- --kafka-prop
- {{ printf "%s=%v" $key $value | quote }}
{{- end }}
{{- end -}}

{{/*
Environment every service reads: settings from the ConfigMap (envFrom, see
forewarn.envFrom) plus secrets and the observability listener.
*/}}
{{- define "forewarn.commonEnv" -}}
- name: FOREWARN_PG
  valueFrom:
    secretKeyRef:
      name: {{ include "forewarn.postgresqlSecretName" . }}
      key: {{ .Values.postgresql.existingSecretKey }}
{{- if include "forewarn.kafkaSasl" . }}
- name: FOREWARN_KAFKA_SASL_USERNAME
  valueFrom:
    secretKeyRef:
      name: {{ include "forewarn.kafkaSaslSecretName" . }}
      key: {{ .Values.kafka.sasl.usernameKey }}
- name: FOREWARN_KAFKA_SASL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "forewarn.kafkaSaslSecretName" . }}
      key: {{ .Values.kafka.sasl.passwordKey }}
{{- end }}
- name: FOREWARN_HTTP_LISTEN
  value: {{ printf "0.0.0.0:%v" .Values.ports.metrics | quote }}
{{- end -}}

{{/*
The read replica (postgresql.readUri, or existingSecretReadKey of existingSecret), for the
resolver and the intake: FOREWARN_PG_READ and FOREWARN_PG_READ_MAX_LAG; nothing without one.
*/}}
{{- define "forewarn.pgReadKey" -}}
{{- if .Values.postgresql.existingSecret -}}
{{- .Values.postgresql.existingSecretReadKey -}}
{{- else if .Values.postgresql.readUri -}}
readUri
{{- end -}}
{{- end -}}

{{- define "forewarn.pgReadEnv" -}}
{{- with include "forewarn.pgReadKey" . }}
- name: FOREWARN_PG_READ
  valueFrom:
    secretKeyRef:
      name: {{ include "forewarn.postgresqlSecretName" $ }}
      key: {{ . }}
- name: FOREWARN_PG_READ_MAX_LAG
  value: {{ $.Values.postgresql.readMaxLag | quote }}
{{- end }}
{{- end -}}

{{/* Static group membership (kafka.staticMembership): the pod name as group.instance.id. */}}
{{- define "forewarn.instanceIdEnv" -}}
- name: FOREWARN_INSTANCE_ID
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
{{- end -}}

{{- define "forewarn.envFrom" -}}
- configMapRef:
    name: {{ include "forewarn.fullname" . }}-settings
{{- end -}}

{{/* Volume mounts every container has: a writable /tmp and the Kafka CA bundle. */}}
{{- define "forewarn.commonVolumeMounts" -}}
- name: tmp
  mountPath: /tmp
{{- if include "forewarn.kafkaCa" . }}
- name: kafka-ca
  mountPath: /etc/forewarn/kafka
  readOnly: true
{{- end }}
{{- end -}}

{{- define "forewarn.commonVolumes" -}}
- name: tmp
  emptyDir:
    sizeLimit: 64Mi
{{- if include "forewarn.kafkaCa" . }}
- name: kafka-ca
  secret:
    secretName: {{ include "forewarn.kafkaCaSecretName" . }}
    items:
      - key: {{ .Values.kafka.tls.caKey }}
        path: ca.crt
{{- end }}
{{- end -}}

{{/*
HTTP probes on the metrics port for a non-gRPC service. dict: root, probes (the component's
probes values). Liveness: /healthz; readiness: /readyz; startup: /healthz.
*/}}
{{- define "forewarn.httpProbes" -}}
startupProbe:
  httpGet:
    path: /healthz
    port: metrics
  periodSeconds: 5
  timeoutSeconds: {{ .probes.timeoutSeconds }}
  failureThreshold: {{ .probes.startupFailureThreshold }}
livenessProbe:
  httpGet:
    path: /healthz
    port: metrics
  periodSeconds: {{ .probes.periodSeconds }}
  timeoutSeconds: {{ .probes.timeoutSeconds }}
  failureThreshold: {{ .probes.livenessFailureThreshold }}
readinessProbe:
  httpGet:
    path: /readyz
    port: metrics
  periodSeconds: {{ .probes.periodSeconds }}
  timeoutSeconds: {{ .probes.timeoutSeconds }}
  failureThreshold: {{ .probes.readinessFailureThreshold }}
{{- end -}}

{{/*
Notice templates. ConfigMap keys may not contain "/", so files/templates/KIND/FILE is stored
under the key KIND__FILE and mounted back at /etc/forewarn/templates/KIND/FILE via items.
*/}}
{{- define "forewarn.noticeTemplateItems" -}}
{{- $items := list -}}
{{- range $path, $_ := .Files.Glob "files/templates/**" -}}
{{- $rel := trimPrefix "files/templates/" $path -}}
{{- $items = append $items (dict "key" ($rel | replace "/" "__") "path" $rel) -}}
{{- end -}}
{{- toYaml $items -}}
{{- end -}}

{{/* The notices' status link and verification code (noticeLinks.*): the environment of the
notifiers and the intake. The code secret is the file /etc/forewarn/message-codes/secret (mount
forewarn.messageCodeVolume there). */}}
{{- define "forewarn.noticeLinkEnv" -}}
- name: FOREWARN_MESSAGE_CODE_SECRET_FILE
  value: /etc/forewarn/message-codes/secret
{{- with .Values.noticeLinks.statusBaseUrl }}
- name: FOREWARN_STATUS_BASE_URL
  value: {{ . | quote }}
{{- end }}
{{- with .Values.noticeLinks.linkKinds }}
- name: FOREWARN_STATUS_LINK_KINDS
  value: {{ . | quote }}
{{- end }}
{{- end -}}

{{/* The code secret alone, for forewarn-status (it checks the codes; it puts no links in notices). */}}
{{- define "forewarn.messageCodeEnv" -}}
- name: FOREWARN_MESSAGE_CODE_SECRET_FILE
  value: /etc/forewarn/message-codes/secret
{{- end -}}

{{- define "forewarn.messageCodeVolumeMount" -}}
- name: message-codes
  mountPath: /etc/forewarn/message-codes
  readOnly: true
{{- end -}}

{{- define "forewarn.messageCodeVolume" -}}
- name: message-codes
  secret:
    secretName: {{ default (printf "%s-message-codes" (include "forewarn.fullname" .)) .Values.noticeLinks.existingSecret }}
    items:
      - key: {{ .Values.noticeLinks.secretKey }}
        path: secret
{{- end -}}

{{/* noticeLinks.*: an https base URL without a query, a one-line code secret of 32+ bytes. */}}
{{- define "forewarn.validateNoticeLinks" -}}
{{- $n := .Values.noticeLinks -}}
{{- if and $n.statusBaseUrl (not (regexMatch "^https://[^/?#]+[^?#]*$" $n.statusBaseUrl)) -}}
{{- fail (printf "noticeLinks.statusBaseUrl must be https://host[/path] without a query, got %q" $n.statusBaseUrl) -}}
{{- end -}}
{{- $secret := $n.codeSecret | toString | trim -}}
{{- if and $secret (contains "\n" $secret) -}}
{{- fail "noticeLinks.codeSecret must be one line" -}}
{{- end -}}
{{- if and $secret (lt (len $secret) 32) -}}
{{- fail (printf "noticeLinks.codeSecret has %d bytes; it needs at least 32" (len $secret)) -}}
{{- end -}}
{{- end -}}
