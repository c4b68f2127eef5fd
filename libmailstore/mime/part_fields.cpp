// SPDX-License-Identifier: AGPL-3.0-or-later
#include "libmailstore/mime/part_fields.hpp"

#include "libmailstore/mime/address.hpp"
#include "libmailstore/mime/rfc822_reader.hpp"

namespace chapar::mime {
namespace {

constexpr std::string_view kContentPrefix = "Content-";

void parse_content_type(Part& part, std::string_view value) {
  Rfc822Reader reader(value);
  reader.skip_lwsp();
  std::string type;
  int ret = reader.parse_content_type(type);
  size_t slash = type.find('/');
  if (slash == std::string::npos) {
    part.type = type;
    part.subtype = std::string();
  } else {
    part.type = type.substr(0, slash);
    part.subtype = type.substr(slash + 1);
  }
  // A broken type/subtype is kept as far as it went; its parameters are not trusted.
  if (ret < 0) return;
  part.type_params = parse_mime_params(reader);
}

void parse_transfer_encoding(Part& part, std::string_view value) {
  Rfc822Reader reader(value);
  reader.skip_lwsp();
  std::string token;
  // RFC 2045 §6.1: one token and nothing else.
  if (reader.parse_mime_token(token) >= 0 && reader.skip_lwsp() == 0 && !token.empty())
    part.encoding = std::move(token);
}

void parse_disposition(Part& part, std::string_view value) {
  Rfc822Reader reader(value);
  reader.skip_lwsp();
  std::string token;
  if (reader.parse_mime_token(token) < 0) return;
  part.disposition = std::move(token);
  part.disposition_params = parse_mime_params(reader);
}

void parse_language(Part& part, std::string_view value) {
  // Content-Language: 1#Language-tag (RFC 3282 §2)
  Rfc822Reader reader(value);
  reader.skip_lwsp();
  std::vector<std::string> languages;
  std::string tag;
  while (reader.parse_atom(tag) >= 0) {
    languages.push_back(std::move(tag));
    tag.clear();
    if (reader.at_end() || reader.peek() != ',') break;
    reader.advance();
    reader.skip_lwsp();
  }
  if (!languages.empty()) part.language = std::move(languages);
}

}  // namespace

std::string header_string(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\0')
      out += "\xEF\xBF\xBD";
    else
      out.push_back(c);
  }
  return out;
}

void apply_content_field(Part& part, const HeaderField& field) {
  if (!istarts_with(field.name, kContentPrefix)) return;
  std::string_view name = field.name.substr(kContentPrefix.size());
  const std::string& value = field.value;
  if (iequals(name, "ID")) {
    if (!part.id) part.id = header_string(value);
  } else if (iequals(name, "MD5")) {
    if (!part.md5) part.md5 = header_string(value);
  } else if (iequals(name, "Type")) {
    if (!part.type) parse_content_type(part, value);
  } else if (iequals(name, "Transfer-Encoding")) {
    if (!part.encoding) parse_transfer_encoding(part, value);
  } else if (iequals(name, "Language")) {
    if (part.language.empty()) parse_language(part, value);
  } else if (iequals(name, "Location")) {
    if (!part.location) part.location = header_string(value);
  } else if (iequals(name, "Description")) {
    if (!part.description) part.description = header_string(value);
  } else if (iequals(name, "Disposition")) {
    if (part.disposition_params.empty()) parse_disposition(part, value);
  }
}

void clear_content_fields(Part& part) {
  part.type.reset();
  part.subtype.reset();
  part.type_params.clear();
  part.id.reset();
  part.description.reset();
  part.encoding.reset();
  part.md5.reset();
  part.disposition.reset();
  part.disposition_params.clear();
  part.language.clear();
  part.location.reset();
}

void apply_envelope_field(Envelope& envelope, const HeaderField& field) {
  std::string_view name = field.name;
  std::vector<Address>* list = nullptr;
  std::optional<std::string>* text = nullptr;
  if (iequals(name, "Date"))
    text = &envelope.date;
  else if (iequals(name, "Subject"))
    text = &envelope.subject;
  else if (iequals(name, "In-Reply-To"))
    text = &envelope.in_reply_to;
  else if (iequals(name, "Message-ID"))
    text = &envelope.message_id;
  else if (iequals(name, "From"))
    list = &envelope.from;
  else if (iequals(name, "Sender"))
    list = &envelope.sender;
  else if (iequals(name, "Reply-To"))
    list = &envelope.reply_to;
  else if (iequals(name, "To"))
    list = &envelope.to;
  else if (iequals(name, "Cc"))
    list = &envelope.cc;
  else if (iequals(name, "Bcc"))
    list = &envelope.bcc;
  if (text != nullptr) {
    *text = header_string(field.value);
  } else if (list != nullptr) {
    std::vector<Address> parsed = parse_address_list(field.value);
    list->insert(list->end(), parsed.begin(), parsed.end());
  }
}

}  // namespace chapar::mime
