# Writes OUT: a C++ file defining pgxn::origin::EmbeddedMigrations() with the
# text of each sql/NNN_name.sql file in FILES (a ;-list), in name order.
list(SORT FILES)
set(body "")
foreach(file IN LISTS FILES)
  get_filename_component(name "${file}" NAME_WE)
  string(REGEX MATCH "^([0-9]+)_(.+)$" matched "${name}")
  if(NOT matched)
    message(FATAL_ERROR "Migration ${file} is not named NNN_name.sql")
  endif()
  set(number "${CMAKE_MATCH_1}")
  # Read before the REGEX REPLACE below, which resets CMAKE_MATCH_*.
  set(label "${CMAKE_MATCH_2}")
  string(REGEX REPLACE "^0+([0-9])" "\\1" number "${number}")
  file(READ "${file}" sql)
  string(FIND "${sql}" ")pgxnsql\"" clash)
  if(NOT clash EQUAL -1)
    message(FATAL_ERROR "${file} contains the raw string delimiter")
  endif()
  string(APPEND body "      {${number}, \"${label}\", R\"pgxnsql(${sql})pgxnsql\"},\n")
endforeach()
file(WRITE "${OUT}.tmp" "// Generated from origin/pg/sql by origin/pg/embed_sql.cmake. Do not edit.
#include \"origin/pg/migrations.h\"

namespace pgxn::origin {

const std::vector<Migration>& EmbeddedMigrations() {
  static const std::vector<Migration>* migrations = new std::vector<Migration>{
${body}  };
  return *migrations;
}

}  // namespace pgxn::origin
")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
