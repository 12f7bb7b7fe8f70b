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
  wrk  # load for ops/bench/site (which falls back to Python clients without it)
  # The indexer's doc converters (optional for an operator; the tests use them):
  # reStructuredText, AsciiDoc, POD, and Textile/MediaWiki/Creole.
  python3-docutils asciidoctor perl pandoc
)

# What the tests need besides: rsync (tests/export_test.cc mirrors an
# export with it), and for the browser tests (tests/site_test.cc,
# tests/browser/) Debian's chromium, and Node.js with npm unless a node is
# already on PATH (one from another source brings its own npm, which
# Debian's would conflict with). ops/test installs these; ops/quickstart
# does not need them.
PGXN_TEST_PACKAGES=(rsync chromium)
# The package test (tests/package_test.cc) checks the units with
# systemd-analyze and pgxnd(1) with groff; without them it says so and
# checks less. cpack's dpkg-shlibdeps and readelf come with build-essential.
PGXN_TEST_PACKAGES+=(systemd groff-base)
if ! command -v node >/dev/null 2>&1; then
  PGXN_TEST_PACKAGES+=(nodejs npm)
fi

# What ops/fuzz needs besides: libFuzzer's runtime and the sanitizers'
# (clang only recommends it, and the installs here skip recommendations).
PGXN_FUZZ_PACKAGES=(libclang-rt-14-dev)

# Installs PGXN_PACKAGES and the packages named as arguments.
pgxn_install_deps() {
  local missing=()
  local package
  for package in "${PGXN_PACKAGES[@]}" "$@"; do
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

# Configures and builds into BUILD_DIR (default ./build) with two jobs;
# PGXN_CXX_FLAGS adds compiler and linker flags (ops/test's sanitizers).
pgxn_build() {
  local build_dir=${BUILD_DIR:-build}
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo} \
    -DCMAKE_CXX_FLAGS="${PGXN_CXX_FLAGS:-}" -DCMAKE_C_FLAGS="${PGXN_CXX_FLAGS:-}" \
    -DCMAKE_EXE_LINKER_FLAGS="${PGXN_CXX_FLAGS:-}" >/dev/null
  cmake --build "$build_dir" -j "${JOBS:-2}"
}

# Installs the browser tests' npm packages (playwright-core, axe-core) in
# tests/browser exactly as its package-lock.json pins them, when they are
# missing or the lock file changed since. Nothing else is downloaded: the
# tests drive Debian's chromium.
pgxn_install_browser_deps() {
  local dir=tests/browser
  if [ -d "$dir/node_modules" ] && [ ! "$dir/package-lock.json" -nt "$dir/node_modules" ]; then
    return 0
  fi
  (cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund >/dev/null)
  touch "$dir/node_modules"
}
