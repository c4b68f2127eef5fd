// SPDX-License-Identifier: AGPL-3.0-or-later
// The MIME tree of a message (RFC 2045, RFC 2046 §5): one pass over the bytes with an
// explicit state instead of recursion; the tree is assembled at the end, no deeper than
// ParseLimits::max_nesting.
//
// Parts are kept in a flat list while parsing. A part is "open" from its first header octet
// until the boundary line (or the end of the message) that closes it; every octet that is
// read while a part is open belongs to it, so the sizes of the parts always add up and no
// content is ever lost, whatever the boundaries do.
#include <algorithm>
#include <optional>

#include "libmailstore/mime/header_reader.hpp"
#include "libmailstore/mime/part_fields.hpp"
#include "libmailstore/mime/rfc822_reader.hpp"
#include "libmailstore/mime/structure.hpp"

namespace chapar::mime {
namespace {

// RFC 2046 §5.1.1 allows 70 characters; a little more is tolerated, the rest is cut.
constexpr size_t kBoundaryMaxLength = 70 + 10;
constexpr size_t kBoundaryLineMaxLength = kBoundaryMaxLength + 2 + 2;

struct Node {
  Part part;
  int parent = -1;
  std::vector<int> children;
  uint32_t depth = 0;
  uint64_t end = 0;  // how far the part has been read
};

struct Boundary {
  std::string text;
  int part = -1;
  bool closing = false;  // the last line found was the close delimiter "--text--"
};

enum class State { kHeader, kBodyToBoundary, kBodyToEnd, kDone };

class MimeParser {
 public:
  MimeParser(std::string_view data, const ParseLimits& limits) : data_(data), limits_(limits) {
    limits_.max_nesting = std::min(limits_.max_nesting, kMaxNesting);
  }

  MessageStructure run() {
    cur_ = new_part(-1, 0, false);
    nodes_[0].part.envelope = Envelope{};
    while (state_ != State::kDone) {
      switch (state_) {
        case State::kHeader:
          parse_header();
          break;
        case State::kBodyToBoundary:
          body_to_boundary();
          break;
        case State::kBodyToEnd:
          pos_ = data_.size();
          nodes_[cur_].end = pos_;
          state_ = State::kDone;
          break;
        case State::kDone:
          break;
      }
    }
    while (cur_ >= 0) cur_ = finish(cur_);
    index_lines();
    MessageStructure structure;
    structure.size = data_.size();
    structure.root = build(0);
    return structure;
  }

 private:
  int new_part(int parent, uint64_t offset, bool is_mime) {
    Node node;
    node.parent = parent;
    node.part.offset = offset;
    node.end = offset;
    if (is_mime) node.part.flags |= kPartIsMime;
    if (parent >= 0) node.depth = nodes_[parent].depth + 1;
    ++total_parts_;
    if (total_parts_ >= limits_.max_parts) {
      // Enough parts: whatever follows is the content of this one.
      node.part.flags |= kPartOverflow;
      overflow_ = true;
      boundaries_.clear();
    }
    nodes_.push_back(std::move(node));
    int index = static_cast<int>(nodes_.size()) - 1;
    if (parent >= 0) nodes_[parent].children.push_back(index);
    return index;
  }

  // Closes a part; returns its parent, which now also holds everything the part held.
  int finish(int index) {
    int parent = nodes_[index].parent;
    if (parent >= 0) nodes_[parent].end = std::max(nodes_[parent].end, nodes_[index].end);
    return parent;
  }

  bool too_deep(int index) const {
    return overflow_ || nodes_[index].depth + 1 >= limits_.max_nesting;
  }

  // A line "--boundary" of an open multipart (RFC 2046 §5.1.1). The newest boundary wins,
  // and of boundaries that are prefixes of the line, the longest.
  std::optional<size_t> find_boundary(size_t line_start) {
    if (boundaries_.empty() || data_.size() - line_start < 2) return std::nullopt;
    if (data_[line_start] != '-' || data_[line_start + 1] != '-') return std::nullopt;
    size_t text = line_start + 2;
    size_t rest = data_.size() - text;
    size_t lf = data_.find('\n', text);
    size_t find_size = rest;
    if (lf != std::string_view::npos) {
      find_size = lf - text;
      if (find_size > 0 && data_[text + find_size - 1] == '\r') --find_size;
    } else if (find_size > kBoundaryLineMaxLength) {
      find_size = kBoundaryLineMaxLength;
    }
    std::optional<size_t> best;
    for (size_t i = boundaries_.size(); i-- > 0;) {
      const std::string& b = boundaries_[i].text;
      if (b.size() <= find_size && data_.compare(text, b.size(), b) == 0 &&
          (!best || boundaries_[*best].text.size() < b.size())) {
        best = i;
        if (b.size() == find_size) break;
      }
    }
    if (!best) return std::nullopt;
    size_t len = boundaries_[*best].text.size();
    boundaries_[*best].closing =
        rest >= len + 2 && data_[text + len] == '-' && data_[text + len + 1] == '-';
    return best;
  }

