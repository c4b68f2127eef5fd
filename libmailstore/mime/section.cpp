// SPDX-License-Identifier: AGPL-3.0-or-later
#include "libmailstore/mime/section.hpp"

#include <algorithm>
#include <cctype>

#include "libmailstore/mime/header_reader.hpp"
#include "libmailstore/mime/imap_quote.hpp"

namespace chapar::mime {
namespace {

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

Unexpected bad_section(std::string_view why) {
  return fail(Errc::kInvalidArgument, "invalid section: " + std::string(why));
}

// "(" astring *(SP astring) ")" with atoms and quoted strings.
Result<std::vector<std::string>> parse_field_list(std::string_view s) {
  std::vector<std::string> fields;
  if (s.empty() || s.front() != '(' || s.back() != ')') return bad_section("field list");
  s = s.substr(1, s.size() - 2);
  size_t i = 0;
  while (i < s.size()) {
    if (s[i] == ' ') {
      ++i;
      continue;
    }
    std::string name;
    if (s[i] == '"') {
      ++i;
      while (i < s.size() && s[i] != '"') {
        if (s[i] == '\\' && i + 1 < s.size()) ++i;
        name += s[i++];
      }
      if (i >= s.size()) return bad_section("unterminated quoted field name");
      ++i;
    } else {
      while (i < s.size() && s[i] != ' ') name += s[i++];
    }
    fields.push_back(upper(name));
  }
  if (fields.empty()) return bad_section("empty field list");
  return fields;
}

}  // namespace

Result<SectionSpec> parse_section(std::string_view text) {
  SectionSpec spec;
  size_t i = 0;
  // The part number: nz-number *("." nz-number), followed by "." and a name or by nothing.
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
    uint64_t n = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
      n = n * 10 + static_cast<uint64_t>(text[i] - '0');
      if (n > UINT32_MAX) return bad_section("part number too large");
      ++i;
    }
    if (n == 0) return bad_section("part number 0");
    spec.path.push_back(static_cast<uint32_t>(n));
    if (i == text.size()) return spec;
    if (text[i] != '.') return bad_section("expected '.'");
    ++i;
    if (i == text.size()) return bad_section("trailing '.'");
  }
  std::string rest = upper(text.substr(i));
  if (rest.empty()) {
    spec.kind = SectionSpec::Kind::kFull;
  } else if (rest == "MIME") {
    if (spec.path.empty()) return bad_section("MIME needs a part number");
    spec.kind = SectionSpec::Kind::kMime;
  } else if (rest == "TEXT") {
    spec.kind = SectionSpec::Kind::kText;
  } else if (rest == "HEADER") {
    spec.kind = SectionSpec::Kind::kHeader;
  } else if (rest.rfind("HEADER.FIELDS.NOT ", 0) == 0 || rest.rfind("HEADER.FIELDS ", 0) == 0) {
    bool negate = rest.rfind("HEADER.FIELDS.NOT ", 0) == 0;
    spec.kind = negate ? SectionSpec::Kind::kHeaderFieldsNot : SectionSpec::Kind::kHeaderFields;
    auto fields = parse_field_list(text.substr(i + (negate ? 18 : 14)));
    if (!fields) return Unexpected{fields.error()};
    spec.fields = std::move(*fields);
  } else {
    return bad_section("unknown section name");
  }
  return spec;
}

std::string section_name(const SectionSpec& spec) {
  std::string out;
  for (size_t i = 0; i < spec.path.size(); ++i) {
    if (i > 0) out += '.';
    out += std::to_string(spec.path[i]);
  }
  auto name = [&](std::string_view n) {
    if (!out.empty()) out += '.';
    out += n;
  };
  switch (spec.kind) {
    case SectionSpec::Kind::kFull:
      break;
    case SectionSpec::Kind::kMime:
      name("MIME");
      break;
    case SectionSpec::Kind::kHeader:
      name("HEADER");
      break;
    case SectionSpec::Kind::kText:
      name("TEXT");
      break;
    case SectionSpec::Kind::kHeaderFields:
    case SectionSpec::Kind::kHeaderFieldsNot:
      name(spec.kind == SectionSpec::Kind::kHeaderFields ? "HEADER.FIELDS ("
                                                         : "HEADER.FIELDS.NOT (");
      for (size_t i = 0; i < spec.fields.size(); ++i) {
        if (i > 0) out += ' ';
        append_imap_astring(out, spec.fields[i]);
      }
      out += ')';
      break;
  }
  return out;
}

