// SPDX-License-Identifier: AGPL-3.0-or-later
// FETCH attributes (RFC 9051 §6.4.5), BINARY (RFC 3516 §4.2) and the CONDSTORE/QRESYNC
// modifiers (RFC 7162 §3.1.4, §3.2.6).
#include <array>

#include <fmt/format.h>

#include "imapd/arguments.hpp"

namespace chapar::imap {
namespace {

using Type = FetchItem::Type;

struct Simple {
  std::string_view name;
  Type type;
};

constexpr std::array<Simple, 8> kSimpleItems = {{
    {"FLAGS", Type::kFlags},
    {"INTERNALDATE", Type::kInternalDate},
    {"RFC822.SIZE", Type::kRfc822Size},
    {"ENVELOPE", Type::kEnvelope},
    {"BODYSTRUCTURE", Type::kBodyStructure},
    {"BODY", Type::kBody},
    {"UID", Type::kUid},
    {"MODSEQ", Type::kModSeq},
}};

bool header_list(std::string_view text, std::vector<std::string>& out) {
  if (text.size() < 2 || text.front() != '(' || text.back() != ')') return false;
  text = text.substr(1, text.size() - 2);
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] == ' ') {
      ++i;
      continue;
    }
    std::string field;
    if (text[i] == '"') {
      ++i;
      while (i < text.size() && text[i] != '"') {
        if (text[i] == '\\' && i + 1 < text.size()) ++i;
        field.push_back(text[i++]);
      }
      if (i >= text.size()) return false;
      ++i;
    } else {
      while (i < text.size() && text[i] != ' ') {
        unsigned char c = static_cast<unsigned char>(text[i]);
        if (c <= 0x20 || c >= 0x7f || c == ':' || c == '(' || c == ')') return false;
        field.push_back(text[i++]);
      }
    }
    if (field.empty()) return false;
    out.push_back(to_upper(field));
  }
  return !out.empty();
}

// RFC 9051 §9 section-spec, without the brackets.
bool parse_section(std::string_view spec, Section& out, bool binary) {
  while (!spec.empty() && spec.front() >= '0' && spec.front() <= '9') {
    size_t end = 0;
    while (end < spec.size() && spec[end] >= '0' && spec[end] <= '9') ++end;
    auto n = parse_number(spec.substr(0, end), UINT32_MAX);
    if (!n || *n == 0) return false;
    out.part.push_back(static_cast<uint32_t>(*n));
    spec.remove_prefix(end);
    if (spec.empty()) break;
    if (spec.front() != '.') return false;
    spec.remove_prefix(1);
    if (spec.empty()) return false;
  }
  if (spec.empty()) return true;
  if (binary) return false;  // RFC 3516: section-binary is part numbers only
  size_t sp = spec.find(' ');
  std::string word = to_upper(spec.substr(0, sp));
  if (word == "HEADER" && sp == std::string_view::npos) {
    out.text = Section::Text::kHeader;
  } else if (word == "TEXT" && sp == std::string_view::npos) {
    out.text = Section::Text::kText;
  } else if (word == "MIME" && sp == std::string_view::npos && !out.part.empty()) {
    out.text = Section::Text::kMime;
  } else if ((word == "HEADER.FIELDS" || word == "HEADER.FIELDS.NOT") &&
             sp != std::string_view::npos) {
    out.text =
        word == "HEADER.FIELDS" ? Section::Text::kHeaderFields : Section::Text::kHeaderFieldsNot;
    return header_list(spec.substr(sp + 1), out.fields);
  } else {
    return false;
  }
  return true;
}

bool parse_partial(std::string_view text, FetchItem& item) {
  if (text.empty()) return true;
  if (text.size() < 5 || text.front() != '<' || text.back() != '>') return false;
  text = text.substr(1, text.size() - 2);
  size_t dot = text.find('.');
  if (dot == std::string_view::npos) return false;
  auto offset = parse_number(text.substr(0, dot));
  auto length = parse_number(text.substr(dot + 1));
  if (!offset || !length || *length == 0) return false;
  item.partial = std::make_pair(*offset, *length);
  return true;
}

bool parse_item(std::string_view text, FetchItem& item) {
  size_t open = text.find('[');
  if (open == std::string_view::npos) {
    const std::string name = to_upper(text);
    for (const Simple& s : kSimpleItems) {
      if (name == s.name) {
        item.type = s.type;
        return true;
      }
    }
    // RFC 9051 §6.4.5: RFC822 is BODY[], RFC822.HEADER is BODY.PEEK[HEADER], RFC822.TEXT
    // is BODY[TEXT]; each answers under its own name.
    if (name == "RFC822" || name == "RFC822.HEADER" || name == "RFC822.TEXT") {
      item.type = Type::kSection;
      item.legacy_name = name;
      if (name == "RFC822.HEADER") {
        item.section.text = Section::Text::kHeader;
        item.peek = true;
      } else if (name == "RFC822.TEXT") {
        item.section.text = Section::Text::kText;
      }
      return true;
    }
    return false;
  }
  size_t close = text.rfind(']');
  if (close == std::string_view::npos || close < open) return false;
  const std::string name = to_upper(text.substr(0, open));
  std::string_view spec = text.substr(open + 1, close - open - 1);
  std::string_view rest = text.substr(close + 1);
  if (name == "BODY" || name == "BODY.PEEK") {
    item.type = Type::kSection;
    item.peek = name == "BODY.PEEK";
    return parse_section(spec, item.section, false) && parse_partial(rest, item);
  }
  if (name == "BINARY" || name == "BINARY.PEEK") {
    item.type = Type::kBinary;
    item.peek = name == "BINARY.PEEK";
    return parse_section(spec, item.section, true) && parse_partial(rest, item);
  }
  if (name == "BINARY.SIZE") {
    item.type = Type::kBinarySize;
    return rest.empty() && parse_section(spec, item.section, true);
  }
  return false;
}

