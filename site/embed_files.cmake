# Writes OUT: a C++ file defining pgxn::site::EmbeddedSiteFiles() with the
# bytes of each file in FILES (a ;-list) under its path relative to BASE
# ("templates/dist.mustache", "ui/pgxn.css"), in path order, so the binary
# serves the site without reading its source tree.
list(SORT FILES)
set(body "")
foreach(file IN LISTS FILES)
  file(RELATIVE_PATH name "${BASE}" "${file}")
  file(READ "${file}" text)
  string(FIND "${text}" ")pgxnsite\"" clash)
  if(NOT clash EQUAL -1)
    message(FATAL_ERROR "${file} contains the raw string delimiter")
  endif()
  string(APPEND body "      {\"${name}\", R\"pgxnsite(${text})pgxnsite\"},\n")
endforeach()
file(WRITE "${OUT}.tmp" "// Generated from site/templates and site/ui by site/embed_files.cmake. Do not edit.
#include \"site/site_files.h\"

namespace pgxn::site {

const std::map<std::string, std::string>& EmbeddedSiteFiles() {
  static const std::map<std::string, std::string>* files = new std::map<std::string, std::string>{
${body}  };
  return *files;
}

}  // namespace pgxn::site
")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
