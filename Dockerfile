# syntax=docker/dockerfile:1
# Forewarn image: every service binary and the CLI on Debian bookworm.
#
#   docker build -t forewarn:0.1.0 .
#
# Build stage: the same Debian packages as a developer machine (scripts/deps.sh), CMake + Ninja.
# Runtime stage: bookworm-slim with only the shared libraries the binaries link, running as the
# unprivileged user 10001:10001 (the Helm chart's runAsUser/runAsGroup). Notice templates are in
# /etc/forewarn/templates (the chart mounts its ConfigMap over that path).

ARG DEBIAN_RELEASE=bookworm

FROM debian:${DEBIAN_RELEASE} AS build
WORKDIR /src
# Installing dependencies first keeps this layer cached while only the sources change.
COPY scripts/deps.sh scripts/deps.sh
RUN bash scripts/deps.sh && rm -rf /var/lib/apt/lists/*
COPY . .
ARG BUILD_TYPE=Release
ARG BINARIES="forewarn-intake forewarn-resolver forewarn-notifier forewarn-scheduler forewarn-status forewarn-admin forewarn"
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE="${BUILD_TYPE}" \
 && cmake --build /build --parallel "$(nproc)" --target ${BINARIES} \
 && mkdir -p /out/bin \
 && for bin in ${BINARIES}; do \
      path="$(find /build -type f -name "${bin}" -perm -u+x | head -n 1)"; \
      if [ -z "${path}" ]; then echo "binary ${bin} was not built" >&2; exit 1; fi; \
      install -m 0755 "${path}" "/out/bin/${bin}"; \
    done \
 && strip --strip-unneeded /out/bin/*

FROM debian:${DEBIAN_RELEASE}-slim AS runtime
# Runtime libraries only (the -dev packages' shared-library counterparts), plus CA certificates
# for Kafka/PostgreSQL/SMTP TLS and tzdata for absl time zones.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates tzdata \
      libgrpc++1.51 libprotobuf32 librdkafka1 libpqxx-6.4 libicu72 libcurl4 \
      libphonenumber8 libspdlog1.10 libfmt9 libabsl20220623 libprometheus-cpp-core1.0 libcpp-httplib0.11 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 forewarn \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin forewarn

COPY --from=build /out/bin/ /usr/local/bin/
COPY templates/ /etc/forewarn/templates/

ENV FOREWARN_TEMPLATES=/etc/forewarn/templates \
    FOREWARN_HTTP_LISTEN=0.0.0.0:9090
# 50051: intake gRPC; 8080: forewarn-status's pages; 9090: /metrics, /healthz, /readyz on every service.
EXPOSE 50051 8080 9090
USER 10001:10001
WORKDIR /tmp
# The Deployments set the command (/usr/local/bin/forewarn-intake, ...); by default show the CLI.
CMD ["/usr/local/bin/forewarn", "--help"]
