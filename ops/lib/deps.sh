# Debian 12 packages the build, the tests and the benchmarks need; sourced by
# ops/test and ops/quickstart. Installs what is missing when run as root.
PGXN_PACKAGES=(
  build-essential cmake ninja-build pkg-config clang
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  librocksdb-dev libpq-dev libxapian-dev libabsl-dev libgtest-dev libgmock-dev
  libboost-dev nlohmann-json3-dev libarchive-dev libssl-dev libsodium-dev
  libcmark-gfm-dev libcmark-gfm-extensions-dev prometheus-cpp-dev libcurl4-openssl-dev
  zlib1g-dev libkainjow-mustache-dev
  postgresql-15 pgxnclient curl unzip zip git python3
  # The indexer's doc converters (optional for an operator; the tests use them):
  # reStructuredText, AsciiDoc, POD, and Textile/MediaWiki/Creole.
  python3-docutils asciidoctor perl pandoc
)

pgxn_install_deps() {
  local missing=()
  local package
  for package in "${PGXN_PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
      missing+=("$package")
    fi
  done
  if [ ${#missing[@]} -eq 0 ]; then
    return 0
  fi
  if [ "$(id -u)" -ne 0 ]; then
    echo "Missing Debian packages: ${missing[*]}" >&2
    echo "Install them with: sudo apt-get install -y ${missing[*]}" >&2
    return 1
  fi
  echo "Installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Configures and builds into BUILD_DIR (default ./build) with two jobs.
pgxn_build() {
  local build_dir=${BUILD_DIR:-build}
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo} >/dev/null
  cmake --build "$build_dir" -j "${JOBS:-2}"
}
