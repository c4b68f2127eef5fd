// SPDX-License-Identifier: AGPL-3.0-or-later
// The parsed facts of one message: its envelope and its MIME tree with the byte offsets of
// every part, computed once at delivery (parse_message) and kept in the store (serialize).
//
// Offsets and sizes count octets of the message AS STORED, that is after
// normalize_line_endings(): every line ends in CRLF, so they are also the sizes IMAP reports
// (RFC 9051 §6.4.5: sizes count CRLF line ends). Pure code: no I/O, no global state.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace chapar::mime {

// One entry of an IMAP address list (RFC 9051 §7.5.2 ENVELOPE). A group is written as a
// start entry (mailbox = group name, domain absent) and an end entry (all absent), as
// RFC 9051 requires. Absent fields are NIL.
struct Address {
  std::optional<std::string> name;
  std::optional<std::string> route;  // obsolete source route "@a,@b"
  std::optional<std::string> mailbox;
  std::optional<std::string> domain;

  bool operator==(const Address&) const = default;
};

// The ENVELOPE fields (RFC 9051 §7.5.2). Strings are the raw header values (folding kept as
// LF + the continuation line); an absent header is nullopt, an empty address list is NIL.
struct Envelope {
  std::optional<std::string> date;
  std::optional<std::string> subject;
  std::vector<Address> from;
  std::vector<Address> sender;
  std::vector<Address> reply_to;
  std::vector<Address> to;
  std::vector<Address> cc;
  std::vector<Address> bcc;
  std::optional<std::string> in_reply_to;
  std::optional<std::string> message_id;

  bool operator==(const Envelope&) const = default;
};

// A Content-Type or Content-Disposition parameter as written in the header: RFC 2231
// continuations are joined ("name*" = "charset'lang'%xx..."), but values are not decoded;
// decode_rfc2231_value() does that.
struct Param {
  std::string name;
  std::string value;

  bool operator==(const Param&) const = default;
};

enum PartFlag : uint32_t {
  kPartMultipart = 1u << 0,
  kPartMessageRfc822 = 1u << 1,  // has one child: the encapsulated message
  kPartText = 1u << 2,
  kPartIsMime = 1u << 3,  // MIME-Version or Content-Type seen, or a child of a multipart
  kPartHasNuls = 1u << 4,
  kPartDigest = 1u << 5,    // multipart/digest: children default to message/rfc822
  kPartOverflow = 1u << 6,  // the part limit was reached here; the rest is its body
};

struct Part {
  uint64_t offset = 0;  // first octet of the header
  uint64_t header_size = 0;
  uint64_t body_size = 0;
  uint32_t header_lines = 0;
  uint32_t body_lines = 0;
  uint32_t flags = 0;

  // Content-* header fields; nullopt when absent (or when the part is not MIME).
  std::optional<std::string> type;     // as written, e.g. "Text"
  std::optional<std::string> subtype;  // "" when the header had no subtype
  std::vector<Param> type_params;
  std::optional<std::string> id;
  std::optional<std::string> description;
  std::optional<std::string> encoding;  // Content-Transfer-Encoding token
  std::optional<std::string> md5;
  std::optional<std::string> disposition;
  std::vector<Param> disposition_params;
  std::vector<std::string> language;
  std::optional<std::string> location;

  // The envelope of the message this part is the root of: set on the top-level part and on
  // the child of every message/rfc822 part.
  std::optional<Envelope> envelope;

  std::vector<Part> children;

  uint64_t body_offset() const { return offset + header_size; }
  uint64_t end() const { return offset + header_size + body_size; }
  bool is_multipart() const { return (flags & kPartMultipart) != 0; }
  bool is_message() const { return (flags & kPartMessageRfc822) != 0; }

  bool operator==(const Part&) const = default;
};

struct MessageStructure {
  uint64_t size = 0;  // RFC822.SIZE
  Part root;

  const Envelope& envelope() const;

  bool operator==(const MessageStructure&) const = default;
};

// The deepest nesting any configuration allows (it bounds the recursion of every function
// that walks a Part tree).
constexpr uint32_t kMaxNesting = 200;

// Limits that keep a hostile message from costing more than a bounded amount of work.
struct ParseLimits {
  uint32_t max_nesting = 100;  // multipart and message/rfc822 levels, at most kMaxNesting
  uint32_t max_parts = 10000;  // parts in the whole message
};

// The stored form of a message: bare LF becomes CRLF, a lone CR at the very end is dropped,
// other lone CRs stay. Offsets in MessageStructure refer to this form.
std::string normalize_line_endings(std::string_view raw);

// Parses a message (normally normalised first). Accepts any bytes; never fails: broken MIME
// is described as well as it can be, and every octet belongs to some part.
MessageStructure parse_message(std::string_view message, const ParseLimits& limits = {});

// A compact binary form for the database, and back. deserialize() checks everything and
// fails with kInvalidArgument on anything that serialize() could not have written.
std::string serialize(const MessageStructure& structure);
Result<MessageStructure> deserialize(std::string_view bytes);

}  // namespace chapar::mime
