// SPDX-License-Identifier: AGPL-3.0-or-later
// Arguments of STORE, SELECT/EXAMINE, STATUS, LIST and APPEND.
#include <algorithm>
#include <array>

#include "imapd/arguments.hpp"
#include "libmailstore/types.hpp"

namespace chapar::imap {
namespace {

constexpr std::array<std::pair<std::string_view, uint32_t>, 5> kSystemFlags = {{
    {"\\SEEN", store::kSeen},
    {"\\ANSWERED", store::kAnswered},
    {"\\FLAGGED", store::kFlagged},
    {"\\DELETED", store::kDeleted},
    {"\\DRAFT", store::kDraft},
}};

constexpr std::array<std::pair<std::string_view, uint32_t>, 8> kStatusItems = {{
    {"MESSAGES", kStatusMessages},
    {"UIDNEXT", kStatusUidNext},
    {"UIDVALIDITY", kStatusUidValidity},
    {"UNSEEN", kStatusUnseen},
    {"DELETED", kStatusDeleted},
    {"SIZE", kStatusSize},
    {"HIGHESTMODSEQ", kStatusHighestModSeq},
    {"RECENT", kStatusRecent},
}};

bool add_flag(FlagSet& out, const Arg& arg) {
  if (!arg.is_atom() || arg.value.empty()) return false;
  const std::string& flag = arg.value;
  if (flag.front() == '\\') {
    for (const auto& [name, bit] : kSystemFlags) {
      if (iequals(flag, name)) {
        out.flags |= bit;
        return true;
      }
    }
    return iequals(flag, "\\RECENT");
  }
  for (unsigned char c : flag) {
    // A keyword is an atom (RFC 9051 §9 flag-keyword): no list wildcards or "]".
    if (c == '%' || c == '*' || c == ']' || c == '[' || c >= 0x80) return false;
  }
  bool known = std::any_of(out.keywords.begin(), out.keywords.end(),
                           [&](const std::string& k) { return iequals(k, flag); });
  if (!known) out.keywords.push_back(flag);
  return true;
}

std::optional<SequenceSet> sequence_arg(const Arg& arg) {
  if (!arg.is_atom()) return std::nullopt;
  return parse_sequence_set(arg.value);
}

Parsed<QresyncParams> parse_qresync(const Arg& arg) {
  if (!arg.is_list() || arg.children.size() < 2 || arg.children.size() > 4) {
    return Invalid{"Invalid QRESYNC parameters"};
  }
  const std::vector<Arg>& p = arg.children;
  QresyncParams params;
  auto validity = p[0].is_atom() ? parse_number(p[0].value, UINT32_MAX) : std::nullopt;
  auto modseq = p[1].is_atom() ? parse_number(p[1].value) : std::nullopt;
  if (!validity || *validity == 0 || !modseq || *modseq == 0) {
    return Invalid{"Invalid QRESYNC parameters"};
  }
  params.uidvalidity = static_cast<uint32_t>(*validity);
  params.modseq = *modseq;
  size_t i = 2;
  if (i < p.size() && p[i].is_atom()) {
    params.known_uids = sequence_arg(p[i]);
    if (!params.known_uids) return Invalid{"Invalid known UIDs"};
    ++i;
  }
  if (i < p.size()) {
    if (!p[i].is_list() || p[i].children.size() != 2) return Invalid{"Invalid sequence match"};
    params.seq_match = sequence_arg(p[i].children[0]);
    params.uid_match = sequence_arg(p[i].children[1]);
    if (!params.seq_match || !params.uid_match) return Invalid{"Invalid sequence match"};
    ++i;
  }
  if (i != p.size()) return Invalid{"Invalid QRESYNC parameters"};
  return params;
}

}  // namespace

Parsed<FlagSet> parse_flags(std::span<const Arg> args) {
  FlagSet out;
  std::span<const Arg> flags = args;
  if (args.size() == 1 && args[0].is_list()) flags = args[0].children;
  for (const Arg& arg : flags) {
    if (!add_flag(out, arg)) return Invalid{"Invalid flag " + arg.value};
  }
  return out;
}

Parsed<StoreRequest> parse_store(std::span<const Arg> args) {
  StoreRequest request;
  size_t pos = 0;
  if (pos < args.size() && args[pos].is_list()) {
    // RFC 7162 §3.1.3: STORE set (UNCHANGEDSINCE n) item value.
    const std::vector<Arg>& mods = args[pos].children;
    if (mods.size() != 2 || !mods[0].is("UNCHANGEDSINCE") || !mods[1].is_atom()) {
      return Invalid{"Invalid STORE modifiers"};
    }
    auto n = parse_number(mods[1].value);
    if (!n) return Invalid{"Invalid UNCHANGEDSINCE"};
    request.unchanged_since = *n;
    ++pos;
  }
  if (pos >= args.size() || !args[pos].is_atom()) return Invalid{"Missing STORE item"};
  std::string item = to_upper(args[pos].value);
  ++pos;
  if (item.ends_with(".SILENT")) {
    request.silent = true;
    item.resize(item.size() - 7);
  }
  if (item == "FLAGS") {
    request.op = StoreRequest::Op::kReplace;
  } else if (item == "+FLAGS") {
    request.op = StoreRequest::Op::kAdd;
  } else if (item == "-FLAGS") {
    request.op = StoreRequest::Op::kRemove;
  } else {
    return Invalid{"Invalid STORE item"};
  }
  if (pos >= args.size()) return Invalid{"Missing flags"};
  auto flags = parse_flags(args.subspan(pos));
  if (auto* bad = std::get_if<Invalid>(&flags)) return *bad;
  request.flags = std::move(std::get<FlagSet>(flags));
  return request;
}

Parsed<SelectParams> parse_select_params(std::span<const Arg> args) {
  SelectParams params;
  if (args.empty()) return params;
  if (args.size() != 1 || !args[0].is_list()) return Invalid{"Invalid SELECT parameters"};
  const std::vector<Arg>& p = args[0].children;
  for (size_t i = 0; i < p.size(); ++i) {
    if (p[i].is("CONDSTORE")) {
      params.condstore = true;
    } else if (p[i].is("QRESYNC")) {
      if (i + 1 >= p.size()) return Invalid{"Missing QRESYNC parameters"};
      auto q = parse_qresync(p[++i]);
      if (auto* bad = std::get_if<Invalid>(&q)) return *bad;
      params.qresync = std::move(std::get<QresyncParams>(q));
    } else {
      return Invalid{"Unknown SELECT parameter"};
    }
  }
  return params;
}

Parsed<uint32_t> parse_status_items(const Arg& list) {
  if (!list.is_list() || list.children.empty()) return Invalid{"Invalid status items"};
  uint32_t items = 0;
  for (const Arg& a : list.children) {
    auto it = std::find_if(kStatusItems.begin(), kStatusItems.end(),
                           [&](const auto& s) { return a.is(s.first); });
    if (it == kStatusItems.end()) return Invalid{"Unknown status item " + a.value};
    items |= it->second;
  }
  return items;
}

Parsed<ListRequest> parse_list(std::span<const Arg> args) {
  ListRequest request;
  size_t pos = 0;
  if (!args.empty() && args[0].is_list()) {
    // RFC 5258 §3: selection options.
    request.extended = true;
    bool base = false;
    for (const Arg& opt : args[0].children) {
      if (opt.is("SUBSCRIBED")) {
        request.select_subscribed = true;
        base = true;
      } else if (opt.is("SPECIAL-USE")) {  // RFC 6154 §3
        request.select_special_use = true;
        base = true;
      } else if (opt.is("RECURSIVEMATCH")) {
        request.recursive_match = true;
      } else if (!opt.is("REMOTE")) {
        return Invalid{"Unknown LIST selection option"};
      }
    }
    if (request.recursive_match && !base) return Invalid{"RECURSIVEMATCH alone"};
    ++pos;
  }
  if (pos + 2 > args.size() || !args[pos].is_astring()) return Invalid{"Missing LIST arguments"};
  request.reference = args[pos].value;
  const Arg& pattern = args[pos + 1];
  if (pattern.is_list()) {
    request.extended = true;
    for (const Arg& p : pattern.children) {
      if (!p.is_astring()) return Invalid{"Invalid LIST pattern"};
      request.patterns.push_back(p.value);
    }
    if (request.patterns.empty()) return Invalid{"Missing LIST pattern"};
  } else {
    request.patterns.push_back(pattern.value);
  }
  pos += 2;
  if (pos < args.size()) {
    // RFC 5258 §3: RETURN (options).
    if (!args[pos].is("RETURN") || pos + 2 != args.size() || !args[pos + 1].is_list()) {
      return Invalid{"Invalid LIST return options"};
    }
    request.extended = true;
    const std::vector<Arg>& opts = args[pos + 1].children;
    for (size_t i = 0; i < opts.size(); ++i) {
      if (opts[i].is("SUBSCRIBED")) {
        request.return_subscribed = true;
      } else if (opts[i].is("CHILDREN")) {
        request.return_children = true;
      } else if (opts[i].is("SPECIAL-USE")) {
        request.return_special_use = true;
      } else if (opts[i].is("STATUS") && i + 1 < opts.size()) {
        // RFC 5819 §2.
        auto items = parse_status_items(opts[++i]);
        if (auto* bad = std::get_if<Invalid>(&items)) return *bad;
        request.return_status = std::get<uint32_t>(items);
      } else {
        return Invalid{"Unknown LIST return option"};
      }
    }
  }
  return request;
}

Parsed<std::vector<AppendMessage>> parse_append(std::span<const Arg> args) {
  std::vector<AppendMessage> messages;
  size_t pos = 0;
  while (pos < args.size()) {
    AppendMessage message;
    if (args[pos].is_list()) {
      auto flags = parse_flags(args.subspan(pos, 1));
      if (auto* bad = std::get_if<Invalid>(&flags)) return *bad;
      message.flags = std::move(std::get<FlagSet>(flags));
      ++pos;
    }
    if (pos < args.size() && args[pos].kind == Arg::Kind::kQuoted) {
      message.internal_date = parse_date_time(args[pos].value);
      if (!message.internal_date) return Invalid{"Invalid internal date"};
      ++pos;
    }
    if (pos < args.size() && args[pos].is("UTF8") && pos + 1 < args.size() &&
        args[pos + 1].is_list() && args[pos + 1].children.size() == 1 &&
        args[pos + 1].children[0].kind == Arg::Kind::kLiteral) {
      // RFC 6855 §4: APPEND ... UTF8 (literal8).
      message.literal = args[pos + 1].children[0].literal;
      pos += 2;
    } else if (pos < args.size() && args[pos].kind == Arg::Kind::kLiteral) {
      message.literal = args[pos].literal;
      ++pos;
    } else {
      return Invalid{"Missing message literal"};
    }
    messages.push_back(std::move(message));
  }
  if (messages.empty()) return Invalid{"Missing message literal"};
  return messages;
}

}  // namespace chapar::imap
