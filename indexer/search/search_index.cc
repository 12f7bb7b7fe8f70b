#include "indexer/search/search_index.h"

#include <xapian.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <system_error>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "base/escape.h"
#include "base/utf8.h"

namespace pgxn::indexer {
namespace {

// --- Layout of the one Xapian database -------------------------------------
//
// Every index has a two-letter text prefix ("XD" for dists) for its unqualified
// words, and one more letter per field ("XDA" for a dist's abstract), so each
// index has its own term statistics and a field query never reaches another
// index. Text terms are lower case (TermGenerator and QueryParser fold case), so
// they never clash with the upper-case prefixes. Exact values are boolean terms
// "<field prefix>:<value>"; the colon keeps them apart from text terms. Each
// document also carries its index's type term and its unique key term.

constexpr char kAppliedSeqKey[] = "pgxn.applied_seq";
constexpr char kSchemaKey[] = "pgxn.schema";
// Bump when the layout changes: an index written with another layout must be
// rebuilt from the event log, not read.
constexpr char kSchemaVersion[] = "1";

// The docs of a dist carry this term + the lower-cased dist, so DeleteDocs is
// one delete_document call.
constexpr char kDocsOfDistPrefix[] = "XP:";

// The glass backend rejects terms longer than 245 bytes. Longer keys and exact
// values are shortened to exactly kMaxTermBytes with a hash of the whole value;
// terms that fit are at most kMaxDirectTermBytes, so the two forms never meet.
constexpr size_t kMaxTermBytes = 245;
constexpr size_t kMaxDirectTermBytes = 240;

// The text shown as a hit's excerpt (README, body, ...), kept out of the
// document data so that a hit's JSON stays small to parse.
constexpr Xapian::valueno kExcerptSlot = 0;

constexpr size_t kExcerptChars = 200;
constexpr char kHighlightStart[] = "<strong>";
constexpr char kHighlightEnd[] = "</strong>";
constexpr char kOmitted[] = "&#8230;";  // what PGXN prints for elided text

// Counts are exact up to this many matches, estimated beyond (Xapian's
// check_at_least): a hostile query must not make every search scan the index.
constexpr Xapian::doccount kExactCountUpTo = 10000;
// Bounds the matcher's work on a hostile query; results may then be partial.
constexpr double kMatchTimeLimitSeconds = 2.0;
// Lock-free attempts of a search before one that holds the writer off.
constexpr int kLockFreeReadAttempts = 2;

enum class Analysis {
  kText,        // words, lower-cased and stemmed
  kExact,       // the whole value, case kept
  kExactLower,  // the whole value, lower-cased
};

struct Field {
  const char* name;    // as written in a query: `abstract:word`
  const char* prefix;  // term prefix
  Analysis analysis;
  Xapian::termcount wdf;  // weight of a word of this field in the unqualified search
  bool unqualified;       // whether words of this field match unqualified query words
};

struct Schema {
  SearchIn in;
  const char* text_prefix;  // unqualified words
  const char* type_term;
  const char* key_prefix;
  bool has_excerpt;  // Put passes the excerpt's source text (README, body, ...)
  std::vector<Field> fields;
};

const std::vector<Schema>& Schemas() {
  static const auto* const schemas = new std::vector<Schema>{
      {SearchIn::kDocs,
       "XC",
       "XY:docs",
       "XQC:",
       true,
       {{"title", "XCT", Analysis::kText, 3, true},
        {"abstract", "XCA", Analysis::kText, 2, true},
        {"body", "XCB", Analysis::kText, 1, true},
        {"dist", "XCN", Analysis::kText, 2, true},
        {"user", "XCU", Analysis::kExactLower, 1, true},
        {"user_name", "XCM", Analysis::kText, 1, true}}},
      {SearchIn::kDists,
       "XD",
       "XY:dists",
       "XQD:",
       true,
       {{"dist", "XDN", Analysis::kText, 3, true},
        {"abstract", "XDA", Analysis::kText, 2, true},
        {"description", "XDD", Analysis::kText, 1, true},
        {"readme", "XDR", Analysis::kText, 1, true},
        {"tags", "XDK", Analysis::kExact, 2, true},
        {"user", "XDU", Analysis::kExactLower, 1, true},
        {"user_name", "XDM", Analysis::kText, 1, true}}},
      {SearchIn::kExtensions,
       "XE",
       "XY:extensions",
       "XQE:",
       true,
       {{"extension", "XEN", Analysis::kText, 3, true},
        {"abstract", "XEA", Analysis::kText, 2, true},
        {"user", "XEU", Analysis::kExactLower, 1, true},
        {"user_name", "XEM", Analysis::kText, 1, true}}},
      {SearchIn::kUsers,
       "XU",
       "XY:users",
       "XQU:",
       true,
       {{"user", "XUU", Analysis::kExactLower, 3, true},
        {"name", "XUM", Analysis::kText, 2, true},
        {"details", "XUD", Analysis::kText, 1, true},
        // Exact only: a search for a word must not match inside addresses.
        {"email", "XUE", Analysis::kExactLower, 1, false},
        {"uri", "XUI", Analysis::kExact, 1, false}}},
      {SearchIn::kTags,
       "XT",
       "XY:tags",
       "XQT:",
       false,
       {{"tag", "XTK", Analysis::kExact, 1, true}}},
  };
  return *schemas;
}

const Schema& SchemaFor(SearchIn in) {
  for (const Schema& schema : Schemas()) {
    if (schema.in == in) return schema;
  }
  // Every enumerator has a schema; reaching here is a programming error.
  std::abort();
}

const Field& FieldOf(const Schema& schema, absl::string_view name) {
  for (const Field& field : schema.fields) {
    if (name == field.name) return field;
  }
  std::abort();
}

std::string Lower(absl::string_view s) { return Xapian::Unicode::tolower(base::ToValidUtf8(s)); }

// --- Terms -----------------------------------------------------------------

// FNV-1a: stable across processes and builds, unlike std::hash, which matters
// because these terms are stored.
uint64_t Fnv1a64(absl::string_view s) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) {
    hash ^= c;
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

std::string BoundedTerm(absl::string_view prefix, absl::string_view value) {
  if (prefix.size() + value.size() <= kMaxDirectTermBytes) return absl::StrCat(prefix, value);
  const std::string hash = absl::StrFormat("#%016x", Fnv1a64(value));
  const size_t keep = kMaxTermBytes - prefix.size() - hash.size();
  return absl::StrCat(prefix, value.substr(0, keep), hash);
}

std::string ExactTerm(const Field& field, absl::string_view value) {
  const std::string normalized =
      field.analysis == Analysis::kExactLower ? Lower(value) : base::ToValidUtf8(value);
  return BoundedTerm(absl::StrCat(field.prefix, ":"), normalized);
}

std::string KeyTerm(const Schema& schema, absl::string_view key) {
  return BoundedTerm(schema.key_prefix, Lower(key));
}

std::string DocKey(absl::string_view dist, absl::string_view docpath) {
  // A dist name never contains '/', so the first '/' ends it.
  return absl::StrCat(Lower(dist), "/", base::ToValidUtf8(docpath));
}

std::string DocsOfDistTerm(absl::string_view dist) {
  return BoundedTerm(kDocsOfDistPrefix, Lower(dist));
}

// The word a query term matches in plain text, for MSet::snippet, which only
// recognises unprefixed terms: "XDApair" -> "pair", "ZXDAtype" -> "Ztype".
// Exact-field and bookkeeping terms (with ':') are not highlighted.
std::optional<std::string> HighlightTerm(const std::string& term) {
  size_t i = 0;
  const bool stemmed = !term.empty() && term[0] == 'Z';
  if (stemmed) i = 1;
  size_t j = i;
  while (j < term.size() && term[j] >= 'A' && term[j] <= 'Z') ++j;
  if (j == i || j == term.size() || term[j] == ':') return std::nullopt;
  return absl::StrCat(stemmed ? "Z" : "", absl::string_view(term).substr(j));
}

Xapian::Stem EnglishStemmer() { return Xapian::Stem("english"); }

// --- Documents -------------------------------------------------------------

}  // namespace

absl::string_view ExcerptSource(absl::string_view text) {
  if (text.size() <= kMaxExcerptSourceBytes) return text;
  size_t end = kMaxExcerptSourceBytes;
  // Not inside a character: back to the start of the one that was cut.
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end);
}

