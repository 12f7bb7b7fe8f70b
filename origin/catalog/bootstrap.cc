#include "origin/catalog/bootstrap.h"

#include <utility>
#include <vector>

#include "feed/signing.h"
#include "origin/catalog/catalog.h"
#include "origin/catalog/tree_render.h"

namespace pgxn::origin {

absl::StatusOr<v1::Event> PublishMetaFiles(PgConnection& conn, const Publishing& publishing) {
  EventHeader header{feed::EventKind::kMeta, "pgxnd", "", ""};
  header.skip_if_unchanged = true;
  return Publish(
      conn, header,
      [&](absl::Time) -> absl::StatusOr<std::vector<FileChange>> {
        std::vector<FileChange> files = {
            {"index.json", RenderIndexJson(), ""},
            {"meta/spec.txt", kMetaSpecText, "text/plain; charset=utf-8"},
            {"meta/origin.pub", feed::FormatPublicKey(publishing.key->public_key),
             "text/plain; charset=utf-8"},
        };
        absl::StatusOr<FileChange> mirrors = RenderMirrorsFile(conn);
        if (!mirrors.ok()) return mirrors.status();
        files.push_back(*std::move(mirrors));
        absl::StatusOr<std::vector<FileChange>> stats = RenderStatsFiles(conn);
        if (!stats.ok()) return stats.status();
        for (FileChange& file : *stats) files.push_back(std::move(file));
        return files;
      },
      publishing);
}

}  // namespace pgxn::origin
