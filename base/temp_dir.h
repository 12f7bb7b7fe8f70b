// Test support: a fresh directory under $TMPDIR (or /tmp), removed with its
// contents on destruction. Mode 0755 so that a server run as another user
// (Postgres under `runuser`) can traverse it.
#ifndef PGXN_BASE_TEMP_DIR_H_
#define PGXN_BASE_TEMP_DIR_H_

#include <string>

namespace pgxn::base {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace pgxn::base

#endif  // PGXN_BASE_TEMP_DIR_H_