namespace {

using FieldValues = std::vector<std::pair<const char*, absl::string_view>>;

// Builds the Xapian document of one hit. `hit` is the JSON returned for it;
// `values` are the searchable fields (a name may repeat, as tags do).
Xapian::Document BuildDocument(const Schema& schema, const FieldValues& values,
                               const nlohmann::json& hit, absl::string_view excerpt_text) {
  Xapian::Document doc;
  Xapian::TermGenerator generator;
  generator.set_stemmer(EnglishStemmer());
  generator.set_document(doc);
  for (const auto& [name, raw] : values) {
    const Field& field = FieldOf(schema, name);
    const std::string value = base::ToValidUtf8(raw);
    if (value.empty()) continue;
    if (field.analysis == Analysis::kText) {
      generator.index_text(value, 1, field.prefix);
    } else {
      doc.add_boolean_term(ExactTerm(field, value));
    }
    if (field.unqualified) generator.index_text(value, field.wdf, schema.text_prefix);
    // A phrase must not match across two fields' text.
    generator.increase_termpos(100);
  }
  doc.add_boolean_term(schema.type_term);
  // `replace`: bytes that are not UTF-8 become U+FFFD instead of throwing.
  doc.set_data(hit.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  if (schema.has_excerpt) {
    doc.add_value(kExcerptSlot, base::ToValidUtf8(ExcerptSource(excerpt_text)));
  }
  return doc;
}

absl::string_view FirstNonEmpty(std::initializer_list<absl::string_view> texts) {
  for (absl::string_view text : texts) {
    if (!text.empty()) return text;
  }
  return {};
}

// --- Searching -------------------------------------------------------------

// Turns the value after `tags:` (quotes removed) into the term it was indexed
// under, with the same normalisation and shortening as at indexing time.
class ExactFieldProcessor : public Xapian::FieldProcessor {
 public:
  explicit ExactFieldProcessor(const Field& field) : field_(field) {}
  Xapian::Query operator()(const std::string& value) override {
    if (value.empty()) return Xapian::Query::MatchNothing;
    return Xapian::Query(ExactTerm(field_, value));
  }

 private:
  const Field& field_;
};

Xapian::Query ParseUserQuery(const Schema& schema, const std::string& q) {
  Xapian::QueryParser parser;
  parser.set_stemmer(EnglishStemmer());
  parser.set_stemming_strategy(Xapian::QueryParser::STEM_SOME);
  parser.set_default_op(Xapian::Query::OP_OR);
  parser.add_prefix("", schema.text_prefix);
  for (const Field& field : schema.fields) {
    if (field.analysis == Analysis::kText) {
      parser.add_prefix(field.name, field.prefix);
    } else {
      parser.add_boolean_prefix(field.name, (new ExactFieldProcessor(field))->release());
    }
  }
  constexpr unsigned kFlags =
      Xapian::QueryParser::FLAG_DEFAULT | Xapian::QueryParser::FLAG_PURE_NOT;
  try {
    return parser.parse_query(q, kFlags);
  } catch (const Xapian::QueryParserError&) {
    // Malformed syntax ("AND AND (", a lone "NOT"): search the words instead.
  }
  try {
    return parser.parse_query(q, 0);
  } catch (const Xapian::QueryParserError&) {
    return Xapian::Query();
  }
}

struct Candidate {
  double weight;
  Xapian::docid docid;
  const Schema* schema;
};

struct Matches {
  uint64_t count = 0;
  std::vector<Candidate> hits;
};

Matches Match(const Xapian::Database& db, const Schema& schema, const Xapian::Query& query,
              Xapian::doccount first, Xapian::doccount max) {
  Matches matches;
  if (query.empty()) return matches;
  Xapian::Enquire enquire(db);
  // The type filter also bounds pure-NOT queries ("NOT pair") to this index.
  enquire.set_query(
      Xapian::Query(Xapian::Query::OP_FILTER, query, Xapian::Query(schema.type_term)));
  enquire.set_time_limit(kMatchTimeLimitSeconds);
  const Xapian::doccount check_at_least =
      std::max(first + max, std::min(db.get_doccount(), kExactCountUpTo));
  const Xapian::MSet mset = enquire.get_mset(first, max, check_at_least);
  matches.count = mset.get_matches_estimated();
  for (auto it = mset.begin(); it != mset.end(); ++it) {
    matches.hits.push_back({it.get_weight(), *it, &schema});
  }
  return matches;
}

// An MSet whose query is `query`'s words without prefixes: snippet() of it
// highlights those words (and words with the same stem) in plain text.
Xapian::MSet Highlighter(const Xapian::Database& db, const Xapian::Query& query) {
  std::vector<std::string> terms;
  for (auto it = query.get_unique_terms_begin(); it != query.get_unique_terms_end(); ++it) {
    if (auto term = HighlightTerm(*it)) terms.push_back(*std::move(term));
  }
  Xapian::Enquire enquire(db);
  if (!terms.empty()) {
    enquire.set_query(Xapian::Query(Xapian::Query::OP_OR, terms.begin(), terms.end()));
  }
  return enquire.get_mset(0, 0);
}

// The first words of `text` (about kExcerptChars characters, cut after a
// whole word), HTML-escaped, with kOmitted when more follows.
std::string StartOf(absl::string_view text) {
  size_t end = 0, chars = 0;
  for (size_t at = 0; at < text.size() && chars < kExcerptChars; ++chars) {
    char32_t cp;
    if (!base::DecodeUtf8(text, &at, &cp)) ++at;
    end = at;
  }
  if (end < text.size()) {
    const size_t space = text.substr(0, end).find_last_of(" \t\n");
    if (space != absl::string_view::npos && space > 0) end = space;
  }
  std::string excerpt = base::EscapeHtml(absl::StripTrailingAsciiWhitespace(text.substr(0, end)));
  if (end < text.size()) absl::StrAppend(&excerpt, kOmitted);
  return excerpt;
}

nlohmann::json RenderHit(const Xapian::Database& db, const Candidate& candidate,
                         const Xapian::MSet& highlighter) {
  const Xapian::Document doc = db.get_document(candidate.docid);
  nlohmann::json hit = nlohmann::json::parse(doc.get_data(), nullptr, /*allow_exceptions=*/false);
  if (!hit.is_object()) hit = nlohmann::json::object();
  if (candidate.schema->has_excerpt) {
    // No background model: it looks up the frequency of every word of the
    // text in the index, per hit, which made a page of long READMEs cost
    // milliseconds; the excerpt is a window around the first matches.
    // An index written before excerpts were cut at indexing time holds the
    // whole text: the window is looked for in its prefix all the same.
    std::string text = doc.get_value(kExcerptSlot);
    if (text.size() > kMaxExcerptSourceBytes) text.resize(ExcerptSource(text).size());
    std::string excerpt = highlighter.snippet(text, kExcerptChars, EnglishStemmer(),
                                              Xapian::MSet::SNIPPET_EMPTY_WITHOUT_MATCH,
                                              kHighlightStart, kHighlightEnd, kOmitted);
    // A hit matched only in its title or abstract: Xapian would show the
    // text's last words; its first ones say what it is.
    if (excerpt.empty()) excerpt = StartOf(text);
    hit["excerpt"] = std::move(excerpt);
  }
  hit["score"] = absl::StrFormat("%.3f", candidate.weight);
  return hit;
}

Xapian::doccount AsDoccount(uint64_t n, Xapian::doccount cap) {
  return static_cast<Xapian::doccount>(std::min<uint64_t>(n, cap));
}

uint64_t NormalizeLimit(uint64_t limit) {
  return limit == 0 || limit >= kMaxLimit ? kDefaultLimit : limit;
}

absl::Status CheckQuery(absl::string_view q) {
  if (q.size() > kMaxQueryBytes) {
    return absl::InvalidArgumentError(
        absl::StrFormat("query is %d bytes, longer than %d", q.size(), kMaxQueryBytes));
  }
  if (q.find('\0') != absl::string_view::npos) {
    return absl::InvalidArgumentError("query contains a NUL byte");
  }
  if (!base::IsValidUtf8(q)) return absl::InvalidArgumentError("query is not valid UTF-8");
  return absl::OkStatus();
}

nlohmann::json Envelope(absl::string_view q, uint64_t offset, uint64_t limit, uint64_t count,
                        nlohmann::json hits) {
  return nlohmann::json{{"query", std::string(q)},
                        {"offset", offset},
                        {"limit", limit},
                        {"count", count},
                        {"hits", std::move(hits)}};
}

nlohmann::json SearchOne(const Xapian::Database& db, const Schema& schema, const std::string& q,
                         uint64_t offset, uint64_t limit) {
  const Xapian::Query query = ParseUserQuery(schema, q);
  const Xapian::doccount total = db.get_doccount();
  const Xapian::doccount first = AsDoccount(offset, total);
  const Matches matches = Match(db, schema, query, first, AsDoccount(limit, total - first));
  const Xapian::MSet highlighter = Highlighter(db, query);
  nlohmann::json hits = nlohmann::json::array();
  for (const Candidate& candidate : matches.hits) {
    hits.push_back(RenderHit(db, candidate, highlighter));
  }
  return Envelope(q, offset, limit, matches.count, std::move(hits));
}

nlohmann::json SearchEvery(const Xapian::Database& db, const std::string& q, uint64_t offset,
                           uint64_t limit) {
  const Xapian::doccount total = db.get_doccount();
  // Every index contributes its best offset+limit hits: enough to cut the
  // merged page. No more than the whole index, however large offset is.
  const Xapian::doccount wanted =
      offset >= total ? 0 : AsDoccount(offset + std::min<uint64_t>(limit, total), total);
  uint64_t count = 0;
  std::vector<Candidate> candidates;
  std::map<const Schema*, Xapian::Query> queries;
  for (SearchIn in : kAllSearchIns) {
    const Schema& schema = SchemaFor(in);
    Xapian::Query query = ParseUserQuery(schema, q);
    Matches matches = Match(db, schema, query, 0, wanted);
    count += matches.count;
    candidates.insert(candidates.end(), matches.hits.begin(), matches.hits.end());
    queries.emplace(&schema, std::move(query));
  }
  // Stable: equal scores keep kAllSearchIns order, then each index's order.
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const Candidate& a, const Candidate& b) { return a.weight > b.weight; });
  nlohmann::json hits = nlohmann::json::array();
  std::map<const Schema*, Xapian::MSet> highlighters;
  for (uint64_t i = offset; i < candidates.size() && i - offset < limit; ++i) {
    const Candidate& candidate = candidates[i];
    auto it = highlighters.find(candidate.schema);
    if (it == highlighters.end()) {
      it = highlighters.emplace(candidate.schema, Highlighter(db, queries[candidate.schema])).first;
    }
    nlohmann::json hit = RenderHit(db, candidate, it->second);
    hit["in"] = std::string(SearchInName(candidate.schema->in));
    hits.push_back(std::move(hit));
  }
  return Envelope(q, offset, limit, count, std::move(hits));
}

