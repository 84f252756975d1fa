#!/usr/bin/env bash
# Installs everything the build and the tests need on a fresh Debian machine. Idempotent: a second
# run checks and returns in about a second. Run by scripts/serve.sh and scripts/test.sh.
set -euo pipefail

DEBIAN_PACKAGES=(
  # toolchain and build
  cmake ninja-build g++ pkg-config clang-format ccache
  # Wasm test modules: C via clang + wasi-libc
  clang-14 lld-14 wasi-libc libclang-rt-14-dev-wasm32
  # fuzzing (scripts/build.sh fuzz): libFuzzer for clang-14
  libfuzzer-14-dev
  # libraries (docs/dependencies.md says why each)
  libcurl4-openssl-dev libssl-dev nlohmann-json3-dev libyaml-cpp-dev libarchive-dev
  libspdlog-dev libfmt-dev libcli11-dev libcpp-httplib-dev libmicrohttpd-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # real peers for the tests: OCI registry, OCI client, S3 client, load generator
  docker-registry skopeo awscli wrk apache2-utils openssl
  # the module kit's tests: a real QR decoder for examples/text2qr
  zbar-tools
  # the real one-node Kubernetes of tests/k8s: container runtime, image builder, static libc
  containerd runc buildah libc6-dev
  # promtool checks GET /metrics and the example alert rules (tests/telemetry)
  prometheus
  # the shipped image (scripts/build-image.sh, tests/deploy): inspected and run from its layers
  jq python3
)

missing=()
for pkg in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""; [[ $(id -u) -eq 0 ]] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# Debian's docker-registry package starts a system service on :5000; the tests start their own.
# Debian's prometheus package likewise starts Prometheus (:9090) and the node exporter (:9100);
# the tests only use promtool.
for service in docker-registry prometheus prometheus-node-exporter; do
  if command -v systemctl >/dev/null && systemctl is-active --quiet "$service" 2>/dev/null; then
    systemctl stop "$service" || true
  fi
done

# Rust (for Wasmtime's C API) and Go (for Go test modules and the Argo harness) come with the
# machine; check that they are new enough rather than silently building something else.
export PATH="$HOME/.cargo/bin:/usr/local/go/bin:$HOME/go/bin:$PATH"
need_rust="1.95.0"
have_rust=$(rustc --version | awk '{print $2}')
if [[ "$(printf '%s\n%s\n' "$need_rust" "$have_rust" | sort -V | head -1)" != "$need_rust" ]]; then
  echo "setup: rustc $have_rust is older than $need_rust (wasmtime-shim's rust-version)" >&2
  exit 1
fi
command -v go >/dev/null || { echo "setup: Go toolchain not found" >&2; exit 1; }
# WASI preview 2 test components are built with rustc's wasm32-wasip2 target (a component directly).
if ! rustup target list --installed | grep -qx wasm32-wasip2; then
  echo "setup: adding Rust target wasm32-wasip2"
  rustup target add wasm32-wasip2
fi

# Rust modules (examples/, templates/rust) build for wasm32-wasip1.
if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-wasip1; then
  echo "setup: adding the Rust target wasm32-wasip1"
  rustup target add wasm32-wasip1
fi

# A real S3 server for the artifact tests, built from the Go module proxy.
VERSITYGW_VERSION=v1.8.0
if ! [[ -x "$HOME/go/bin/versitygw" ]] || ! grep -q "$VERSITYGW_VERSION" "$HOME/go/bin/.versitygw-version" 2>/dev/null; then
  echo "setup: building versitygw $VERSITYGW_VERSION (S3 server for tests)"
  go install "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION"
  echo "$VERSITYGW_VERSION" > "$HOME/go/bin/.versitygw-version"
fi

# A real signer for the module provenance tests (cosign, key pairs, no transparency log).
COSIGN_VERSION=v2.4.1
if ! [[ -x "$HOME/go/bin/cosign" ]] || ! grep -q "$COSIGN_VERSION" "$HOME/go/bin/.cosign-version" 2>/dev/null; then
  echo "setup: building cosign $COSIGN_VERSION (module signatures for tests)"
  go install "github.com/sigstore/cosign/v2/cmd/cosign@$COSIGN_VERSION"
  echo "$COSIGN_VERSION" > "$HOME/go/bin/.cosign-version"
fi

# The real Kubernetes parts of tests/k8s (kube-apiserver, scheduler, controller-manager, kubelet
# 1.37 and kine), cached under ~/.cache/wasm-workflows-plugin/k8s-<version>: ~15 min once.
"$(dirname "$0")/../tests/k8s/build-binaries.sh" >/dev/null

# Argo's workflow-controller v4.0.5 and the argoexec stand-in for the end-to-end test
# (tests/argo/controller_e2e_test.sh), cached under ~/.cache/wasm-workflows-plugin/argo-<version>.
"$(dirname "$0")/../tests/argo/build-controller.sh" >/dev/null

# Jaeger all-in-one for the tracing test, built once from the Go module proxy (about 4 minutes)
# and kept in ~/.cache/wasm-workflows-plugin/jaeger-<version>.
"$(dirname "$0")/../tests/telemetry/jaeger/build-jaeger.sh" >/dev/null