  void parse_header() {
    Node& node = nodes_[cur_];
    const int index = cur_;
    const int parent = node.parent;
    const bool wants_envelope = parent < 0 || nodes_[parent].part.is_message();
    if (wants_envelope) node.part.envelope = node.part.envelope.value_or(Envelope{});
    bool seen_content_type = false;
    bool has_nuls = false;
    bool multipart = false;
    bool seen_end = false;
    std::optional<std::string> boundary;
    size_t prev_newline = 0;
    size_t header_end = 0;
    HeaderField field;
    for (;;) {
      Part& part = nodes_[index].part;
      if (boundary && (part.flags & kPartIsMime) && is_blank_line(data_, pos_)) {
        // The multipart's own boundary is known before its body begins, so that a body
        // line can be told apart from the boundary of an enclosing part.
        if (!too_deep(index)) {
          boundaries_.push_back(Boundary{std::move(*boundary), index});
          multipart = true;
        } else {
          part.flags &= ~kPartMultipart;
        }
        boundary.reset();
      }
      if (pos_ < data_.size()) {
        // A part whose own boundary follows its header directly is not cut short by it.
        std::optional<size_t> found = find_boundary(pos_);
        if (found && boundaries_[*found].part != index) {
          // A boundary line ends the header; the line end before it belongs to the
          // boundary (RFC 2046 §5.1.1), so it moves to the enclosing part.
          header_end = pos_ - prev_newline;
          if (parent >= 0) nodes_[parent].end = std::max(nodes_[parent].end, pos_);
          break;
        }
      }
      if (seen_end) {
        header_end = pos_;
        break;
      }
      size_t next = 0;
      HeaderStep step = read_header_field(data_, pos_, field, next);
      if (step == HeaderStep::kEnd) {
        header_end = pos_;
        break;
      }
      if (step == HeaderStep::kEndOfHeader) {
        // The line after the empty line is looked at once more: when a boundary follows
        // at once, the empty line is the line end before that boundary.
        prev_newline = next - pos_;
        pos_ = next;
        seen_end = true;
        continue;
      }
      prev_newline = field.newline_size;
      pos_ = next;
      if (field.has_nuls) has_nuls = true;
      if (iequals(field.name, "MIME-Version")) {
        part.flags |= kPartIsMime;
      } else if (iequals(field.name, "Content-Type")) {
        part.flags |= kPartIsMime;
        if (!seen_content_type) {
          seen_content_type = true;
          classify_content_type(part, field.value, boundary);
        }
      }
      apply_content_field(part, field);
      if (wants_envelope) apply_envelope_field(*part.envelope, field);
    }

    Node& done = nodes_[index];
    Part& part = done.part;
    part.header_size = header_end - part.offset;
    done.end = header_end;
    if (!(part.flags & kPartIsMime)) {
      // RFC 2045 §4: without MIME-Version (or at least a Content-Type) nothing Content-*
      // applies. Keep only the overflow mark.
      part.flags &= kPartOverflow;
      clear_content_fields(part);
    }
    if (!seen_content_type || !(part.flags & kPartIsMime)) {
      // RFC 2046 §5.1.5: in a digest the default is message/rfc822; elsewhere text/plain.
      if (parent >= 0 && (nodes_[parent].part.flags & kPartDigest))
        part.flags |= kPartMessageRfc822;
      else
        part.flags |= kPartText;
    }
    if (has_nuls) part.flags |= kPartHasNuls;

    if (multipart) {
      state_ = State::kBodyToBoundary;
    } else if (part.is_message() && !too_deep(index)) {
      // The encapsulated message begins right after this part's header.
      cur_ = new_part(index, header_end, false);
      state_ = State::kHeader;
    } else {
      part.flags &= ~kPartMessageRfc822;
      state_ = boundaries_.empty() ? State::kBodyToEnd : State::kBodyToBoundary;
    }
  }