absl::Status FromXapian(const Xapian::Error& error, absl::string_view what) {
  return absl::InternalError(absl::StrCat(what, ": ", error.get_description()));
}

}  // namespace

absl::string_view SearchInName(SearchIn in) {
  switch (in) {
    case SearchIn::kDocs:
      return "docs";
    case SearchIn::kDists:
      return "dists";
    case SearchIn::kExtensions:
      return "extensions";
    case SearchIn::kUsers:
      return "users";
    case SearchIn::kTags:
      return "tags";
  }
  std::abort();
}

absl::StatusOr<SearchIn> ParseSearchIn(absl::string_view name) {
  for (SearchIn in : kAllSearchIns) {
    if (name == SearchInName(in)) return in;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "Unknown search index \"", name, "\": expected docs, dists, extensions, users or tags"));
}

// --- SearchIndex::Impl -----------------------------------------------------

class SearchIndex::Impl {
 public:
  // `dir` empty: the in-memory backend.
  Impl(std::string dir, Xapian::WritableDatabase writer, uint64_t applied_seq)
      : dir_(std::move(dir)),
        writer_(std::move(writer)),
        handed_seq_(applied_seq),
        applied_seq_(applied_seq) {}

  ~Impl();

  // Everything goes at the next commit, which may record any seq: the index
  // follows a log that started over.
  void BufferDeleteAll() {
    // Appended whole, never split between two batches by a hand-off.
    for (SearchIn in : kAllSearchIns) Append(SchemaFor(in).type_term, std::nullopt);
    restarting_ = true;
    emptied_at_ = pending_.size();
  }

