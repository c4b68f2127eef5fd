// SPDX-License-Identifier: AGPL-3.0-or-later
// Every message of the shared corpus against the answers a mature IMAP server gave for it:
// ENVELOPE, BODYSTRUCTURE, BODY, every BODY[section] (header, text, MIME, parts, encapsulated
// headers and texts), HEADER.FIELDS and .NOT, a partial fetch and BINARY.SIZE, byte for byte.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "doctest/doctest.h"
#include "libmailstore/mime/charset.hpp"
#include "libmailstore/mime/decode.hpp"
#include "libmailstore/mime/header_reader.hpp"
#include "libmailstore/mime/imap_quote.hpp"
#include "libmailstore/mime/render.hpp"
#include "libmailstore/mime/section.hpp"
#include "libmailstore/mime/structure.hpp"
#include "tests/store/mime_expected.hpp"
#include "tests/support/test_dir.hpp"

namespace chapar::mime {
namespace {

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Where two strings first differ, with some context, for a readable failure report.
std::string difference(std::string_view expected, std::string_view actual) {
  size_t i = 0;
  while (i < expected.size() && i < actual.size() && expected[i] == actual[i]) ++i;
  size_t from = i > 40 ? i - 40 : 0;
  std::ostringstream out;
  out << "at octet " << i << "\n  expected: [" << expected.substr(from, 100) << "]\n  actual:   ["
      << actual.substr(from, 100) << "]";
  return out.str();
}

struct Checker {
  std::string file;
  std::string_view message;
  const MessageStructure& structure;
  std::vector<std::string> failures;
  std::vector<std::string> departures;
  size_t checks = 0;

  void compare(const std::string& what, std::string_view expected, std::string_view actual) {
    ++checks;
    if (expected != actual)
      failures.push_back(file + " " + what + ": " + difference(expected, actual));
  }

  // The <origin.count> of a partial fetch, from the command that asked for it.
  static std::optional<uint64_t> partial_count(const std::string& command, uint64_t origin) {
    std::string marker = "<" + std::to_string(origin) + ".";
    size_t at = command.find(marker);
    if (at == std::string::npos) return std::nullopt;
    return std::stoull(command.substr(at + marker.size()));
  }

  void item(const std::string& command, const test::FetchItem& item) {
    const std::string& name = item.name;
    if (name == "UID") return;
    if (name == "RFC822.SIZE") return compare(name, item.value, std::to_string(structure.size));
    if (name == "ENVELOPE") return compare(name, item.value, render_envelope(structure.envelope()));
    if (name == "BODYSTRUCTURE")
      return compare(name, item.value, render_bodystructure(structure, true));
    if (name == "BODY") return compare(name, item.value, render_bodystructure(structure, false));
    size_t open = name.find('[');
    size_t close = name.find(']');
    if (open == std::string::npos || close == std::string::npos) {
      failures.push_back(file + " unexpected item " + name);
      return;
    }
    std::string section = name.substr(open + 1, close - open - 1);
    if (name.rfind("BINARY.SIZE[", 0) == 0) {
      auto spec = parse_section(section);
      if (!spec) {
        failures.push_back(file + " " + name + ": " + spec.error().message);
        return;
      }
      const Part* part = find_part(structure, spec->path);
      // A part that does not exist (the placeholder of an empty multipart) has size 0.
      if (part == nullptr) return compare(name, item.value, "0");
      BinarySize size = binary_size(message, structure, *part, false);
      std::string actual =
          size.error ? std::string(decode_error_code(*size.error)) : std::to_string(size.size);
      if (item.value != actual && !size.error &&
          item.value == std::to_string(reference_binary_size(*part))) {
        // RFC 3516 §4.2: BINARY.SIZE is the size of the decoded section. The reference
        // server stores messages with LF line ends and, when it sums up decoded sizes,
        // compares positions in that file with sizes counted with CRLF; a decoded part
        // that follows closely is then counted into this one. Our size is the decoded
        // size of the part itself.
        departures.push_back(file + " " + name + ": " + actual + " (reference " + item.value + ")");
        ++checks;
        return compare(
            name + " (decoded)", actual,
            std::to_string(
                decode_body(body(*part), part_transfer_encoding(message, *part)).data.size()));
      }
      return compare(name, item.value, actual);
    }
    if (name.rfind("BODY[", 0) != 0) {
      failures.push_back(file + " unexpected item " + name);
      return;
    }
    auto spec = parse_section(section);
    if (!spec) {
      failures.push_back(file + " " + name + ": " + spec.error().message);
      return;
    }
    std::string content =
        replace_nuls(section_content(message, *spec, find_section(structure, *spec)));
    if (close + 1 < name.size() && name[close + 1] == '<') {
      uint64_t origin = std::stoull(name.substr(close + 2));
      std::optional<uint64_t> count = partial_count(command, origin);
      if (!count) {
        failures.push_back(file + " " + name + ": no partial range in the command");
        return;
      }
      content = std::string(partial(content, origin, *count));
    }
    std::optional<std::string> expected = test::imap_string_content(item.value);
    if (!expected) {
      failures.push_back(file + " " + name + ": not a string: " + item.value.substr(0, 40));
      return;
    }
    compare(name, *expected, content);
  }

