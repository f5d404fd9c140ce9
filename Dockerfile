# xoevgate image: build on Debian 12 with Debian's packages, run on a slim Debian 12.
FROM debian:12 AS build
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      cmake g++ make pkg-config librdkafka-dev libboost-dev libssl-dev libxml2-dev libxslt1-dev \
      libyaml-cpp-dev nlohmann-json3-dev libspdlog-dev libcli11-dev libgtest-dev libgmock-dev libbenchmark-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release && cmake --build /build -j"$(nproc)" --target xoevgate

FROM debian:12-slim
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      librdkafka1 libssl3 libxml2 libxslt1.1 libyaml-cpp0.7 libspdlog1.10 ca-certificates \
    && rm -rf /var/lib/apt/lists/* && useradd --system --home /var/lib/xoevgate xoevgate
COPY --from=build /build/xoevgate /usr/local/bin/xoevgate
COPY schemas /usr/share/xoevgate/schemas
COPY config /etc/xoevgate
USER xoevgate
WORKDIR /var/lib/xoevgate
EXPOSE 8080
ENTRYPOINT ["xoevgate"]
CMD ["serve", "--config", "/etc/xoevgate/compose.yaml"]