  // `group`: a term the document shares with others, by which they are
  // deleted together (DocsOfDistTerm), or "".
  void Buffer(std::string term, std::optional<Xapian::Document> doc, std::string group = "") {
    Append(std::move(term), std::move(doc), std::move(group));
    if (restarting_ && !in_memory() && pending_.size() - emptied_at_ >= kRestartChunkDocs) {
      HandOff(std::nullopt);
    }
  }

  // `wait`: until the applier has applied it (see the header's Commit and
  // CommitInBackground).
  absl::Status Commit(uint64_t applied_seq, bool wait);
  uint64_t AppliedSeq() const { return applied_seq_.load(); }
  uint64_t CommittedSeq() const { return handed_seq_; }

  // Runs `search` on a database showing the latest commit (see the header for
  // the scheme).
  absl::StatusOr<nlohmann::json> Read(
      const std::function<nlohmann::json(const Xapian::Database&)>& search) const;

 private:
  struct PendingOp {
    std::string term;                     // the key term of the documents to replace
    std::optional<Xapian::Document> doc;  // nullopt: delete them
    std::string group;                    // see Buffer
  };

  // Ops handed to the applier thread.
  struct Batch {
    std::vector<PendingOp> ops;
    size_t emptied_at;  // as emptied_at_ was for them
    bool restart;       // as restarting_ was
    // The seq to record, or none: part of a restart, committed with seq 0.
    std::optional<uint64_t> seq;
  };