  std::string_view body(const Part& part) const {
    return message.substr(part.body_offset(), part.body_size);
  }

  bool converted(const Part& part) const {
    TransferEncoding e = part_transfer_encoding(message, part);
    return e == TransferEncoding::kBase64 || e == TransferEncoding::kQuotedPrintable;
  }

  // The size of a header once its Content-Transfer-Encoding says "binary".
  uint64_t binary_header_size(const Part& part) const {
    std::string_view header = message.substr(part.offset, part.header_size);
    std::string kept = filter_header_fields(header, {"CONTENT-TRANSFER-ENCODING"}, true);
    bool has_end = header.size() >= 2 && header.substr(header.size() - 2) == "\r\n" &&
                   (header.size() == 2 || header.substr(header.size() - 4) == "\r\n\r\n");
    return kept.size() +
           (has_end ? std::string_view("Content-Transfer-Encoding: binary\r\n").size() : 0);
  }

  // What the reference server reports, positions counted without CR and sizes with.
  uint64_t reference_binary_size(const Part& part) const {
    auto position = [&](uint64_t offset) {
      return offset -
             static_cast<uint64_t>(std::count(message.begin(), message.begin() + offset, '\n'));
    };
    uint64_t size = part.header_size + part.body_size;
    uint64_t start = position(part.offset);
    uint64_t end = start + size;
    std::vector<const Part*> all{&structure.root};
    for (size_t i = 0; i < all.size(); ++i)
      for (const Part& child : all[i]->children) all.push_back(&child);
    for (const Part* q : all) {
      if (!converted(*q) || position(q->offset) < start || position(q->offset) >= end) continue;
      uint64_t decoded =
          q->children.empty()
              ? decode_body(body(*q), part_transfer_encoding(message, *q)).data.size()
              : 0;
      size = size - q->header_size - q->body_size + binary_header_size(*q) + decoded;
    }
    return size - (converted(part) ? binary_header_size(part) : part.header_size);
  }

