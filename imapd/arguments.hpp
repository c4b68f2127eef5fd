// SPDX-License-Identifier: AGPL-3.0-or-later
// Typed arguments of IMAP commands, parsed from the argument tree of parser.hpp: sequence
// sets, search programs, fetch attributes, STORE, SELECT/EXAMINE parameters, LIST, STATUS
// and APPEND. Pure functions; each returns the value or a message for a tagged BAD.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/result.hpp"
#include "imapd/parser.hpp"

namespace chapar::imap {

// An argument list failed to parse: the text for "tag BAD <message>".
struct Invalid {
  std::string message;
};

template <typename T>
using Parsed = std::variant<T, Invalid>;

// ---- Sequence sets (RFC 9051 §9 sequence-set) ----

// "*" in a sequence set: the largest number in use.
inline constexpr uint32_t kStar = 0;

struct SeqRange {
  uint32_t first = 0;  // kStar for "*"
  uint32_t last = 0;
};

struct SequenceSet {
  std::vector<SeqRange> ranges;
  // "$": the result saved by the last SEARCH RETURN (SAVE) (RFC 5182 §2.1).
  bool saved_result = false;
};

std::optional<SequenceSet> parse_sequence_set(std::string_view text);

// Inclusive ranges, ascending, merged.
using Intervals = std::vector<std::pair<uint32_t, uint32_t>>;

// Resolves "*" to `star` (the largest sequence number or UID; with an empty mailbox it is
// 0 and "*" matches nothing) and merges overlaps. "4:2" is "2:4".
Intervals resolve(const SequenceSet& set, uint32_t star);
bool contains(const Intervals& intervals, uint32_t value);
// The shortest sequence-set text for `values` (ascending): "1:3,7,9:10".
std::string format_sequence_set(std::span<const uint32_t> values);

// ---- Dates ----

// Days since 1970-01-01 for a search date "1-Feb-1994" (RFC 9051 §9 date-text).
std::optional<int64_t> parse_search_date(std::string_view text);
// An APPEND date-time "01-Feb-1994 21:30:00 +0100" (RFC 9051 §9 date-time) as UTC seconds.
std::optional<int64_t> parse_date_time(std::string_view text);
// INTERNALDATE as sent: "01-Feb-1994 20:30:00 +0000".
std::string format_date_time(int64_t unix_seconds);

// ---- SEARCH (RFC 9051 §6.4.4, RFC 4731, RFC 7162 §3.1.5) ----

struct SearchKey {
  enum class Type {
    kAll,
    kAnd,  // every child
    kOr,   // one of two children
    kNot,  // the one child is false
    kSequence,
    kUid,
    kFlags,     // every flag in `flags` set
    kNotFlags,  // every flag in `flags` clear
    kKeyword,   // `text` set
    kNotKeyword,
    kNew,     // IMAP4rev1: RECENT and UNSEEN
    kRecent,  // IMAP4rev1: \Recent is never set in this server
    kOld,
    kHeader,  // header `field` contains `text` ("" matches the field's presence)
    kBody,
    kText,
    kBefore,  // internal date, `number` in days since the epoch
    kOn,
    kSince,
    kSentBefore,  // Date: header
    kSentOn,
    kSentSince,
    kLarger,  // RFC822.SIZE > number
    kSmaller,
    kModSeq,  // MODSEQ >= number
  };
  Type type = Type::kAll;
  std::vector<SearchKey> children;
  SequenceSet set;
  uint32_t flags = 0;
  std::string field;  // header field name, as given
  std::string text;   // search string in UTF-8, or keyword
  int64_t number = 0;
};

enum SearchReturn : uint32_t {
  kReturnMin = 1u << 0,
  kReturnMax = 1u << 1,
  kReturnAll = 1u << 2,
  kReturnCount = 1u << 3,
  kReturnSave = 1u << 4,  // RFC 5182 SEARCHRES
};

struct SearchRequest {
  std::string charset;       // upper case; empty when not given
  SearchKey key;             // kAnd of the top-level keys
  bool extended = false;     // RETURN (...) given: answer with ESEARCH (RFC 4731)
  uint32_t returns = 0;      // SearchReturn bits; RETURN () means ALL
  bool uses_modseq = false;  // MODSEQ key: answer with (MODSEQ n) (RFC 7162 §3.1.5)
};

// The outcome for an unknown charset: NO [BADCHARSET ...] (RFC 9051 §6.4.4).
struct BadCharset {};

// Parses SEARCH arguments. Search strings are converted to UTF-8 from the given charset
// (any that iconv knows).
std::variant<SearchRequest, Invalid, BadCharset> parse_search(std::span<const Arg> args);
// Charsets named in the BADCHARSET response code.
inline constexpr std::string_view kSearchCharsets = "UTF-8 US-ASCII ISO-8859-1";

// ---- FETCH (RFC 9051 §6.4.5, RFC 3516, RFC 7162 §3.1.4, §3.2.6) ----

struct Section {
  enum class Text { kNone, kHeader, kHeaderFields, kHeaderFieldsNot, kText, kMime };
  std::vector<uint32_t> part;  // "1.2" -> {1, 2}; empty: the whole message
  Text text = Text::kNone;
  std::vector<std::string> fields;  // for HEADER.FIELDS[.NOT], upper case
};

struct FetchItem {
  enum class Type {
    kFlags,
    kInternalDate,
    kRfc822Size,
    kEnvelope,
    kBodyStructure,
    kBody,  // BODY without section: the non-extensible structure
    kUid,
    kModSeq,
    kSection,     // BODY[...], BODY.PEEK[...], RFC822, RFC822.HEADER, RFC822.TEXT
    kBinary,      // BINARY[...], BINARY.PEEK[...]
    kBinarySize,  // BINARY.SIZE[...]
  };
  Type type = Type::kFlags;
  Section section;
  bool peek = false;                                     // does not set \Seen
  std::optional<std::pair<uint64_t, uint64_t>> partial;  // offset, length
  // For RFC822, RFC822.HEADER and RFC822.TEXT: the name the answer uses.
  std::string legacy_name;
};

struct FetchRequest {
  std::vector<FetchItem> items;
  std::optional<uint64_t> changed_since;  // CHANGEDSINCE (RFC 7162 §3.1.4.1)
  bool vanished = false;                  // VANISHED (RFC 7162 §3.2.6)
};

// `args` are the arguments after the sequence set.
Parsed<FetchRequest> parse_fetch(std::span<const Arg> args);
// The name of an item in the answer: "BODY[HEADER.FIELDS (FROM TO)]<0>", "BINARY[1]".
std::string fetch_item_name(const FetchItem& item);

// ---- STORE (RFC 9051 §6.4.6, RFC 7162 §3.1.3) ----

struct FlagSet {
  uint32_t flags = 0;  // store::Flag bits
  std::vector<std::string> keywords;
};

// A flag list "(\Seen $Label)" or flags one by one. \Recent (IMAP4rev1) is accepted and
// ignored; other unknown system flags ("\Foo") are invalid.
Parsed<FlagSet> parse_flags(std::span<const Arg> args);

struct StoreRequest {
  enum class Op { kReplace, kAdd, kRemove };
  Op op = Op::kReplace;
  bool silent = false;
  std::optional<uint64_t> unchanged_since;
  FlagSet flags;
};

// `args` are the arguments after the sequence set.
Parsed<StoreRequest> parse_store(std::span<const Arg> args);

// ---- SELECT / EXAMINE (RFC 7162 §3.1.8, §3.2.5) ----

struct QresyncParams {
  uint32_t uidvalidity = 0;
  uint64_t modseq = 0;
  std::optional<SequenceSet> known_uids;
  std::optional<SequenceSet> seq_match;  // known sequence numbers
  std::optional<SequenceSet> uid_match;  // their UIDs
};

struct SelectParams {
  bool condstore = false;
  std::optional<QresyncParams> qresync;
};

// `args` are the arguments after the mailbox name.
Parsed<SelectParams> parse_select_params(std::span<const Arg> args);

// ---- LIST (RFC 9051 §6.3.9, RFC 5258, RFC 6154, RFC 5819) ----

enum StatusItem : uint32_t {
  kStatusMessages = 1u << 0,
  kStatusUidNext = 1u << 1,
  kStatusUidValidity = 1u << 2,
  kStatusUnseen = 1u << 3,
  kStatusDeleted = 1u << 4,
  kStatusSize = 1u << 5,
  kStatusHighestModSeq = 1u << 6,
  kStatusRecent = 1u << 7,  // IMAP4rev1, always 0
};

// A status attribute list "(MESSAGES UNSEEN)".
Parsed<uint32_t> parse_status_items(const Arg& list);

struct ListRequest {
  bool extended = false;  // selection or return options, or several patterns
  bool select_subscribed = false;
  bool select_special_use = false;
  bool recursive_match = false;
  bool return_subscribed = false;
  bool return_children = false;
  bool return_special_use = false;
  uint32_t return_status = 0;  // StatusItem bits
  std::string reference;
  std::vector<std::string> patterns;  // as sent (modified UTF-7 or UTF-8)
};

Parsed<ListRequest> parse_list(std::span<const Arg> args);

// ---- APPEND (RFC 9051 §6.3.12, RFC 3502 MULTIAPPEND) ----

struct AppendMessage {
  FlagSet flags;
  std::optional<int64_t> internal_date;
  int literal = -1;  // index into Command::literals
};

// `args` are the arguments after the mailbox name.
Parsed<std::vector<AppendMessage>> parse_append(std::span<const Arg> args);

// A number argument (RFC 9051 number / number64).
std::optional<uint64_t> parse_number(std::string_view text, uint64_t max = UINT64_MAX >> 1);

}  // namespace chapar::imap