  bool in_memory() const { return dir_.empty(); }
  void Append(std::string term, std::optional<Xapian::Document> doc, std::string group = "") {
    // A document must hold its key term for replace_document(term, ...) to
    // find it again.
    if (doc.has_value()) doc->add_boolean_term(term);
    pending_.push_back({std::move(term), std::move(doc), std::move(group)});
  }
  // Forgets the buffered ops.
  void DropPending() {
    pending_.clear();
    emptied_at_ = 0;
  }
  // Applies `ops` in order (`restart`: the index is empty from `emptied_at` on).
  void ApplyOps(const std::vector<PendingOp>& ops, size_t emptied_at, bool restart);
  // Applies the buffered ops and commits them with `applied_seq`, on the
  // caller's thread (in memory).
  absl::Status ApplyNow(uint64_t applied_seq);
  // Hands the buffered ops to the applier thread, starting it if needed;
  // waits while kMaxQueuedBatches are queued.
  void HandOff(std::optional<uint64_t> seq);
  // The applier thread's loop.
  void ApplyBatches();
  absl::Status ApplyBatch(const Batch& batch);
  // Waits until the applier has dealt with every batch handed to it; its
  // first error since the last call, if any (it dropped the batches after
  // that one), after which a restart starts over (BufferDeleteAll).
  absl::Status WaitApplied();
  // The applier's error, if it hit one since the last call (then as
  // WaitApplied); does not wait otherwise.
  absl::Status AppliedSoFar();
  std::unique_ptr<Xapian::Database> AcquireReader() const;
  void ReleaseReader(std::unique_ptr<Xapian::Database> reader) const;

  const std::string dir_;
  // Used by the writer thread, under commit_mu_ when it changes the database;
  // in memory, searches read it under commit_mu_ too.
  Xapian::WritableDatabase writer_;
  std::vector<PendingOp> pending_;  // writer thread only
  bool restarting_ = false;         // writer thread only: see BufferDeleteAll
  size_t emptied_at_ = 0;           // writer thread only: pending_ index after the DeleteAll
  uint64_t handed_seq_;             // writer thread only: of the last Commit
  // Since the DeleteAll: key terms of the documents added, and their group
  // terms. Used by whichever thread applies (the applier, on disk).
  absl::flat_hash_set<std::string> terms_added_, groups_added_;
  std::atomic<uint64_t> applied_seq_;

  // The applier thread (on disk) and its queue.
  static constexpr size_t kMaxQueuedBatches = 2;
  std::thread applier_;  // writer thread only
  absl::Mutex apply_mu_;
  std::deque<Batch> batches_ ABSL_GUARDED_BY(apply_mu_);
  bool applying_ ABSL_GUARDED_BY(apply_mu_) = false;  // a batch is out of the queue
  bool stopping_ ABSL_GUARDED_BY(apply_mu_) = false;
  // The first error since the writer last asked, and whether its batch was
  // part of a restart. Batches handed after it are dropped.
  absl::Status apply_status_ ABSL_GUARDED_BY(apply_mu_);
  bool restart_failed_ ABSL_GUARDED_BY(apply_mu_) = false;

  // Held exclusively by Commit while it changes the database. On disk, a
  // search holds it shared only for its last attempt; in memory, searches hold
  // it exclusively, as they share writer_.
  mutable absl::Mutex commit_mu_;
  mutable absl::Mutex pool_mu_;
  mutable std::vector<std::unique_ptr<Xapian::Database>> idle_readers_ ABSL_GUARDED_BY(pool_mu_);
};

void SearchIndex::Impl::ApplyOps(const std::vector<PendingOp>& ops, size_t emptied_at,
                                 bool restart) {
  // Only the last op on each term matters: a replace or delete by a term
  // affects every document holding it, whatever earlier ops left (key terms
  // are held by one document each; a group term is only ever deleted by).
  // A catch-up batch that touches one document many times applies it once.
  std::vector<bool> kept(ops.size(), false);
  absl::flat_hash_set<absl::string_view> seen;
  for (size_t i = ops.size(); i-- > 0;) kept[i] = seen.insert(ops[i].term).second;
  if (restart && emptied_at > 0) {
    // These ops include the DeleteAll (a restart's later parts start at 0).
    terms_added_.clear();
    groups_added_.clear();
  }

  // After a DeleteAll the index is empty, so a document whose key no op
  // since added can be added without Xapian looking its key up (which costs
  // a postlist read per document, most of a rebuild's time).
  for (size_t i = 0; i < ops.size(); ++i) {
    if (!kept[i]) continue;
    const PendingOp& op = ops[i];
    if (!restart || i < emptied_at) {
      if (op.doc.has_value()) {
        writer_.replace_document(op.term, *op.doc);
      } else {
        writer_.delete_document(op.term);
      }
    } else if (op.doc.has_value()) {
      if (terms_added_.insert(op.term).second) {
        writer_.add_document(*op.doc);
      } else {
        writer_.replace_document(op.term, *op.doc);  // added by an earlier batch
      }
      if (!op.group.empty()) groups_added_.insert(op.group);
    } else if (terms_added_.erase(op.term) + groups_added_.erase(op.term) > 0) {
      writer_.delete_document(op.term);
    }
    // Otherwise a delete of a key no document holds any more: nothing to do.
  }
  writer_.set_metadata(kSchemaKey, kSchemaVersion);
}

