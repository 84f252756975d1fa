# The plugin's image, for builds with Docker (BuildKit) elsewhere. It holds the same files and
# configuration as scripts/build-image.sh, which builds it here without a daemon (buildah) and is
# what the test suite runs (tests/deploy/image_test.sh); keep the two in step.
#
#   docker build -t <registry>/wasm-workflows-plugin:<version> .
#   docker buildx build --platform linux/amd64,linux/arm64 -t ... --push .   # native per platform
ARG DEBIAN_RELEASE=bookworm

FROM debian:${DEBIAN_RELEASE} AS build
# The libraries of cmake/Dependencies.cmake (docs/dependencies.md). clang-14 and golang-go only
# satisfy the configure step's checks for the Wasm module toolchains; the module targets are not built.
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates curl git cmake ninja-build g++ pkg-config \
      libcurl4-openssl-dev libssl-dev nlohmann-json3-dev libyaml-cpp-dev libarchive-dev \
      libspdlog-dev libfmt-dev libcli11-dev libcpp-httplib-dev libmicrohttpd-dev \
      clang-14 golang-go \
    && rm -rf /var/lib/apt/lists/*
# wasmtime-shim's rust-version (scripts/setup.sh checks the same).
ARG RUST_VERSION=1.95.0
RUN curl -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal --default-toolchain ${RUST_VERSION}
ENV PATH=/root/.cargo/bin:${PATH}
WORKDIR /src
COPY . .
# The .git directory (when in the build context) gives `version` its git describe.
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DWWP_BUILD_TESTS=OFF -DWWP_BUILD_BENCH=OFF \
    && cmake --build /build --target wasm-workflows-plugin \
    && scripts/stage-rootfs.sh /build/wasm-workflows-plugin /rootfs

FROM scratch
COPY --from=build /rootfs/ /
USER 65532:65532
WORKDIR /
ENV MODULE_DIR=/modules \
    FS_CACHE_DIR=/var/cache/wasm-workflows-plugin \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
VOLUME ["/modules", "/tmp", "/var/cache/wasm-workflows-plugin"]
EXPOSE 7492
LABEL org.opencontainers.image.title=wasm-workflows-plugin \
      org.opencontainers.image.description="Argo Workflows executor plugin that runs WebAssembly modules"
ENTRYPOINT ["/usr/local/bin/wasm-workflows-plugin"]
CMD ["serve", "--bind=0.0.0.0", "--port=7492"]