const Part* find_part(const MessageStructure& structure, const std::vector<uint32_t>& path) {
  const Part* part = &structure.root;
  for (size_t i = 0; i < path.size(); ++i) {
    uint32_t n = path[i];
    bool more = i + 1 < path.size();
    if (part->is_multipart()) {
      if (n < 1 || n > part->children.size()) return nullptr;
      part = &part->children[n - 1];
    } else if (n != 1 || (more && !part->is_message())) {
      // A part that is not multipart has the one part 1: its own body.
      return nullptr;
    }
    if (more && part->is_message()) {
      if (part->children.empty()) return nullptr;
      part = &part->children.front();
    }
  }
  return part;
}

SectionRange find_section(const MessageStructure& structure, const SectionSpec& spec) {
  SectionRange range;
  const Part* part = find_part(structure, spec.path);
  if (part == nullptr) return range;
  using Kind = SectionSpec::Kind;
  if (spec.path.empty() && spec.kind == Kind::kFull) {
    range.found = true;
    range.length = structure.size;
    return range;
  }
  if (!spec.path.empty() && spec.kind != Kind::kFull && spec.kind != Kind::kMime) {
    // HEADER and TEXT of a part are those of the message it encapsulates (RFC 9051 §6.4.5).
    if (!part->is_message() || part->children.empty()) return range;
    part = &part->children.front();
  }
  range.found = true;
  switch (spec.kind) {
    case Kind::kFull:
    case Kind::kText:
      range.offset = part->body_offset();
      range.length = part->body_size;
      break;
    case Kind::kMime:
    case Kind::kHeader:
      range.offset = part->offset;
      range.length = part->header_size;
      break;
    case Kind::kHeaderFields:
    case Kind::kHeaderFieldsNot:
      range.offset = part->offset;
      range.length = part->header_size;
      range.filter = true;
      break;
  }
  return range;
}

std::string filter_header_fields(std::string_view header, const std::vector<std::string>& fields,
                                 bool negate) {
  std::string out;
  size_t pos = 0;
  bool seen_end = false;
  HeaderField field;
  for (;;) {
    size_t next = 0;
    HeaderStep step = read_header_field(header, pos, field, next);
    if (step == HeaderStep::kEnd) break;
    if (step == HeaderStep::kEndOfHeader) {
      seen_end = true;
      out += "\r\n";
      break;
    }
    bool listed = std::any_of(fields.begin(), fields.end(),
                              [&](const std::string& f) { return iequals(f, field.name); });
    if (listed != negate) {
      // Each line as it is, with its line end made CRLF.
      size_t line = field.start;
      while (line < field.end) {
        size_t lf = header.find('\n', line);
        if (lf == std::string_view::npos || lf >= field.end) {
          out.append(header.substr(line, field.end - line));
          break;
        }
        size_t content_end = (lf > line && header[lf - 1] == '\r') ? lf - 1 : lf;
        out.append(header.substr(line, content_end - line));
        out += "\r\n";
        line = lf + 1;
      }
    }
    pos = next;
  }
  // The list form always ends with the empty line that ends a header.
  if (!negate && !seen_end) out += "\r\n";
  return out;
}

std::string section_content(std::string_view message, const SectionSpec& spec,
                            const SectionRange& range) {
  if (!range.found || range.offset > message.size()) return {};
  std::string_view bytes = message.substr(range.offset, range.length);
  if (!range.filter) return std::string(bytes);
  return filter_header_fields(bytes, spec.fields, spec.kind == SectionSpec::Kind::kHeaderFieldsNot);
}

std::string_view partial(std::string_view content, uint64_t origin, uint64_t count) {
  if (origin >= content.size()) return {};
  return content.substr(origin, count);
}

}  // namespace chapar::mime