SearchIndex::Impl::~Impl() {
  if (!applier_.joinable()) return;
  {
    // What is still queued is dropped: a Commit that returned without
    // waiting promised nothing durable, and the index on disk says which
    // seq it has.
    absl::MutexLock lock(&apply_mu_);
    stopping_ = true;
    batches_.clear();
  }
  applier_.join();
}

void SearchIndex::Impl::HandOff(std::optional<uint64_t> seq) {
  Batch batch{std::move(pending_), emptied_at_, restarting_, seq};
  pending_.clear();
  // A restart's next ops are all after its DeleteAll; a commit ends it.
  emptied_at_ = 0;
  if (seq.has_value()) restarting_ = false;
  absl::MutexLock lock(&apply_mu_);
  // Bounded: the applier paces whoever builds the documents.
  apply_mu_.Await(absl::Condition(
      +[](Impl* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->apply_mu_) {
        return self->batches_.size() < kMaxQueuedBatches;
      },
      this));
  batches_.push_back(std::move(batch));
  if (!applier_.joinable()) applier_ = std::thread([this] { ApplyBatches(); });
}

void SearchIndex::Impl::ApplyBatches() {
  absl::MutexLock lock(&apply_mu_);
  while (true) {
    apply_mu_.Await(absl::Condition(
        +[](Impl* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->apply_mu_) {
          return !self->batches_.empty() || self->stopping_;
        },
        this));
    if (stopping_) return;
    Batch batch = std::move(batches_.front());
    batches_.pop_front();
    if (!apply_status_.ok()) continue;  // after a failure, the rest is dropped
    applying_ = true;
    apply_mu_.Unlock();
    absl::Status status = ApplyBatch(batch);
    batch.ops.clear();  // its documents are freed outside the lock
    apply_mu_.Lock();
    applying_ = false;
    if (!status.ok()) {
      apply_status_ = status;
      restart_failed_ = batch.restart;
    }
  }
}

absl::Status SearchIndex::Impl::ApplyBatch(const Batch& batch) {
  absl::MutexLock lock(&commit_mu_);
  // A part of a rebuild (handed off every kRestartChunkDocs: Xapian's buffer
  // of one transaction grows slow past a few thousand documents, a whole
  // rebuild took twice as long) records seq 0, so a crash before the last
  // part makes the next start rebuild again.
  const uint64_t seq = batch.seq.value_or(0);
  try {
    // Without a transaction Xapian would flush by itself every 10,000
    // changes, exposing a half-applied batch without its seq.
    writer_.begin_transaction(/*flushed=*/true);
    ApplyOps(batch.ops, batch.emptied_at, batch.restart);
    writer_.set_metadata(kAppliedSeqKey, absl::StrCat(seq));
    writer_.commit_transaction();
  } catch (const Xapian::Error& error) {
    try {
      writer_.cancel_transaction();
    } catch (const Xapian::Error&) {
      // No transaction was open: begin_transaction itself failed.
    }
    return FromXapian(error, "Cannot commit the search index");
  }
  applied_seq_.store(seq);
  if (batch.seq.has_value()) {
    // The end of a restart (if this was one): its keys are no longer needed.
    terms_added_.clear();
    groups_added_.clear();
  }
  return absl::OkStatus();
}

absl::Status SearchIndex::Impl::WaitApplied() {
  bool restart_failed = false;
  absl::Status status;
  {
    absl::MutexLock lock(&apply_mu_);
    apply_mu_.Await(absl::Condition(
        +[](Impl* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->apply_mu_) {
          return self->batches_.empty() && !self->applying_;
        },
        this));
    status = std::exchange(apply_status_, absl::OkStatus());
    restart_failed = std::exchange(restart_failed_, false);
  }
  if (!status.ok()) {
    // What was buffered since builds on what failed.
    DropPending();
    handed_seq_ = applied_seq_.load();
    // A restart that failed still has to delete everything.
    if (restart_failed || restarting_) BufferDeleteAll();
  }
  return status;
}

absl::Status SearchIndex::Impl::AppliedSoFar() {
  {
    absl::MutexLock lock(&apply_mu_);
    if (apply_status_.ok()) return absl::OkStatus();
  }
  return WaitApplied();
}

absl::Status SearchIndex::Impl::ApplyNow(uint64_t applied_seq) {
  absl::MutexLock lock(&commit_mu_);
  try {
    // No transactions in memory, but searches wait on the mutex, so they
    // still see all of this commit or none of it.
    ApplyOps(pending_, emptied_at_, restarting_);
    writer_.set_metadata(kAppliedSeqKey, absl::StrCat(applied_seq));
    writer_.commit();
  } catch (const Xapian::Error& error) {
    DropPending();
    // A restart that failed to commit still has to delete everything.
    if (restarting_) BufferDeleteAll();
    return FromXapian(error, "Cannot commit the search index");
  }
  DropPending();
  restarting_ = false;
  handed_seq_ = applied_seq;
  applied_seq_.store(applied_seq);
  return absl::OkStatus();
}

absl::Status SearchIndex::Impl::Commit(uint64_t applied_seq, bool wait) {
  if (applied_seq < handed_seq_ && !restarting_) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "Applied seq %d is below the search index's applied seq %d", applied_seq, handed_seq_));
  }
  if (in_memory()) return ApplyNow(applied_seq);
  // An earlier batch failed: this one, built on it, is dropped too.
  if (absl::Status earlier = AppliedSoFar(); !earlier.ok()) return earlier;
  handed_seq_ = applied_seq;
  HandOff(applied_seq);
  return wait ? WaitApplied() : absl::OkStatus();
}

