// SPDX-License-Identifier: AGPL-3.0-or-later
// Turns a framed command (command_reader.hpp) into its tag, name and a tree of arguments:
// atoms, quoted strings, literals and parenthesised lists (RFC 9051 §4, §9). What the
// arguments mean is decided per command by the typed parsers in parser_*.hpp. Pure.
//
// Atoms are read leniently where real clients need it: a flag ("\Seen"), a sequence set
// ("1:*"), a list pattern ("%") and a fetch attribute with a section are all atoms; an
// atom that contains "[" runs to the matching "]", spaces and parentheses included, so that
// "BODY[HEADER.FIELDS (From To)]<0.100>" is one argument.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "imapd/command_reader.hpp"

namespace chapar::imap {

struct Arg {
  enum class Kind { kAtom, kQuoted, kLiteral, kList };
  Kind kind = Kind::kAtom;
  // The atom's text, the unescaped quoted string, or the literal's content when it was
  // kept in memory. A literal that went to a Spool leaves this empty.
  std::string value;
  int literal = -1;           // index into Command::literals for kLiteral
  std::vector<Arg> children;  // for kList

  bool is_list() const { return kind == Kind::kList; }
  bool is_atom() const { return kind == Kind::kAtom; }
  bool is_string() const { return kind == Kind::kQuoted || kind == Kind::kLiteral; }
  // An atom or a string (RFC 9051 "astring").
  bool is_astring() const { return kind != Kind::kList; }
  bool is_nil() const;
  // Case-insensitive comparison of an atom with `word` (upper case).
  bool is(std::string_view word) const;
};

struct Command {
  std::string tag;
  // Upper case. "UID FETCH" etc. for the UID forms, whose sub-command is not in `args`.
  std::string name;
  std::vector<Arg> args;
  std::vector<Literal> literals;
};

struct ParseError {
  std::string tag;  // empty when even the tag could not be read
  std::string message;
};

// Parses a complete command. On a syntax error the result names the tag when it was
// readable, so that the answer can be a tagged BAD.
struct ParseResult {
  std::optional<Command> command;
  ParseError error;
};
ParseResult parse_command(RawCommand raw);

// RFC 9051 §9 "tag": 1*<any ASTRING-CHAR except "+">.
bool is_valid_tag(std::string_view tag);

// ASCII upper case.
std::string to_upper(std::string_view text);
bool iequals(std::string_view a, std::string_view b);

}  // namespace chapar::imap
