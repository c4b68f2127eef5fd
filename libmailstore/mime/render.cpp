// SPDX-License-Identifier: AGPL-3.0-or-later
#include "libmailstore/mime/render.hpp"

#include "libmailstore/mime/header_reader.hpp"
#include "libmailstore/mime/imap_quote.hpp"

namespace chapar::mime {
namespace {

constexpr std::string_view kDefaultCharset = "\"charset\" \"us-ascii\"";
// A multipart without parts is not allowed (RFC 2046 §5.1.1); show one empty text part.
constexpr std::string_view kEmptyBody =
    "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0)";
constexpr std::string_view kEmptyBodyStructure =
    "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0 NIL NIL NIL NIL)";

void write_addresses(std::string& out, const std::vector<Address>& list) {
  if (list.empty()) {
    out += "NIL";
    return;
  }
  out += '(';
  for (const Address& a : list) {
    out += '(';
    if (a.name)
      append_imap_string_for_humans(out, *a.name);
    else
      out += "NIL";
    out += ' ';
    append_imap_nstring(out, a.route);
    out += ' ';
    append_imap_nstring(out, a.mailbox);
    out += ' ';
    append_imap_nstring(out, a.domain);
    out += ')';
  }
  out += ')';
}

void write_envelope(std::string& out, const Envelope& e) {
  append_imap_nstring_nolf(out, e.date);
  out += ' ';
  if (e.subject)
    append_imap_string_for_humans(out, *e.subject);
  else
    out += "NIL";
  out += ' ';
  write_addresses(out, e.from);
  out += ' ';
  write_addresses(out, e.sender.empty() ? e.from : e.sender);
  out += ' ';
  write_addresses(out, e.reply_to.empty() ? e.from : e.reply_to);
  out += ' ';
  write_addresses(out, e.to);
  out += ' ';
  write_addresses(out, e.cc);
  out += ' ';
  write_addresses(out, e.bcc);
  out += ' ';
  append_imap_nstring_nolf(out, e.in_reply_to);
  out += ' ';
  append_imap_nstring_nolf(out, e.message_id);
}

void write_params(std::string& out, const std::vector<Param>& params, bool default_charset) {
  if (!default_charset && params.empty()) {
    out += "NIL";
    return;
  }
  out += '(';
  bool seen_charset = false;
  for (size_t i = 0; i < params.size(); ++i) {
    if (i > 0) out += ' ';
    if (default_charset && iequals(params[i].name, "charset")) seen_charset = true;
    append_imap_string(out, params[i].name);
    out += ' ';
    append_imap_string(out, params[i].value);
  }
  if (default_charset && !seen_charset) {
    if (!params.empty()) out += ' ';
    out += kDefaultCharset;
  }
  out += ')';
}

// disposition, language, location: the extension data every part has (RFC 9051 §7.5.2)
void write_common_extension(std::string& out, const Part& part) {
  out += ' ';
  if (!part.disposition) {
    out += "NIL";
  } else {
    out += '(';
    append_imap_string(out, *part.disposition);
    out += ' ';
    write_params(out, part.disposition_params, false);
    out += ')';
  }
  out += ' ';
  if (part.language.empty()) {
    out += "NIL";
  } else {
    out += '(';
    for (size_t i = 0; i < part.language.size(); ++i) {
      if (i > 0) out += ' ';
      append_imap_string(out, part.language[i]);
    }
    out += ')';
  }
  out += ' ';
  append_imap_nstring_nolf(out, part.location);
}

void write_part(std::string& out, const Part& part, bool extensible);

void write_children(std::string& out, const Part& part, bool extensible) {
  for (const Part& child : part.children) {
    out += '(';
    write_part(out, child, extensible);
    out += ')';
  }
}

void write_multipart(std::string& out, const Part& part, bool extensible) {
  if (!part.children.empty())
    write_children(out, part, extensible);
  else
    out += extensible ? kEmptyBodyStructure : kEmptyBody;
  out += ' ';
  append_imap_string(out, part.subtype.value_or(""));
  if (!extensible) return;
  out += ' ';
  write_params(out, part.type_params, false);
  write_common_extension(out, part);
}

void write_single(std::string& out, const Part& part, bool extensible) {
  bool text = false;
  if (part.is_message()) {
    out += "\"message\" \"rfc822\"";
  } else if (!part.type) {
    text = true;
    out += "\"text\" \"plain\"";
  } else {
    text = iequals(*part.type, "text");
    append_imap_string(out, *part.type);
    out += ' ';
    append_imap_string(out, part.subtype.value_or(""));
  }
  out += ' ';
  write_params(out, part.type_params, text);
  out += ' ';
  append_imap_nstring_nolf(out, part.id);
  out += ' ';
  append_imap_nstring_nolf(out, part.description);
  out += ' ';
  if (part.encoding)
    append_imap_string(out, *part.encoding);
  else
    out += "\"7bit\"";
  out += ' ';
  out += std::to_string(part.body_size);
  if (text) {
    out += ' ';
    out += std::to_string(part.body_lines);
  } else if (part.is_message() && !part.children.empty()) {
    const Part& inner = part.children.front();
    out += " (";
    write_envelope(out, inner.envelope.value_or(Envelope{}));
    out += ") (";
    write_part(out, inner, extensible);
    out += ") ";
    out += std::to_string(part.body_lines);
  }
  if (!extensible) return;
  out += ' ';
  append_imap_nstring_nolf(out, part.md5);
  write_common_extension(out, part);
}

bool is_plain_7bit(const Part& part) {
  if (!(part.flags & kPartText) || !part.children.empty()) return false;
  if (part.subtype && !iequals(*part.subtype, "plain")) return false;
  if (!part.type_params.empty() &&
      (part.type_params.size() != 1 || !iequals(part.type_params[0].name, "charset") ||
       !iequals(part.type_params[0].value, "us-ascii")))
    return false;
  if (part.id || part.description || part.md5 || part.disposition || part.location) return false;
  if (part.encoding && !iequals(*part.encoding, "7bit")) return false;
  return part.language.empty();
}

void write_part(std::string& out, const Part& part, bool extensible) {
  if (part.is_multipart())
    write_multipart(out, part, extensible);
  else
    write_single(out, part, extensible);
}

}  // namespace

std::string render_envelope(const Envelope& envelope) {
  std::string out = "(";
  write_envelope(out, envelope);
  out += ')';
  return out;
}

std::string render_bodystructure(const MessageStructure& structure, bool extensible) {
  const Part& root = structure.root;
  if (!is_plain_7bit(root)) return render_bodystructure(root, extensible);
  std::string out = "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" ";
  out += std::to_string(root.body_size);
  out += ' ';
  out += std::to_string(root.body_lines);
  if (extensible) out += " NIL NIL NIL NIL";
  out += ')';
  return out;
}

std::string render_bodystructure(const Part& part, bool extensible) {
  std::string out = "(";
  write_part(out, part, extensible);
  out += ')';
  return out;
}

}  // namespace chapar::mime