std::unique_ptr<Xapian::Database> SearchIndex::Impl::AcquireReader() const {
  {
    absl::MutexLock lock(&pool_mu_);
    if (!idle_readers_.empty()) {
      std::unique_ptr<Xapian::Database> reader = std::move(idle_readers_.back());
      idle_readers_.pop_back();
      return reader;
    }
  }
  return std::make_unique<Xapian::Database>(dir_);
}

void SearchIndex::Impl::ReleaseReader(std::unique_ptr<Xapian::Database> reader) const {
  absl::MutexLock lock(&pool_mu_);
  if (idle_readers_.size() < static_cast<size_t>(kMaxIdleReaders)) {
    idle_readers_.push_back(std::move(reader));
  }
}

absl::StatusOr<nlohmann::json> SearchIndex::Impl::Read(
    const std::function<nlohmann::json(const Xapian::Database&)>& search) const {
  if (in_memory()) {
    absl::MutexLock lock(&commit_mu_);
    try {
      return search(writer_);
    } catch (const Xapian::Error& error) {
      return FromXapian(error, "Cannot search the index");
    }
  }
  try {
    std::unique_ptr<Xapian::Database> reader;
    for (int attempt = 1;; ++attempt) {
      // The last attempt holds Commit off, so it cannot lose its revision.
      std::optional<absl::ReaderMutexLock> lock;
      if (attempt == kLockFreeReadAttempts + 1) lock.emplace(&commit_mu_);
      try {
        // Opening reads the newest revision's root blocks: two commits during
        // the open discard them too, so it is retried like the search.
        if (reader == nullptr) reader = AcquireReader();
        // Cheap when nothing changed; moves to the latest commit otherwise, so
        // a search never sees an older state than one that began before it.
        reader->reopen();
        nlohmann::json result = search(*reader);
        ReleaseReader(std::move(reader));
        return result;
      } catch (const Xapian::DatabaseModifiedError&) {
        // The writer committed twice during this search; its revision is gone.
        if (lock.has_value()) throw;
      }
    }
  } catch (const Xapian::Error& error) {
    return FromXapian(error, "Cannot search the index");
  }
}

// --- SearchIndex -----------------------------------------------------------

SearchIndex::SearchIndex(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SearchIndex::~SearchIndex() = default;

absl::StatusOr<std::unique_ptr<SearchIndex>> SearchIndex::Open(const std::string& dir) {
  if (dir.empty()) return absl::InvalidArgumentError("Search index directory is empty");
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return absl::InternalError(
        absl::StrCat("Cannot create search index directory \"", dir, "\": ", ec.message()));
  }
  try {
    Xapian::WritableDatabase db(dir, Xapian::DB_CREATE_OR_OPEN | Xapian::DB_BACKEND_GLASS);
    const std::string schema = db.get_metadata(kSchemaKey);
    if (!schema.empty() && schema != kSchemaVersion) {
      return absl::FailedPreconditionError(absl::StrCat("Search index \"", dir, "\" has layout ",
                                                        schema, ", this build needs ",
                                                        kSchemaVersion, ": rebuild it"));
    }
    uint64_t applied_seq = 0;
    const std::string seq = db.get_metadata(kAppliedSeqKey);
    if (!seq.empty() && !absl::SimpleAtoi(seq, &applied_seq)) {
      return absl::FailedPreconditionError(
          absl::StrCat("Search index \"", dir, "\" has a corrupt applied seq \"", seq, "\""));
    }
    return std::unique_ptr<SearchIndex>(
        new SearchIndex(std::make_unique<Impl>(dir, std::move(db), applied_seq)));
  } catch (const Xapian::DatabaseLockError& error) {
    return absl::FailedPreconditionError(absl::StrCat(
        "Search index \"", dir, "\" is locked by another writer: ", error.get_description()));
  } catch (const Xapian::Error& error) {
    return FromXapian(error, absl::StrCat("Cannot open search index \"", dir, "\""));
  }
}

absl::StatusOr<std::unique_ptr<SearchIndex>> SearchIndex::OpenInMemory() {
  try {
    Xapian::WritableDatabase db(std::string(), Xapian::DB_BACKEND_INMEMORY);
    return std::unique_ptr<SearchIndex>(
        new SearchIndex(std::make_unique<Impl>(std::string(), std::move(db), 0)));
  } catch (const Xapian::Error& error) {
    return FromXapian(error, "Cannot create an in-memory search index");
  }
}

absl::Status SearchIndex::Put(const DistDoc& d) {
  if (d.dist.empty()) return absl::InvalidArgumentError("DistDoc has an empty dist");
  const Schema& schema = SchemaFor(SearchIn::kDists);
  FieldValues values = {
      {"dist", d.dist},     {"abstract", d.abstract}, {"description", d.description},
      {"readme", d.readme}, {"user", d.user},         {"user_name", d.user_name}};
  for (const std::string& tag : d.tags) values.emplace_back("tags", tag);
  const nlohmann::json hit = {{"dist", d.dist}, {"version", d.version}, {"abstract", d.abstract},
                              {"date", d.date}, {"user", d.user},       {"user_name", d.user_name}};
  impl_->Buffer(
      KeyTerm(schema, d.dist),
      BuildDocument(schema, values, hit, FirstNonEmpty({d.readme, d.description, d.abstract})));
  return absl::OkStatus();
}