  // A failed BINARY.SIZE: the reference server decodes the whole message, so one bad part
  // fails every part. It closes the connection for base64 that stops inside a quantum
  // (an internal error); we report that as a parse error (RFC 3516 §4.3, RFC 9051 §7.1.5:
  // BYE is for a server that is shutting the connection down, not for bad message data).
  void failed_binary(const test::ExpectedBlock& block) {
    size_t open = block.command.find("BINARY.SIZE[");
    if (open == std::string::npos) {
      failures.push_back(file + " unexpected failure: " + block.command);
      return;
    }
    size_t close = block.command.find(']', open);
    auto spec = parse_section(block.command.substr(open + 12, close - open - 12));
    const Part* part = spec ? find_part(structure, spec->path) : nullptr;
    if (part == nullptr) {
      failures.push_back(file + " " + block.command + ": no such part");
      return;
    }
    BinarySize size = binary_size(message, structure, *part, false);
    std::string expected = "?";
    if (block.status.rfind("NO [UNKNOWN-CTE]", 0) == 0)
      expected = "unknown";
    else if (block.status.rfind("NO [PARSE]", 0) == 0)
      expected = "invalid";
    else if (block.status == "(connection closed)")
      expected = "truncated";
    std::string actual = "ok";
    if (size.error == DecodeError::kUnknownEncoding) actual = "unknown";
    if (size.error == DecodeError::kInvalidData) actual = "invalid";
    if (size.error == DecodeError::kTruncated) actual = "truncated";
    compare(block.command, expected, actual);
  }
};

TEST_CASE("mime: every corpus message gives the reference server's answers") {
  std::optional<std::filesystem::path> dir = test::corpus_dir();
  if (!dir) {
    MESSAGE("the shared corpus is missing: skipping the MIME corpus comparison");
    return;
  }
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(*dir / "open")) {
    if (entry.path().extension() == ".eml") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  REQUIRE(!files.empty());

  size_t passed = 0;
  size_t checks = 0;
  std::vector<std::string> failures;
  std::vector<std::string> departures;
  for (const auto& path : files) {
    std::string message = normalize_line_endings(read_file(path));
    MessageStructure structure = parse_message(message);
    std::filesystem::path expected_path = path;
    expected_path.replace_extension(".expected");
    auto blocks = test::parse_expected(read_file(expected_path));
    REQUIRE_MESSAGE(blocks, "unreadable " << expected_path);

    Checker checker{path.filename().string(), message, structure, {}, {}, 0};
    auto restored = deserialize(serialize(structure));
    checker.compare("stored form", "same",
                    restored && *restored == structure ? "same" : "different");
    for (const test::ExpectedBlock& block : *blocks) {
      if (block.status.rfind("OK", 0) != 0) {
        checker.failed_binary(block);
        continue;
      }
      for (const std::string& response : block.responses) {
        auto items = test::parse_fetch(response);
        if (!items) {
          checker.failures.push_back(checker.file + " unreadable response");
          continue;
        }
        for (const test::FetchItem& item : *items) checker.item(block.command, item);
      }
    }
    checks += checker.checks;
    if (checker.failures.empty()) ++passed;
    failures.insert(failures.end(), checker.failures.begin(), checker.failures.end());
    departures.insert(departures.end(), checker.departures.begin(), checker.departures.end());
  }
  for (const std::string& d : departures) MESSAGE("departure from the reference server: " << d);
  for (const std::string& f : failures) MESSAGE(f);
  MESSAGE("MIME corpus: " << passed << " of " << files.size() << " messages match in all " << checks
                          << " values compared");
  CHECK(failures.empty());
  CHECK(passed == files.size());
}

// The decoded text of the message's header fields named `name`, one per line.
std::string header_text(std::string_view message, const Part& root, std::string_view name) {
  std::string out;
  HeaderField field;
  for (size_t pos = root.offset, next = 0; pos < root.body_offset(); pos = next) {
    if (read_header_field(message, pos, field, next) != HeaderStep::kField) break;
    if (name.empty() || iequals(field.name, name)) out += decode_header_value(field.value) + "\n";
  }
  return out;
}

std::string body_text(std::string_view message, const Part& part) {
  if (part.children.empty()) return part_text_utf8(message, part) + "\n";
  std::string out;
  for (const Part& child : part.children) out += body_text(message, child);
  return out;
}

// The searches whose answers depend on decoding (RFC 2047 words, transfer encodings,
// charsets): decoded text must contain the search string exactly where the reference
// server found it. Comparing text is left to SEARCH itself; here only decoding is checked.
TEST_CASE("mime: decoded header values and bodies contain what the reference SEARCH found") {
  std::optional<std::filesystem::path> dir = test::corpus_dir();
  if (!dir) {
    MESSAGE("the shared corpus is missing: skipping the decoding check against SEARCH");
    return;
  }
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(*dir / "open")) {
    if (entry.path().extension() == ".eml") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  std::vector<std::string> messages;
  std::vector<MessageStructure> structures;
  for (const auto& path : files) {
    messages.push_back(normalize_line_endings(read_file(path)));
    structures.push_back(parse_message(messages.back()));
  }
  auto blocks = test::parse_expected(read_file(*dir / "open" / "search.expected"));
  REQUIRE(blocks);
  size_t compared = 0;
  for (const test::ExpectedBlock& block : *blocks) {
    const std::string prefix = "UID SEARCH CHARSET ";
    if (block.command.rfind(prefix, 0) != 0) continue;
    std::istringstream words(block.command.substr(prefix.size()));
    std::string charset, key, header;
    words >> charset >> key;
    if (key == "HEADER") words >> header;
    size_t literal = block.command.find("}\r\n");
    REQUIRE(literal != std::string::npos);
    auto needle = to_utf8(block.command.substr(literal + 3), charset);
    REQUIRE(needle);
    std::string found;
    for (size_t i = 0; i < messages.size(); ++i) {
      const std::string& m = messages[i];
      const Part& root = structures[i].root;
      std::string text;
      if (key == "SUBJECT" || key == "TO")
        text = header_text(m, root, key == "SUBJECT" ? "Subject" : "To");
      else if (key == "HEADER")
        text = header_text(m, root, header);
      else if (key == "BODY")
        text = body_text(m, root);
      else if (key == "TEXT")
        text = header_text(m, root, "") + body_text(m, root);
      else
        FAIL("unexpected search key " << key);
      if (text.find(*needle) != std::string::npos) found += " " + std::to_string(i + 1);
    }
    REQUIRE(!block.responses.empty());
    CHECK_MESSAGE("* SEARCH" + found == block.responses[0], block.command);
    ++compared;
  }
  CHECK(compared >= 5);
}

}  // namespace
}  // namespace chapar::mime
