# Include roots, one per library.
#
# Every header is included by its path from the top of the repository
# ("feed/event_chain.h"), but no library sees the whole tree: each gets an
# include root of its own under the build directory that holds nothing but a
# symbolic link to its own directory. A library therefore reaches the headers
# of exactly the libraries it links (PUBLIC links pass theirs on), and an
# include against the dependency order does not compile. ops/layering checks
# what links alone cannot (see docs/developing.md).

# pgxn_include_root(TARGET [DIR]): TARGET's headers are those of DIR (default:
# the current source directory), reached as "DIR/x.h".
function(pgxn_include_root target)
  if(ARGC GREATER 1)
    set(dir ${ARGV1})
  else()
    set(dir ${CMAKE_CURRENT_SOURCE_DIR})
  endif()
  file(RELATIVE_PATH rel ${PROJECT_SOURCE_DIR} ${dir})
  set(root ${PROJECT_BINARY_DIR}/include_roots/${target})
  get_filename_component(parent ${root}/${rel} DIRECTORY)
  file(MAKE_DIRECTORY ${parent})
  if(NOT IS_SYMLINK ${root}/${rel})
    file(CREATE_LINK ${dir} ${root}/${rel} SYMBOLIC)
  endif()
  target_include_directories(${target} PUBLIC ${root})
endfunction()
