// SPDX-License-Identifier: AGPL-3.0-or-later
// SEARCH programs (RFC 9051 §6.4.4) with ESEARCH return options (RFC 4731) and the MODSEQ
// key (RFC 7162 §3.1.5).
#include <array>
#include <utility>

#include "imapd/arguments.hpp"
#include "libmailstore/mime/charset.hpp"
#include "libmailstore/types.hpp"

namespace chapar::imap {
namespace {

constexpr int kMaxDepth = 64;

struct FlagKey {
  std::string_view name;
  SearchKey::Type type;
  uint32_t flags;
};

constexpr std::array<FlagKey, 10> kFlagKeys = {{
    {"ANSWERED", SearchKey::Type::kFlags, store::kAnswered},
    {"DELETED", SearchKey::Type::kFlags, store::kDeleted},
    {"DRAFT", SearchKey::Type::kFlags, store::kDraft},
    {"FLAGGED", SearchKey::Type::kFlags, store::kFlagged},
    {"SEEN", SearchKey::Type::kFlags, store::kSeen},
    {"UNANSWERED", SearchKey::Type::kNotFlags, store::kAnswered},
    {"UNDELETED", SearchKey::Type::kNotFlags, store::kDeleted},
    {"UNDRAFT", SearchKey::Type::kNotFlags, store::kDraft},
    {"UNFLAGGED", SearchKey::Type::kNotFlags, store::kFlagged},
    {"UNSEEN", SearchKey::Type::kNotFlags, store::kSeen},
}};

struct DateKey {
  std::string_view name;
  SearchKey::Type type;
};

constexpr std::array<DateKey, 6> kDateKeys = {{
    {"BEFORE", SearchKey::Type::kBefore},
    {"ON", SearchKey::Type::kOn},
    {"SINCE", SearchKey::Type::kSince},
    {"SENTBEFORE", SearchKey::Type::kSentBefore},
    {"SENTON", SearchKey::Type::kSentOn},
    {"SENTSINCE", SearchKey::Type::kSentSince},
}};

constexpr std::array<std::string_view, 5> kAddressKeys = {"BCC", "CC", "FROM", "SUBJECT", "TO"};

class SearchParser {
 public:
  // `charset` is the CHARSET argument when it is not UTF-8 or US-ASCII: search strings are
  // converted from it.
  SearchParser(std::span<const Arg> args, std::string charset)
      : args_(args), charset_(std::move(charset)) {}

  bool at_end() const { return pos_ >= args_.size(); }
  const std::string& error() const { return error_; }
  bool bad_charset() const { return bad_charset_; }

  bool key(SearchKey& out, int depth) {
    if (depth > kMaxDepth) return fail("Search program nested too deeply");
    if (at_end()) return fail("Missing search key");
    const Arg& arg = args_[pos_++];
    if (arg.is_list()) {
      if (arg.children.empty()) return fail("Empty search key list");
      SearchParser inner(arg.children, charset_);
      out.type = SearchKey::Type::kAnd;
      while (!inner.at_end()) {
        SearchKey child;
        if (!inner.key(child, depth + 1)) {
          bad_charset_ |= inner.bad_charset();
          return fail(inner.error());
        }
        out.children.push_back(std::move(child));
      }
      return true;
    }
    if (!arg.is_atom()) return fail("Invalid search key");
    const std::string name = to_upper(arg.value);

    for (const FlagKey& f : kFlagKeys) {
      if (name == f.name) {
        out.type = f.type;
        out.flags = f.flags;
        return true;
      }
    }
    for (const DateKey& d : kDateKeys) {
      if (name == d.name) {
        std::string text;
        if (!astring(text)) return false;
        auto days = parse_search_date(text);
        if (!days) return fail("Invalid search date");
        out.type = d.type;
        out.number = *days;
        return true;
      }
    }
    for (std::string_view a : kAddressKeys) {
      if (name == a) {
        out.type = SearchKey::Type::kHeader;
        out.field = std::string(a);
        return search_string(out.text);
      }
    }
    if (name == "ALL") {
      out.type = SearchKey::Type::kAll;
    } else if (name == "NEW") {
      out.type = SearchKey::Type::kNew;
    } else if (name == "OLD") {
      out.type = SearchKey::Type::kOld;
    } else if (name == "RECENT") {
      out.type = SearchKey::Type::kRecent;
    } else if (name == "KEYWORD" || name == "UNKEYWORD") {
      std::string flag;
      if (!astring(flag)) return false;
      keyword(out, flag, name == "KEYWORD");
    } else if (name == "HEADER") {
      out.type = SearchKey::Type::kHeader;
      if (!astring(out.field)) return false;
      return search_string(out.text);
    } else if (name == "BODY" || name == "TEXT") {
      out.type = name == "BODY" ? SearchKey::Type::kBody : SearchKey::Type::kText;
      return search_string(out.text);
    } else if (name == "LARGER" || name == "SMALLER") {
      std::string text;
      if (!astring(text)) return false;
      auto n = parse_number(text);
      if (!n) return fail("Invalid size");
      out.type = name == "LARGER" ? SearchKey::Type::kLarger : SearchKey::Type::kSmaller;
      out.number = static_cast<int64_t>(*n);
    } else if (name == "NOT") {
      out.type = SearchKey::Type::kNot;
      out.children.emplace_back();
      return key(out.children.back(), depth + 1);
    } else if (name == "OR") {
      out.type = SearchKey::Type::kOr;
      out.children.resize(2);
      return key(out.children[0], depth + 1) && key(out.children[1], depth + 1);
    } else if (name == "UID") {
      if (at_end() || !args_[pos_].is_atom()) return fail("Missing UID set");
      auto set = parse_sequence_set(args_[pos_++].value);
      if (!set) return fail("Invalid UID set");
      out.type = SearchKey::Type::kUid;
      out.set = std::move(*set);
    } else if (name == "MODSEQ") {
      // RFC 7162 §3.1.5: MODSEQ [entry-name entry-type-req] mod-sequence-valzer.
      if (!at_end() && args_[pos_].is_string()) {
        if (pos_ + 1 >= args_.size() || !args_[pos_ + 1].is_atom()) {
          return fail("Invalid MODSEQ entry");
        }
        pos_ += 2;
      }
      std::string text;
      if (!astring(text)) return false;
      auto n = parse_number(text);
      if (!n) return fail("Invalid MODSEQ");
      out.type = SearchKey::Type::kModSeq;
      out.number = static_cast<int64_t>(*n);
    } else if (auto set = parse_sequence_set(arg.value)) {
      out.type = SearchKey::Type::kSequence;
      out.set = std::move(*set);
    } else {
      return fail("Unknown search key " + name);
    }
    return true;
  }

