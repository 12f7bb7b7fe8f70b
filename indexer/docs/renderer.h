// Renders releases' docs (release_files.h) off the indexing thread, where
// rendering is most of the cost of indexing a release. Two ways:
//  - from events: the feed thread hands each applied event to Prerender,
//    which renders the releases the event carries (META and zip are in it)
//    and keeps them until the indexing thread takes them for that event;
//  - ahead of the indexing thread: StartAhead renders a list of releases,
//    read from the tree, on a thread of its own, in the order the indexing
//    thread then takes them with TakeAhead (a rebuild, a batch's newest
//    releases).
// Whatever was not rendered ahead is rendered when taken. Both caches are
// bounded (kMaxWaiting releases), so memory stays bounded whatever the
// upstream sends.
//
// Thread-safety: Prerender from one thread (the feed's), the rest from
// another (the indexing thread); `read` must be thread-safe.
#ifndef PGXN_INDEXER_DOCS_RENDERER_H_
#define PGXN_INDEXER_DOCS_RENDERER_H_

#include <cstdint>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "indexer/docs/doc_converter.h"
#include "indexer/docs/release_files.h"
#include "nlohmann/json.hpp"
#include "pgxn/feed/v1/feed.pb.h"

namespace pgxn::indexer {

// The content of a file of the node's tree; "" if it has none.
using ReadTreeFile = std::function<std::string(absl::string_view path)>;

class ReleaseRenderer {
 public:
  // `converter` (not owned, may be null) converts the markups that need a
  // program; it must outlive the renderer.
  explicit ReleaseRenderer(ReadTreeFile read, const DocConverter* converter = nullptr);
  ~ReleaseRenderer();  // StopAhead()
  ReleaseRenderer(const ReleaseRenderer&) = delete;
  ReleaseRenderer& operator=(const ReleaseRenderer&) = delete;

  // The docs of the release under `dir` ("dist/pair/0.1.0/") that `meta`
  // describes, rendered now from its zip in the tree; none if the zip is
  // missing or unreadable (logged).
  ReleaseFiles Render(const std::string& dir, const nlohmann::json& meta) const;

  // Renders the releases `event` carries with their contents, for
  // TakePrerendered. With kMaxWaiting releases waiting already it waits for
  // room (which paces the feed thread to the indexing one), but at most
  // kRoomWait: then the indexing thread renders them itself.
  void Prerender(const feed::v1::Event& event);
  // The docs of the release under `dir` as Prerender left them for the event
  // `seq`, or rendered now.
  ReleaseFiles TakePrerendered(const std::string& dir, const nlohmann::json& meta, uint64_t seq);
  // Forgets what was rendered for events up to `seq` (indexed or skipped
  // by now, never to be taken).
  void ForgetPrerenderedUpTo(uint64_t seq);
  // Forgets everything Prerender left (the store was replaced).
  void ForgetPrerendered();

  // Renders the releases whose META.json paths are `meta_paths`, in order,
  // on a thread of its own, each for TakeAhead; StopAhead (or a later
  // StartAhead) ends it and drops what was not taken.
  void StartAhead(std::vector<std::string> meta_paths);
  // The docs of the release under `dir`: the next one the thread renders
  // (take every one, in order, even those then unused), or rendered now if
  // the thread stopped.
  ReleaseFiles TakeAhead(const std::string& dir, const nlohmann::json& meta);
  void StopAhead();

  static constexpr size_t kMaxWaiting = 256;
  static constexpr absl::Duration kRoomWait = absl::Milliseconds(500);

 private:
  struct Prerendered {
    uint64_t seq;  // of the event that carried the release
    ReleaseFiles files;
  };

  const ReadTreeFile read_;
  const DocConverter* const converter_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Prerendered> prerendered_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, ReleaseFiles> ahead_ ABSL_GUARDED_BY(mu_);
  bool rendering_ahead_ ABSL_GUARDED_BY(mu_) = false;
  std::thread ahead_thread_;
};

}  // namespace pgxn::indexer

#endif  // PGXN_INDEXER_DOCS_RENDERER_H_