absl::Status SearchIndex::Put(const ExtensionDoc& e) {
  if (e.extension.empty()) return absl::InvalidArgumentError("ExtensionDoc has an empty extension");
  const Schema& schema = SchemaFor(SearchIn::kExtensions);
  const FieldValues values = {{"extension", e.extension},
                              {"abstract", e.abstract},
                              {"user", e.user},
                              {"user_name", e.user_name}};
  const nlohmann::json hit = {{"extension", e.extension}, {"abstract", e.abstract},
                              {"dist", e.dist},           {"version", e.version},
                              {"docpath", e.docpath},     {"date", e.date},
                              {"user", e.user},           {"user_name", e.user_name}};
  impl_->Buffer(KeyTerm(schema, e.extension), BuildDocument(schema, values, hit, e.abstract));
  return absl::OkStatus();
}

absl::Status SearchIndex::Put(const UserDoc& u) {
  if (u.user.empty()) return absl::InvalidArgumentError("UserDoc has an empty user");
  const Schema& schema = SchemaFor(SearchIn::kUsers);
  const FieldValues values = {{"user", u.user},
                              {"name", u.name},
                              {"details", u.details},
                              {"email", u.email},
                              {"uri", u.uri}};
  const nlohmann::json hit = {{"user", u.user}, {"name", u.name}, {"uri", u.uri}};
  impl_->Buffer(KeyTerm(schema, u.user), BuildDocument(schema, values, hit, u.details));
  return absl::OkStatus();
}

absl::Status SearchIndex::Put(const TagDoc& t) {
  if (t.tag.empty()) return absl::InvalidArgumentError("TagDoc has an empty tag");
  const Schema& schema = SchemaFor(SearchIn::kTags);
  const nlohmann::json hit = {{"tag", t.tag}};
  impl_->Buffer(KeyTerm(schema, t.tag), BuildDocument(schema, {{"tag", t.tag}}, hit, {}));
  return absl::OkStatus();
}

absl::Status SearchIndex::Put(const DocDoc& d) {
  if (d.dist.empty()) return absl::InvalidArgumentError("DocDoc has an empty dist");
  if (d.docpath.empty()) return absl::InvalidArgumentError("DocDoc has an empty docpath");
  const Schema& schema = SchemaFor(SearchIn::kDocs);
  const FieldValues values = {{"title", d.title}, {"abstract", d.abstract},
                              {"body", d.body},   {"dist", d.dist},
                              {"user", d.user},   {"user_name", d.user_name}};
  const nlohmann::json hit = {{"title", d.title},     {"abstract", d.abstract},  {"dist", d.dist},
                              {"version", d.version}, {"docpath", d.docpath},    {"date", d.date},
                              {"user", d.user},       {"user_name", d.user_name}};
  Xapian::Document doc = BuildDocument(schema, values, hit, d.body);
  std::string group = DocsOfDistTerm(d.dist);
  doc.add_boolean_term(group);
  impl_->Buffer(KeyTerm(schema, DocKey(d.dist, d.docpath)), std::move(doc), std::move(group));
  return absl::OkStatus();
}

void SearchIndex::DeleteDist(absl::string_view dist) {
  impl_->Buffer(KeyTerm(SchemaFor(SearchIn::kDists), dist), std::nullopt);
  DeleteDocs(dist);
}

void SearchIndex::DeleteExtension(absl::string_view extension) {
  impl_->Buffer(KeyTerm(SchemaFor(SearchIn::kExtensions), extension), std::nullopt);
}

void SearchIndex::DeleteUser(absl::string_view user) {
  impl_->Buffer(KeyTerm(SchemaFor(SearchIn::kUsers), user), std::nullopt);
}

void SearchIndex::DeleteTag(absl::string_view tag) {
  impl_->Buffer(KeyTerm(SchemaFor(SearchIn::kTags), tag), std::nullopt);
}

void SearchIndex::DeleteAll() { impl_->BufferDeleteAll(); }

void SearchIndex::DeleteDocs(absl::string_view dist) {
  impl_->Buffer(DocsOfDistTerm(dist), std::nullopt);
}

absl::Status SearchIndex::Commit(uint64_t applied_seq) {
  return impl_->Commit(applied_seq, /*wait=*/true);
}

absl::Status SearchIndex::CommitInBackground(uint64_t applied_seq) {
  return impl_->Commit(applied_seq, /*wait=*/false);
}

uint64_t SearchIndex::AppliedSeq() const { return impl_->AppliedSeq(); }

uint64_t SearchIndex::CommittedSeq() const { return impl_->CommittedSeq(); }

absl::StatusOr<nlohmann::json> SearchIndex::Search(SearchIn in, absl::string_view q,
                                                   uint64_t offset, uint64_t limit) const {
  if (absl::Status status = CheckQuery(q); !status.ok()) return status;
  const Schema& schema = SchemaFor(in);
  const std::string query(q);
  limit = NormalizeLimit(limit);
  return impl_->Read(
      [&](const Xapian::Database& db) { return SearchOne(db, schema, query, offset, limit); });
}

absl::StatusOr<nlohmann::json> SearchIndex::SearchAll(absl::string_view q, uint64_t offset,
                                                      uint64_t limit) const {
  if (absl::Status status = CheckQuery(q); !status.ok()) return status;
  const std::string query(q);
  limit = NormalizeLimit(limit);
  return impl_->Read(
      [&](const Xapian::Database& db) { return SearchEvery(db, query, offset, limit); });
}

}  // namespace pgxn::indexer
