# Writes OUT: a C++ file defining `const char NAME[]` in pgxn::origin with the
# text of FILE.
file(READ "${FILE}" text)
string(FIND "${text}" ")pgxntext\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${FILE} contains the raw string delimiter")
endif()
file(WRITE "${OUT}.tmp" "// Generated from ${FILE} by origin/embed_text.cmake. Do not edit.
namespace pgxn::origin {
extern const char ${NAME}[];
const char ${NAME}[] = R\"pgxntext(${text})pgxntext\";
}  // namespace pgxn::origin
")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
