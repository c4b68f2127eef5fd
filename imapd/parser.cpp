// SPDX-License-Identifier: AGPL-3.0-or-later
#include "imapd/parser.hpp"

#include <utility>

#include "common/text/ascii.hpp"

namespace chapar::imap {
namespace {

constexpr int kMaxListDepth = 32;

bool is_ctl(unsigned char c) {
  return c < 0x20 || c == 0x7f;
}

// RFC 9051 §9: ATOM-CHAR excludes "(", ")", "{", SP, CTL, list-wildcards, quoted-specials
// and resp-specials. Atoms here also take "%", "*", "]" and "\" (patterns, sequence sets,
// flags), which every argument that allows them needs and no other argument minds.
bool ends_atom(unsigned char c) {
  return c == ' ' || c == '(' || c == ')' || c == '"' || c == '{' || is_ctl(c);
}

class Tokenizer {
 public:
  Tokenizer(std::string_view text, std::vector<Literal>& literals)
      : text_(text), literals_(literals) {}

  size_t pos() const { return pos_; }
  bool at_end() const { return pos_ >= text_.size(); }
  const std::string& error() const { return error_; }

  // Reads the next space-free word (tag, command name).
  std::string_view word() {
    size_t start = pos_;
    while (pos_ < text_.size() && text_[pos_] != ' ') ++pos_;
    return text_.substr(start, pos_ - start);
  }
  bool space() {
    if (pos_ < text_.size() && text_[pos_] == ' ') {
      ++pos_;
      return true;
    }
    return false;
  }

  // Items up to the end of the text, or up to the ")" that closes a list at `depth` > 0.
  bool items(std::vector<Arg>& out, int depth) {
    while (pos_ < text_.size()) {
      if (text_[pos_] == ')') {
        if (depth == 0) return fail("Unexpected ')'");
        return true;
      }
      Arg arg;
      if (!item(arg, depth)) return false;
      out.push_back(std::move(arg));
      if (pos_ >= text_.size()) break;
      if (text_[pos_] == ' ') {
        ++pos_;
      } else if (text_[pos_] != ')') {
        return fail("Missing space between arguments");
      }
    }
    if (depth > 0) return fail("Missing ')'");
    return true;
  }

 private:
  bool fail(std::string message) {
    if (error_.empty()) error_ = std::move(message);
    return false;
  }

  bool item(Arg& arg, int depth) {
    char c = text_[pos_];
    if (c == '(') {
      if (depth >= kMaxListDepth) return fail("Lists nested too deeply");
      ++pos_;
      arg.kind = Arg::Kind::kList;
      if (!items(arg.children, depth + 1)) return false;
      ++pos_;  // ")"
      return true;
    }
    if (c == '"') return quoted(arg);
    if (c == '{' || (c == '~' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '{')) {
      return literal(arg);
    }
    return atom(arg);
  }

  bool quoted(Arg& arg) {
    arg.kind = Arg::Kind::kQuoted;
    ++pos_;
    while (pos_ < text_.size()) {
      char c = text_[pos_++];
      if (c == '"') return true;
      if (c == '\r' || c == '\n' || c == '\0') return fail("Invalid character in quoted string");
      if (c == '\\') {
        if (pos_ >= text_.size()) break;
        char escaped = text_[pos_++];
        // RFC 9051 §9: only quoted-specials may be escaped.
        if (escaped != '"' && escaped != '\\') return fail("Invalid escape in quoted string");
        c = escaped;
      }
      arg.value.push_back(c);
    }
    return fail("Missing '\"'");
  }

  bool literal(Arg& arg) {
    if (text_[pos_] == '~') ++pos_;
    ++pos_;  // "{"
    size_t close = text_.find('}', pos_);
    if (close == std::string_view::npos || text_.substr(close + 1, 2) != "\r\n") {
      return fail("Invalid literal");
    }
    pos_ = close + 3;
    if (next_literal_ >= literals_.size()) return fail("Invalid literal");
    arg.kind = Arg::Kind::kLiteral;
    arg.literal = static_cast<int>(next_literal_);
    arg.value = literals_[next_literal_].bytes;
    ++next_literal_;
    return true;
  }

  bool atom(Arg& arg) {
    size_t start = pos_;
    while (pos_ < text_.size()) {
      unsigned char c = static_cast<unsigned char>(text_[pos_]);
      if (c == '[') {
        if (!section()) return false;
        continue;
      }
      if (ends_atom(c)) break;
      ++pos_;
    }
    if (pos_ == start) return fail("Invalid character in argument");
    arg.kind = Arg::Kind::kAtom;
    arg.value = std::string(text_.substr(start, pos_ - start));
    return true;
  }

  // From "[" to its matching "]", quoted strings inside taken whole.
  bool section() {
    int depth = 0;
    while (pos_ < text_.size()) {
      char c = text_[pos_++];
      if (c == '[') {
        ++depth;
      } else if (c == ']') {
        if (--depth == 0) return true;
      } else if (c == '"') {
        while (pos_ < text_.size() && text_[pos_] != '"') {
          if (text_[pos_] == '\\') ++pos_;
          ++pos_;
        }
        ++pos_;
      } else if (c == '\r' || c == '\n') {
        break;
      }
    }
    return fail("Missing ']'");
  }

  std::string_view text_;
  std::vector<Literal>& literals_;
  size_t pos_ = 0;
  size_t next_literal_ = 0;
  std::string error_;
};

}  // namespace

bool Arg::is_nil() const {
  return is("NIL");
}

bool Arg::is(std::string_view word) const {
  return kind == Kind::kAtom && iequals(value, word);
}

std::string to_upper(std::string_view text) {
  return text::ascii_uppercase(text);
}

bool iequals(std::string_view a, std::string_view b) {
  return text::iequals(a, b);
}

bool is_valid_tag(std::string_view tag) {
  if (tag.empty()) return false;
  for (unsigned char c : tag) {
    // ASTRING-CHAR = ATOM-CHAR / "]"; the tag excludes "+".
    if (c == '+' || c == '(' || c == ')' || c == '{' || c == ' ' || c == '%' || c == '*' ||
        c == '"' || c == '\\' || is_ctl(c) || c >= 0x80) {
      return false;
    }
  }
  return true;
}

ParseResult parse_command(RawCommand raw) {
  ParseResult result;
  Command command;
  command.literals = std::move(raw.literals);
  Tokenizer tok(raw.text, command.literals);

  std::string_view tag = tok.word();
  if (!is_valid_tag(tag)) {
    result.error.message = tag.empty() ? "Empty command" : "Invalid tag";
    return result;
  }
  result.error.tag = std::string(tag);
  command.tag = std::string(tag);
  if (!tok.space()) {
    result.error.message = "Missing command";
    return result;
  }
  std::string_view name = tok.word();
  if (name.empty()) {
    result.error.message = "Missing command";
    return result;
  }
  command.name = to_upper(name);
  if (command.name == "UID") {
    if (!tok.space() || (name = tok.word()).empty()) {
      result.error.message = "Missing UID command";
      return result;
    }
    command.name += " " + to_upper(name);
  }
  if (!tok.at_end()) {
    if (!tok.space()) {
      result.error.message = "Missing space after command";
      return result;
    }
    if (!tok.items(command.args, 0)) {
      result.error.message = tok.error();
      return result;
    }
  }
  result.command = std::move(command);
  return result;
}

}  // namespace chapar::imap
