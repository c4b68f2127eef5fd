// SPDX-License-Identifier: AGPL-3.0-or-later
#include "smtpd/outbound/prepare.hpp"

#include <algorithm>

#include "common/text/ascii.hpp"
#include "smtpd/outbound/dkim_canon.hpp"
#include "smtpd/outbound/dkim_sign.hpp"
#include "smtpd/outbound/dsn.hpp"
#include "smtpd/outbound/route.hpp"

namespace chapar::smtp::outbound {
namespace {

constexpr size_t kChunk = 64 * 1024;
constexpr size_t kMaxHeader = 1024 * 1024;

// The domain of the first address in a From field value ("Name <a@b>" or "a@b").
std::string from_domain(std::string_view value) {
  size_t open = value.find('<');
  if (open != std::string_view::npos) {
    size_t close = value.find('>', open);
    value = value.substr(open + 1, close == std::string_view::npos ? close : close - open - 1);
  }
  size_t at = value.rfind('@');
  if (at == std::string_view::npos) return {};
  std::string_view domain = value.substr(at + 1);
  size_t end = domain.find_first_of(" \t,;>()");
  return text::ascii_lowercase(domain.substr(0, end));
}

}  // namespace

MessageSource OutboundMessage::source(store::Store& store) const {
  MessageSource source;
  source.size = prefix.size() + length;
  source.eight_bit = eight_bit;
  source.read = [&store, prefix = prefix, message = message, offset = offset](
                    uint64_t at, size_t want) -> Result<std::string> {
    std::string out;
    if (at < prefix.size()) {
      out = prefix.substr(static_cast<size_t>(at), want);
      want -= out.size();
      at = prefix.size();
    }
    if (want == 0) return out;
    auto rest = store.read(message, offset + (at - prefix.size()), want);
    if (!rest) return Unexpected{rest.error()};
    out += *rest;
    return out;
  };
  return source;
}

Result<OutboundMessage> prepare_outbound(store::Store& store, store::MessageId message,
                                         std::string_view sender, const PrepareOptions& options) {
  OutboundMessage out;
  out.message = message;
  auto size = store.message_size(message);
  if (!size) return Unexpected{size.error()};

  // Leading Return-Path fields belong to local delivery only.
  MessageSource whole;
  whole.size = *size;
  whole.read = [&store, message](uint64_t at, size_t want) {
    return store.read(message, at, want);
  };
  auto header = read_header_block(whole, kMaxHeader);
  if (!header) return Unexpected{header.error()};
  std::string_view rest = *header;
  for (const HeaderField& field : split_header_fields(*header)) {
    if (!text::iequals(field.name, "Return-Path") || field.raw.data() != rest.data()) break;
    out.offset += field.raw.size();
    rest.remove_prefix(field.raw.size());
  }
  out.length = *size - out.offset;
  std::string own_header(rest);

  // One pass: 8-bit content, and the body hash for DKIM.
  std::vector<DkimKey> keys;
  std::string from = from_domain(header_value(own_header, "From"));
  for (const std::string& domain : {from, address_domain(sender)}) {
    if (domain.empty() || sender.empty()) continue;
    auto local = store.is_local_domain(domain);
    if (!local) return Unexpected{local.error()};
    if (!*local) continue;
    auto found = load_dkim_keys(options.dkim_dir, domain);
    if (!found) return Unexpected{found.error()};
    if (!found->empty()) {
      keys = std::move(*found);
      break;
    }
  }
  BodyHasher body;
  uint64_t body_start = out.offset + std::min<uint64_t>(own_header.size(), out.length);
  for (uint64_t at = out.offset; at < *size;) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(*size - at, kChunk));
    auto chunk = store.read(message, at, want);
    if (!chunk) return Unexpected{chunk.error()};
    if (chunk->empty()) break;
    std::string_view bytes = *chunk;
    if (!out.eight_bit) {
      out.eight_bit = std::any_of(bytes.begin(), bytes.end(),
                                  [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
    }
    if (!keys.empty() && at + bytes.size() > body_start) {
      size_t skip = at >= body_start ? 0 : static_cast<size_t>(body_start - at);
      body.update(bytes.substr(skip));
    }
    at += bytes.size();
  }
  if (keys.empty()) return out;
  std::string body_hash = body.finish();
  for (const DkimKey& key : keys) {
    auto signature = dkim_signature(key, own_header, body_hash, options.now);
    if (!signature) return Unexpected{signature.error()};
    // Each signature covers the content, not the signatures added before it.
    out.prefix = *signature + out.prefix;
    out.signed_by = key.domain();
  }
  return out;
}

}  // namespace chapar::smtp::outbound
