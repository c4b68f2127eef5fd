// SPDX-License-Identifier: AGPL-3.0-or-later
// The MIME parser on whole messages, and everything FETCH builds from its result: the
// stored form (serialize/deserialize), ENVELOPE, BODY and BODYSTRUCTURE, BODY[section] and
// BINARY[section] of every part, decoding for SEARCH, header decoding and address lists.
//
// Checked promises: every part lies inside the message, nested parts inside their parent,
// the stored form reads back to the same structure, and deserialize() refuses what it did
// not write rather than crash.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "libmailstore/mime/address.hpp"
#include "libmailstore/mime/charset.hpp"
#include "libmailstore/mime/decode.hpp"
#include "libmailstore/mime/render.hpp"
#include "libmailstore/mime/section.hpp"
#include "libmailstore/mime/structure.hpp"
#include "tests/fuzz/fuzz_promise.hpp"
#include "tests/fuzz/mime_checks.hpp"

namespace {

using namespace chapar;

using fuzz::require;

// The sections of one part, and its decoded forms. `budget` bounds the parts visited.
void visit(std::string_view message, const mime::MessageStructure& structure,
           const mime::Part& part, std::vector<uint32_t>& path, const mime::Part* parent,
           int& budget) {
  if (--budget < 0) return;
  require(part.end() <= message.size(), "a part lies inside the message");
  if (parent != nullptr) {
    require(part.offset >= parent->offset && part.end() <= parent->end(),
            "a part lies inside its parent");
  }
  // Child indexes are not IMAP part numbers (an encapsulated message takes none), so the
  // path names some part or none; either way the lookups must cope.
  (void)mime::find_part(structure, path);

  using Kind = mime::SectionSpec::Kind;
  for (Kind kind : {Kind::kFull, Kind::kMime, Kind::kHeader, Kind::kHeaderFields,
                    Kind::kHeaderFieldsNot, Kind::kText}) {
    if (kind == Kind::kMime && path.empty()) continue;
    mime::SectionSpec spec;
    spec.path = path;
    spec.kind = kind;
    if (kind == Kind::kHeaderFields || kind == Kind::kHeaderFieldsNot) {
      spec.fields = {"FROM", "SUBJECT", "CONTENT-TYPE"};
    }
    auto reparsed = mime::parse_section(mime::section_name(spec));
    require(reparsed.has_value(), "a section's name parses");
    mime::SectionRange range = mime::find_section(structure, spec);
    if (range.found) require(range.offset + range.length <= message.size(), "sections fit");
    std::string content = mime::section_content(message, spec, range);
    (void)mime::partial(content, 3, 10);
    (void)mime::partial(content, UINT64_MAX, UINT64_MAX);
  }

  mime::TransferEncoding encoding = mime::part_transfer_encoding(message, part);
  std::string_view body = message.substr(part.body_offset(), part.body_size);
  (void)mime::decode_body(body, encoding);
  (void)mime::decode_body_for_search(body, encoding);
  (void)mime::part_text_utf8(message, part);
  for (bool header : {false, true}) {
    mime::Decoded decoded = mime::binary_section(message, structure, part, header);
    mime::BinarySize size = mime::binary_size(message, structure, part, header);
    require(decoded.ok() == !size.error, "BINARY and BINARY.SIZE agree on errors");
    if (decoded.ok()) require(decoded.data.size() == size.size, "BINARY.SIZE is the size");
  }
  for (const mime::Param& param : part.type_params) (void)mime::decode_rfc2231_value(param.value);

  for (size_t i = 0; i < part.children.size() && budget > 0; ++i) {
    path.push_back(static_cast<uint32_t>(i + 1));
    visit(message, structure, part.children[i], path, &part, budget);
    path.pop_back();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string message;
  std::optional<mime::MessageStructure> structure = fuzz::check_input(data, size, message);
  if (!structure) return 0;
  std::string_view raw(reinterpret_cast<const char*>(data) + 1, size - 1);

  std::vector<uint32_t> path;
  int budget = 64;
  visit(message, *structure, structure->root, path, nullptr, budget);

  std::string_view head = raw.substr(0, raw.find("\n\n"));
  for (std::string_view charset : {"utf-8", "iso-8859-1", "iso-2022-jp", "utf-7", "x-unknown"}) {
    (void)mime::to_utf8(head.substr(0, 256), charset);
  }
  (void)mime::parse_section(head.substr(0, head.find('\n')));
  return 0;
}
