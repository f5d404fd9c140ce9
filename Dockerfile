# xoevgate image: build on Debian 12 with Debian's packages, run on a slim Debian 12.
# The product build needs neither GoogleTest nor Google Benchmark. CI builds with this
# exact cmake command line (tests/integration/test_release_build.py extracts it).
FROM debian:12 AS build
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      cmake g++ make pkg-config librdkafka-dev libboost-dev libssl-dev libxml2-dev \
      libyaml-cpp-dev nlohmann-json3-dev libspdlog-dev libcli11-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release -DCMAKE_UNITY_BUILD=ON -DXOEVGATE_BUILD_TESTS=OFF -DXOEVGATE_BUILD_BENCHMARKS=OFF -DCMAKE_INSTALL_PREFIX=/usr \
    && cmake --build /build -j"$(nproc)" --target xoevgate

FROM debian:12-slim
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      librdkafka1 libssl3 libxml2 libyaml-cpp0.7 libspdlog1.10 ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --user-group --home-dir /var/lib/xoevgate --shell /usr/sbin/nologin xoevgate
COPY --from=build /build/xoevgate /usr/bin/xoevgate
COPY schemas /usr/share/xoevgate/schemas
COPY config /etc/xoevgate
# Every directory the service writes, created and owned by the service user before
# USER, so that named volumes mounted there start out owned by it too (docker copies
# the mount point's owner into an empty volume). Private keys: a directory only the
# service user can enter; each container mounts only the keys it needs there.
RUN install -d -o xoevgate -g xoevgate -m 0750 /var/lib/xoevgate /var/lib/xoevgate/state /var/lib/xoevgate/inbox /var/lib/xoevgate/keys \
    && install -d -o xoevgate -g xoevgate -m 0700 /var/lib/xoevgate/keys/private \
    && install -d -o xoevgate -g xoevgate -m 0755 /var/lib/xoevgate/keys/public
WORKDIR /var/lib/xoevgate
USER xoevgate
EXPOSE 8080
ENTRYPOINT ["xoevgate"]
CMD ["serve", "--config", "/etc/xoevgate/compose.yaml"]