 private:
  bool fail(std::string message) {
    if (error_.empty()) error_ = std::move(message);
    return false;
  }

  bool astring(std::string& out) {
    if (at_end() || !args_[pos_].is_astring()) return fail("Missing search argument");
    out = args_[pos_++].value;
    return true;
  }

  bool search_string(std::string& out) {
    if (!astring(out)) return false;
    if (charset_.empty()) return true;
    auto converted = mime::to_utf8(out, charset_);
    if (!converted) {
      bad_charset_ = true;
      return fail("Unknown charset");
    }
    out = std::move(*converted);
    return true;
  }

  static void keyword(SearchKey& out, const std::string& flag, bool set) {
    static constexpr std::array<std::pair<std::string_view, uint32_t>, 5> kSystem = {{
        {"\\SEEN", store::kSeen},
        {"\\ANSWERED", store::kAnswered},
        {"\\FLAGGED", store::kFlagged},
        {"\\DELETED", store::kDeleted},
        {"\\DRAFT", store::kDraft},
    }};
    for (const auto& [system, bit] : kSystem) {
      if (iequals(flag, system)) {
        out.type = set ? SearchKey::Type::kFlags : SearchKey::Type::kNotFlags;
        out.flags = bit;
        return;
      }
    }
    out.type = set ? SearchKey::Type::kKeyword : SearchKey::Type::kNotKeyword;
    out.text = flag;
  }

  std::span<const Arg> args_;
  size_t pos_ = 0;
  std::string charset_;
  bool bad_charset_ = false;
  std::string error_;
};

bool uses_modseq(const SearchKey& key) {
  if (key.type == SearchKey::Type::kModSeq) return true;
  for (const SearchKey& child : key.children) {
    if (uses_modseq(child)) return true;
  }
  return false;
}

}  // namespace

std::variant<SearchRequest, Invalid, BadCharset> parse_search(std::span<const Arg> args) {
  SearchRequest request;
  size_t pos = 0;
  // RFC 4731 §3.1: SEARCH [RETURN (...)] [CHARSET x] keys.
  if (pos < args.size() && args[pos].is("RETURN")) {
    if (pos + 1 >= args.size() || !args[pos + 1].is_list()) {
      return Invalid{"Invalid RETURN options"};
    }
    request.extended = true;
    for (const Arg& opt : args[pos + 1].children) {
      if (opt.is("MIN")) {
        request.returns |= kReturnMin;
      } else if (opt.is("MAX")) {
        request.returns |= kReturnMax;
      } else if (opt.is("ALL")) {
        request.returns |= kReturnAll;
      } else if (opt.is("COUNT")) {
        request.returns |= kReturnCount;
      } else if (opt.is("SAVE")) {
        request.returns |= kReturnSave;
      } else {
        return Invalid{"Unknown RETURN option"};
      }
    }
    // RFC 4731 §3.1: RETURN () is RETURN (ALL).
    if (request.returns == 0) request.returns = kReturnAll;
    // RFC 5182 §2.4: RETURN (SAVE) alone answers nothing but the tagged OK; with other
    // options, they answer as usual.
    pos += 2;
  }
  std::string convert_from;
  if (pos < args.size() && args[pos].is("CHARSET")) {
    if (pos + 1 >= args.size() || !args[pos + 1].is_astring()) {
      return Invalid{"Missing charset"};
    }
    request.charset = to_upper(args[pos + 1].value);
    if (request.charset != "UTF-8" && request.charset != "US-ASCII") {
      // Any charset iconv knows (RFC 9051 §6.4.4 requires UTF-8 and US-ASCII only).
      if (!mime::to_utf8("", request.charset)) return BadCharset{};
      convert_from = request.charset;
    }
    pos += 2;
  }
  SearchParser parser(args.subspan(pos), convert_from);
  request.key.type = SearchKey::Type::kAnd;
  if (parser.at_end()) return Invalid{"Missing search key"};
  while (!parser.at_end()) {
    SearchKey key;
    if (!parser.key(key, 0)) {
      if (parser.bad_charset()) return BadCharset{};
      return Invalid{parser.error()};
    }
    request.key.children.push_back(std::move(key));
  }
  request.uses_modseq = uses_modseq(request.key);
  return request;
}

}  // namespace chapar::imap
