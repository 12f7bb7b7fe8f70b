# The Debian package: `cpack` in a built build directory writes
# pgxnd_VERSION_ARCH.deb (README, "Install from the package"). It holds the
# binary (stripped), a systemd unit and an example flag file per role, and
# pgxnd(1), which the build makes from the binary's own --help. The files are
# in packaging/; tests/package_test.cc builds the package, looks inside and
# runs what it installs.
#
# Nothing here is meant for `cmake --install` onto a live system: the units
# and flag files go to absolute paths (/lib/systemd/system, /etc/pgxnd), and
# only the package's maintainer scripts create the user and data directories
# they need.

# pgxnd(1), from `pgxnd --help` and every command's (packaging/help2roff.py).
# Built with everything else, so that cpack finds it.
set(PGXN_MANPAGE ${PROJECT_BINARY_DIR}/packaging/pgxnd.1.gz)
add_custom_command(
  OUTPUT ${PGXN_MANPAGE}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/packaging
  COMMAND ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/packaging/help2roff.py
          $<TARGET_FILE:pgxnd> ${PGXN_MANPAGE}
  DEPENDS pgxnd ${PROJECT_SOURCE_DIR}/packaging/help2roff.py
  COMMENT "Writing pgxnd(1) from pgxnd --help"
  VERBATIM)
add_custom_target(pgxnd_manpage ALL DEPENDS ${PGXN_MANPAGE})

# One unit per role from one template: they differ only in the role.
set(PGXN_UNITS)
foreach(ROLE origin mirror indexer)
  if(ROLE STREQUAL "origin")
    set(DESCRIPTION "pgxnd origin: PGXN's Manager, release feed and tree")
    set(SUMMARY "The origin: accepts releases and publishes them to the mirrors.")
  elseif(ROLE STREQUAL "mirror")
    set(DESCRIPTION "pgxnd mirror: a verified copy of PGXN's tree")
    set(SUMMARY "A mirror: follows a feed, serves the tree and relays the feed.")
  else()
    set(DESCRIPTION "pgxnd indexer: PGXN's API and website")
    set(SUMMARY "An indexer: a mirror that also serves PGXN's API and website.")
  endif()
  configure_file(${PROJECT_SOURCE_DIR}/packaging/systemd/pgxnd.service.in
                 ${PROJECT_BINARY_DIR}/packaging/pgxnd-${ROLE}.service @ONLY)
  list(APPEND PGXN_UNITS ${PROJECT_BINARY_DIR}/packaging/pgxnd-${ROLE}.service)
endforeach()

install(TARGETS pgxnd RUNTIME DESTINATION bin)
install(FILES ${PGXN_MANPAGE} DESTINATION share/man/man1)
install(FILES ${PGXN_UNITS} DESTINATION /lib/systemd/system)
install(FILES ${PROJECT_SOURCE_DIR}/packaging/flags/origin.flags
              ${PROJECT_SOURCE_DIR}/packaging/flags/mirror.flags
              ${PROJECT_SOURCE_DIR}/packaging/flags/indexer.flags
        DESTINATION /etc/pgxnd)

# `cpack` packages what is built and does not build: the test that runs it
# (tests/package_test.cc) must not start a build beside the other tests.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

set(PGXN_PACKAGE_CONTACT "pgxnd maintainers <maintainers@pgxnd.invalid>"
    CACHE STRING "Maintainer field of the Debian package")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME pgxnd)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT ${PGXN_PACKAGE_CONTACT})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "PGXN as an event-driven, replicated mirror network")
# CPack makes the control file's Description from the summary (its first
# line) and this text (the indented lines below it).
set(CPACK_PACKAGE_DESCRIPTION
    "One binary for every node: the origin (releases in PostgreSQL, published \
as a signed, gapless event log over gRPC), mirrors that follow it and serve \
PGXN's tree, and indexers that also serve PGXN's API and website. systemd \
units for each role run it from /etc/pgxnd/ROLE.flags.")
set(CPACK_DEBIAN_PACKAGE_SECTION database)
# pgxnd_VERSION_ARCH.deb, the architecture from dpkg (amd64 here).
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
# The binary carries several hundred MB of debug info in RelWithDebInfo.
set(CPACK_STRIP_FILES ON)
# The shared libraries the binary links, as dpkg-shlibdeps finds them
# (libgrpc++, librocksdb, libxapian, ...), and adduser for the postinst.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
# The origin's embedded PostgreSQL runs the newest server under
# /usr/lib/postgresql (origin/pg/embedded_postgres.cc). A recommendation, not
# a dependency: mirrors and indexers need no PostgreSQL, nor does an origin
# given --postgres DSN, and Debian's server package creates and starts a
# cluster of its own (apt install --no-install-recommends leaves it out).
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "postgresql")
# The indexer's doc converters (docs/operating.md); docs are shown as text
# without them.
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "python3-docutils, asciidoctor, pandoc")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/packaging/debian/conffiles
    ${PROJECT_SOURCE_DIR}/packaging/debian/postinst
    ${PROJECT_SOURCE_DIR}/packaging/debian/prerm
    ${PROJECT_SOURCE_DIR}/packaging/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
