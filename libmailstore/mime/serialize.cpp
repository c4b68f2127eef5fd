// SPDX-License-Identifier: AGPL-3.0-or-later
// The stored form of a MessageStructure: "MS" and a version octet, then the fields in a fixed
// order. Numbers are LEB128 varints, strings a varint length and the octets, an optional
// value a presence octet (0 or 1) first, a list its count first.
#include <string>

#include "libmailstore/mime/structure.hpp"

namespace chapar::mime {
namespace {

constexpr std::string_view kMagic = "MS";
constexpr unsigned char kVersion = 1;
// The parser never nests deeper than kMaxNesting; a deeper stored structure is corrupt.
constexpr uint32_t kMaxDepth = kMaxNesting + 1;

class Writer {
 public:
  std::string out;

  void number(uint64_t v) {
    while (v >= 0x80) {
      out.push_back(static_cast<char>((v & 0x7f) | 0x80));
      v >>= 7;
    }
    out.push_back(static_cast<char>(v));
  }
  void string(std::string_view s) {
    number(s.size());
    out.append(s);
  }
  void optional(const std::optional<std::string>& s) {
    out.push_back(s ? 1 : 0);
    if (s) string(*s);
  }
  void params(const std::vector<Param>& list) {
    number(list.size());
    for (const Param& p : list) {
      string(p.name);
      string(p.value);
    }
  }
  void addresses(const std::vector<Address>& list) {
    number(list.size());
    for (const Address& a : list) {
      optional(a.name);
      optional(a.route);
      optional(a.mailbox);
      optional(a.domain);
    }
  }
  void envelope(const Envelope& e) {
    optional(e.date);
    optional(e.subject);
    addresses(e.from);
    addresses(e.sender);
    addresses(e.reply_to);
    addresses(e.to);
    addresses(e.cc);
    addresses(e.bcc);
    optional(e.in_reply_to);
    optional(e.message_id);
  }
  void part(const Part& p) {
    number(p.offset);
    number(p.header_size);
    number(p.body_size);
    number(p.header_lines);
    number(p.body_lines);
    number(p.flags);
    optional(p.type);
    optional(p.subtype);
    params(p.type_params);
    optional(p.id);
    optional(p.description);
    optional(p.encoding);
    optional(p.md5);
    optional(p.disposition);
    params(p.disposition_params);
    number(p.language.size());
    for (const std::string& l : p.language) string(l);
    optional(p.location);
    out.push_back(p.envelope ? 1 : 0);
    if (p.envelope) envelope(*p.envelope);
    number(p.children.size());
    for (const Part& child : p.children) part(child);
  }
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}

  bool ok() const { return ok_; }
  bool at_end() const { return pos_ == in_.size(); }

  uint64_t number() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= in_.size()) return bad();
      auto b = static_cast<unsigned char>(in_[pos_++]);
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    return bad();
  }
  uint32_t number32() {
    uint64_t v = number();
    if (v > UINT32_MAX) return static_cast<uint32_t>(bad());
    return static_cast<uint32_t>(v);
  }
  // A count of items that each take at least one octet.
  uint64_t count() {
    uint64_t n = number();
    if (n > in_.size() - pos_) return bad();
    return n;
  }
  bool flag() {
    if (pos_ >= in_.size()) return bad() != 0;
    char c = in_[pos_++];
    if (c != 0 && c != 1) bad();
    return c == 1;
  }
  std::string string() {
    uint64_t n = count();
    if (!ok_) return {};
    std::string s(in_.substr(pos_, n));
    pos_ += n;
    return s;
  }
  std::optional<std::string> optional() {
    if (!flag()) return std::nullopt;
    return string();
  }
  std::vector<Param> params() {
    std::vector<Param> list;
    for (uint64_t n = count(); ok_ && n > 0; --n) {
      Param p;
      p.name = string();
      p.value = string();
      list.push_back(std::move(p));
    }
    return list;
  }
  std::vector<Address> addresses() {
    std::vector<Address> list;
    for (uint64_t n = count(); ok_ && n > 0; --n) {
      Address a;
      a.name = optional();
      a.route = optional();
      a.mailbox = optional();
      a.domain = optional();
      list.push_back(std::move(a));
    }
    return list;
  }
  Envelope envelope() {
    Envelope e;
    e.date = optional();
    e.subject = optional();
    e.from = addresses();
    e.sender = addresses();
    e.reply_to = addresses();
    e.to = addresses();
    e.cc = addresses();
    e.bcc = addresses();
    e.in_reply_to = optional();
    e.message_id = optional();
    return e;
  }
  Part part(uint32_t depth) {
    Part p;
    if (depth > kMaxDepth) {
      bad();
      return p;
    }
    p.offset = number();
    p.header_size = number();
    p.body_size = number();
    p.header_lines = number32();
    p.body_lines = number32();
    p.flags = number32();
    p.type = optional();
    p.subtype = optional();
    p.type_params = params();
    p.id = optional();
    p.description = optional();
    p.encoding = optional();
    p.md5 = optional();
    p.disposition = optional();
    p.disposition_params = params();
    for (uint64_t n = count(); ok_ && n > 0; --n) p.language.push_back(string());
    p.location = optional();
    if (flag()) p.envelope = envelope();
    for (uint64_t n = count(); ok_ && n > 0; --n) p.children.push_back(part(depth + 1));
    return p;
  }

 private:
  uint64_t bad() {
    ok_ = false;
    pos_ = in_.size();
    return 0;
  }

  std::string_view in_;
  size_t pos_ = 0;
  bool ok_ = true;
};

// Every part lies inside its parent and inside the message; children are in order.
bool consistent(const Part& p, uint64_t begin, uint64_t end) {
  if (p.offset < begin || p.offset > end || p.header_size > end - p.offset ||
      p.body_size > end - p.offset - p.header_size || p.header_lines > p.header_size ||
      p.body_lines > p.body_size)
    return false;
  uint64_t pos = p.body_offset();
  for (const Part& child : p.children) {
    if (!consistent(child, pos, p.end())) return false;
    pos = child.end();
  }
  return true;
}

}  // namespace

std::string serialize(const MessageStructure& structure) {
  Writer w;
  w.out.append(kMagic);
  w.out.push_back(static_cast<char>(kVersion));
  w.number(structure.size);
  w.part(structure.root);
  return std::move(w.out);
}

Result<MessageStructure> deserialize(std::string_view bytes) {
  if (bytes.size() < kMagic.size() + 1 || bytes.substr(0, kMagic.size()) != kMagic ||
      static_cast<unsigned char>(bytes[kMagic.size()]) != kVersion)
    return fail(Errc::kInvalidArgument, "not a stored message structure");
  Reader r(bytes.substr(kMagic.size() + 1));
  MessageStructure structure;
  structure.size = r.number();
  structure.root = r.part(0);
  if (!r.ok() || !r.at_end() || !consistent(structure.root, 0, structure.size))
    return fail(Errc::kInvalidArgument, "corrupt stored message structure");
  return structure;
}

}  // namespace chapar::mime