void add_macro(FetchRequest& request, std::initializer_list<Type> types) {
  for (Type t : types) {
    FetchItem item;
    item.type = t;
    request.items.push_back(item);
  }
}

std::string quote_field(const std::string& field) {
  for (unsigned char c : field) {
    if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '(' || c == ')' || c == '{' ||
        c == '%' || c == '*' || c == ']') {
      std::string out = "\"";
      for (char ch : field) {
        if (ch == '"' || ch == '\\') out.push_back('\\');
        out.push_back(ch);
      }
      out.push_back('"');
      return out;
    }
  }
  return field;
}

}  // namespace

Parsed<FetchRequest> parse_fetch(std::span<const Arg> args) {
  FetchRequest request;
  if (args.empty()) return Invalid{"Missing fetch attributes"};
  const Arg& what = args[0];
  if (what.is_atom()) {
    const std::string name = to_upper(what.value);
    // RFC 9051 §6.4.5: the macros stand alone.
    if (name == "ALL") {
      add_macro(request, {Type::kFlags, Type::kInternalDate, Type::kRfc822Size, Type::kEnvelope});
    } else if (name == "FAST") {
      add_macro(request, {Type::kFlags, Type::kInternalDate, Type::kRfc822Size});
    } else if (name == "FULL") {
      add_macro(request, {Type::kFlags, Type::kInternalDate, Type::kRfc822Size, Type::kEnvelope,
                          Type::kBody});
    } else {
      FetchItem item;
      if (!parse_item(what.value, item)) return Invalid{"Invalid fetch attribute " + what.value};
      request.items.push_back(std::move(item));
    }
  } else if (what.is_list()) {
    if (what.children.empty()) return Invalid{"Empty fetch attribute list"};
    for (const Arg& a : what.children) {
      FetchItem item;
      if (!a.is_atom() || !parse_item(a.value, item)) {
        return Invalid{"Invalid fetch attribute " + a.value};
      }
      request.items.push_back(std::move(item));
    }
  } else {
    return Invalid{"Invalid fetch attributes"};
  }

  if (args.size() > 2) return Invalid{"Too many arguments"};
  if (args.size() == 2) {
    if (!args[1].is_list()) return Invalid{"Invalid fetch modifiers"};
    const std::vector<Arg>& mods = args[1].children;
    for (size_t i = 0; i < mods.size(); ++i) {
      if (mods[i].is("CHANGEDSINCE")) {
        if (i + 1 >= mods.size() || !mods[i + 1].is_atom()) return Invalid{"Missing MODSEQ"};
        auto n = parse_number(mods[++i].value);
        if (!n) return Invalid{"Invalid CHANGEDSINCE"};
        request.changed_since = *n;
      } else if (mods[i].is("VANISHED")) {
        request.vanished = true;
      } else {
        return Invalid{"Unknown fetch modifier"};
      }
    }
    // RFC 7162 §3.2.6: VANISHED only together with CHANGEDSINCE.
    if (request.vanished && !request.changed_since) {
      return Invalid{"VANISHED requires CHANGEDSINCE"};
    }
  }
  return request;
}

std::string fetch_item_name(const FetchItem& item) {
  std::string out;
  switch (item.type) {
    case Type::kSection:
      if (!item.legacy_name.empty()) return item.legacy_name;
      out = "BODY[";
      break;
    case Type::kBinary:
      out = "BINARY[";
      break;
    case Type::kBinarySize:
      out = "BINARY.SIZE[";
      break;
    default:
      for (const Simple& s : kSimpleItems) {
        if (s.type == item.type) return std::string(s.name);
      }
      return {};
  }
  const Section& section = item.section;
  for (size_t i = 0; i < section.part.size(); ++i) {
    if (i > 0) out.push_back('.');
    out += std::to_string(section.part[i]);
  }
  if (section.text != Section::Text::kNone && !section.part.empty()) out.push_back('.');
  switch (section.text) {
    case Section::Text::kNone:
      break;
    case Section::Text::kHeader:
      out += "HEADER";
      break;
    case Section::Text::kText:
      out += "TEXT";
      break;
    case Section::Text::kMime:
      out += "MIME";
      break;
    case Section::Text::kHeaderFields:
    case Section::Text::kHeaderFieldsNot:
      out +=
          section.text == Section::Text::kHeaderFields ? "HEADER.FIELDS (" : "HEADER.FIELDS.NOT (";
      for (size_t i = 0; i < section.fields.size(); ++i) {
        if (i > 0) out.push_back(' ');
        out += quote_field(section.fields[i]);
      }
      out.push_back(')');
      break;
  }
  out.push_back(']');
  if (item.partial) out += fmt::format("<{}>", item.partial->first);
  return out;
}

}  // namespace chapar::imap