  void classify_content_type(Part& part, std::string_view value,
                             std::optional<std::string>& boundary) {
    Rfc822Reader reader(value);
    reader.skip_lwsp();
    std::string type;
    int ret = reader.parse_content_type(type);
    std::string_view t = type;
    if (iequals(t, "message/rfc822")) {
      part.flags |= kPartMessageRfc822;
    } else if (istarts_with(t, "text") && (t.size() == 4 || t[4] == '/')) {
      part.flags |= kPartText;
    } else if (istarts_with(t, "multipart/")) {
      part.flags |= kPartMultipart;
      if (iequals(t.substr(10), "digest")) part.flags |= kPartDigest;
    }
    if (ret < 0 || !(part.flags & kPartMultipart)) return;
    for (const Param& param : parse_mime_params(reader)) {
      if (iequals(param.name, "boundary")) {
        boundary = param.value.substr(0, kBoundaryMaxLength);
        break;
      }
    }
  }

  void body_to_boundary() {
    // A boundary on the very first line has no line end before it.
    if (pos_ < data_.size()) {
      if (std::optional<size_t> found = find_boundary(pos_)) {
        close_at_boundary(*found, pos_);
        return;
      }
    }
    size_t scan = pos_;
    for (;;) {
      size_t lf = data_.find('\n', scan);
      if (lf == std::string_view::npos || lf + 1 >= data_.size()) break;
      if (std::optional<size_t> found = find_boundary(lf + 1)) {
        size_t line_end = lf;
        if (lf > pos_ && data_[lf - 1] == '\r') --line_end;
        nodes_[cur_].end = std::max(nodes_[cur_].end, static_cast<uint64_t>(line_end));
        close_at_boundary(*found, lf + 1);
        return;
      }
      scan = lf + 1;
    }
    pos_ = data_.size();
    nodes_[cur_].end = pos_;
    state_ = State::kDone;
  }

  void close_at_boundary(size_t found, size_t line_start) {
    Boundary boundary = boundaries_[found];
    while (cur_ != boundary.part) cur_ = finish(cur_);
    // A close delimiter ends its multipart; any boundary line forgets the inner ones.
    boundaries_.resize(boundary.closing ? found : found + 1);
    size_t after = line_start + 2 + boundary.text.size() + (boundary.closing ? 2 : 0);
    size_t lf = data_.find('\n', after);
    if (lf == std::string_view::npos) {
      pos_ = data_.size();
      nodes_[cur_].end = pos_;
      state_ = State::kDone;
      return;
    }
    pos_ = lf + 1;
    nodes_[cur_].end = pos_;
    if (boundaries_.empty() || boundaries_.back().part != cur_) {
      // Epilogue (RFC 2046 §5.1.1): the rest belongs to the multipart.
      state_ = boundaries_.empty() ? State::kBodyToEnd : State::kBodyToBoundary;
      return;
    }
    cur_ = new_part(cur_, pos_, true);
    state_ = State::kHeader;
  }

  void index_lines() {
    for (size_t i = data_.find('\n'); i != std::string_view::npos; i = data_.find('\n', i + 1))
      newlines_.push_back(i);
  }

  uint32_t count_lines(uint64_t from, uint64_t to) const {
    auto first = std::lower_bound(newlines_.begin(), newlines_.end(), from);
    auto last = std::lower_bound(newlines_.begin(), newlines_.end(), to);
    return static_cast<uint32_t>(last - first);
  }

  Part build(int index) {
    Node& node = nodes_[index];
    Part part = std::move(node.part);
    part.body_size = node.end - part.body_offset();
    part.header_lines = count_lines(part.offset, part.body_offset());
    part.body_lines = count_lines(part.body_offset(), node.end);
    for (int child : node.children) part.children.push_back(build(child));
    return part;
  }

  std::string_view data_;
  ParseLimits limits_;
  std::vector<Node> nodes_;
  std::vector<Boundary> boundaries_;
  std::vector<uint64_t> newlines_;
  size_t pos_ = 0;
  int cur_ = -1;
  uint32_t total_parts_ = 0;
  bool overflow_ = false;
  State state_ = State::kHeader;
};

}  // namespace

const Envelope& MessageStructure::envelope() const {
  static const Envelope kEmpty;
  return root.envelope ? *root.envelope : kEmpty;
}

std::string normalize_line_endings(std::string_view raw) {
  std::string out;
  out.reserve(raw.size() + raw.size() / 32);
  for (size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c == '\n') {
      if (i == 0 || raw[i - 1] != '\r') out.push_back('\r');
      out.push_back('\n');
    } else if (c == '\r' && i + 1 == raw.size()) {
      // A CR at the very end can never become a line end: drop it.
    } else {
      out.push_back(c);
    }
  }
  return out;
}

MessageStructure parse_message(std::string_view message, const ParseLimits& limits) {
  return MimeParser(message, limits).run();
}

}  // namespace chapar::mime
