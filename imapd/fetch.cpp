// SPDX-License-Identifier: AGPL-3.0-or-later
#include "imapd/fetch.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "imapd/mailbox_view.hpp"
#include "imapd/response.hpp"
#include "libmailstore/mime/decode.hpp"
#include "libmailstore/mime/imap_quote.hpp"
#include "libmailstore/mime/render.hpp"
#include "libmailstore/mime/section.hpp"

namespace chapar::imap {
namespace {

using Type = FetchItem::Type;

// Entries are read in batches of at most this many messages, spanning at most kBatchSpan
// UIDs (a sparse set does not read the messages between its members).
constexpr size_t kBatchSize = 256;
constexpr store::Uid kBatchSpan = 4096;
// A stored range is read at most this much at a time.
constexpr uint64_t kReadChunk = 256 * 1024;

mime::SectionSpec to_spec(const Section& section) {
  mime::SectionSpec spec;
  spec.path = section.part;
  spec.fields = section.fields;
  switch (section.text) {
    case Section::Text::kNone:
      spec.kind = mime::SectionSpec::Kind::kFull;
      break;
    case Section::Text::kHeader:
      spec.kind = mime::SectionSpec::Kind::kHeader;
      break;
    case Section::Text::kHeaderFields:
      spec.kind = mime::SectionSpec::Kind::kHeaderFields;
      break;
    case Section::Text::kHeaderFieldsNot:
      spec.kind = mime::SectionSpec::Kind::kHeaderFieldsNot;
      break;
    case Section::Text::kText:
      spec.kind = mime::SectionSpec::Kind::kText;
      break;
    case Section::Text::kMime:
      spec.kind = mime::SectionSpec::Kind::kMime;
      break;
  }
  return spec;
}

bool has_item(const std::vector<FetchItem>& items, Type type) {
  return std::any_of(items.begin(), items.end(),
                     [&](const FetchItem& i) { return i.type == type; });
}

// Room for a typical response of one message (FLAGS and an ENVELOPE), so that it is
// allocated once.
constexpr size_t kResponseReserve = 512;

constexpr std::string_view kInternalError =
    "Internal error occurred. Refer to server log for more information.";

}  // namespace

FetchJob::FetchJob(store::Store& store, store::MailboxId mailbox, std::vector<FetchTarget> targets,
                   FetchRequest request, FetchOptions options)
    : store_(store),
      mailbox_(mailbox),
      targets_(std::move(targets)),
      request_(std::move(request)),
      options_(std::move(options)) {
  // The answer's order: UID first (always for UID FETCH, RFC 9051 §6.4.9), then the items
  // as asked, then MODSEQ where RFC 7162 wants it without being asked.
  std::vector<FetchItem> items;
  if (options_.uid_command || has_item(request_.items, Type::kUid)) {
    FetchItem uid;
    uid.type = Type::kUid;
    items.push_back(uid);
  }
  for (FetchItem& item : request_.items) {
    if (item.type == Type::kUid) continue;
    // Asked twice, answered once.
    if (item.type != Type::kSection && item.type != Type::kBinary &&
        item.type != Type::kBinarySize && has_item(items, item.type)) {
      continue;
    }
    items.push_back(std::move(item));
  }
  wants_flags_ = has_item(items, Type::kFlags);
  // RFC 7162 §3.1.4.1: CHANGEDSINCE implies MODSEQ; §3.1: with CONDSTORE enabled, flags
  // come with their MODSEQ.
  if (!has_item(items, Type::kModSeq) &&
      (request_.changed_since || (options_.condstore && wants_flags_))) {
    FetchItem modseq;
    modseq.type = Type::kModSeq;
    items.push_back(modseq);
  }
  wants_modseq_ = has_item(items, Type::kModSeq);
  request_.items = std::move(items);
}

void FetchJob::fail(std::string code, std::string text) {
  failed_ = true;
  failure_code_ = std::move(code);
  failure_text_ = std::move(text);
}

bool FetchJob::load_batch() {
  const size_t start = next_;
  size_t end = start;
  const store::Uid first = targets_[start].uid;
  while (end < targets_.size() && end - start < kBatchSize &&
         targets_[end].uid - first < kBatchSpan) {
    ++end;
  }
  auto entries = store_.entries_in(mailbox_, first, targets_[end - 1].uid);
  if (!entries) {
    fail("SERVERBUG", std::string(kInternalError));
    return false;
  }
  batch_ = std::move(*entries);
  batch_pos_ = 0;
  batch_end_ = end;
  return true;
}

const mime::MessageStructure* FetchJob::structure(const store::Entry& entry) {
  if (loaded_structure_for_ != entry.message || !structure_) {
    structure_.reset();
    loaded_structure_for_ = entry.message;
    auto blob = store_.structure(entry.message);
    if (!blob) return nullptr;
    auto parsed = mime::deserialize(*blob);
    if (!parsed) return nullptr;
    structure_ = std::move(*parsed);
  }
  return &*structure_;
}

const std::string* FetchJob::content(const store::Entry& entry) {
  if (loaded_content_for_ != entry.message || !content_) {
    content_.reset();
    loaded_content_for_ = entry.message;
    auto bytes = store_.read(entry.message, 0, entry.size);
    if (!bytes) return nullptr;
    content_ = std::move(*bytes);
  }
  return &*content_;
}

FetchJob::Status FetchJob::run(std::string& out, size_t budget) {
  while (out.size() < budget) {
    if (!pieces_.empty()) {
      Piece& piece = pieces_.front();
      if (piece.length == 0) {
        out += piece.text;
        pieces_.pop_front();
        continue;
      }
      auto data = store_.read(piece.message, piece.offset, std::min(piece.length, kReadChunk));
      if (!data || data->empty()) {
        // The literal's size is already sent: the conversation cannot be kept in step.
        broken_ = true;
        fail("SERVERBUG", std::string(kInternalError));
        return Status::kFailed;
      }
      // Stored content rarely holds NUL; only then is it copied to replace them.
      if (data->find('\0') == std::string::npos) {
        out += *data;
      } else {
        out += mime::replace_nuls(*data);
      }
      piece.offset += data->size();
      piece.length -= std::min<uint64_t>(piece.length, data->size());
      if (piece.length == 0) pieces_.pop_front();
      continue;
    }
    if (failed_) return Status::kFailed;
    if (next_ >= targets_.size()) return Status::kDone;
    if (next_ >= batch_end_ && !load_batch()) return Status::kFailed;
    const FetchTarget& target = targets_[next_++];
    while (batch_pos_ < batch_.size() && batch_[batch_pos_].uid < target.uid) ++batch_pos_;
    if (batch_pos_ >= batch_.size() || batch_[batch_pos_].uid != target.uid) {
      ++missing_;
      continue;
    }
    const store::Entry& entry = batch_[batch_pos_];
    // RFC 7162 §3.1.4.1: only what changed after the given MODSEQ.
    if (request_.changed_since && entry.modseq <= *request_.changed_since) continue;
    render(target, entry);
  }
  return Status::kMore;
}

bool FetchJob::render(const FetchTarget& target, const store::Entry& entry) {
  std::string text;
  text.reserve(kResponseReserve);
  text += "* ";
  append_number(text, target.seq);
  text += " FETCH (";
  bool first = true;
  auto next_item = [&] {
    if (!first) text.push_back(' ');
    first = false;
  };
  auto close_failed = [&] {
    text += ")\r\n";
    pieces_.push_back(Piece{std::move(text)});
    return false;
  };
  bool flags_sent = false;
  for (const FetchItem& item : request_.items) {
    switch (item.type) {
      case Type::kUid:
        next_item();
        text += "UID ";
        append_number(text, entry.uid);
        break;
      case Type::kFlags:
        next_item();
        text += "FLAGS ";
        append_flag_list(text, entry);
        flags_sent = true;
        break;
      case Type::kInternalDate:
        next_item();
        text += fmt::format("INTERNALDATE \"{}\"", format_date_time(entry.internal_date));
        break;
      case Type::kRfc822Size:
        next_item();
        text += fmt::format("RFC822.SIZE {}", entry.size);
        break;
      case Type::kModSeq:
        // With \Seen set by this FETCH, MODSEQ follows the FLAGS added below.
        if (options_.seen_set.count(entry.uid) && !wants_flags_) break;
        next_item();
        text += fmt::format("MODSEQ ({})", entry.modseq);
        break;
      case Type::kEnvelope: {
        const std::string* envelope = this->envelope(entry);
        if (!envelope) {
          fail("SERVERBUG", std::string(kInternalError));
          return close_failed();
        }
        next_item();
        text += "ENVELOPE ";
        text += *envelope;
        break;
      }
      case Type::kBodyStructure:
      case Type::kBody: {
        const mime::MessageStructure* s = structure(entry);
        if (!s) {
          fail("SERVERBUG", std::string(kInternalError));
          return close_failed();
        }
        next_item();
        if (item.type == Type::kBodyStructure) {
          text += "BODYSTRUCTURE " + mime::render_bodystructure(*s, true);
        } else {
          text += "BODY " + mime::render_bodystructure(*s, false);
        }
        break;
      }
      case Type::kSection:
        next_item();
        if (!render_section(item, entry, text)) return close_failed();
        break;
      case Type::kBinary:
      case Type::kBinarySize: {
        // Rendered before it is written, so that a failure leaves the response as it was.
        std::string value;
        if (!render_binary(item, entry, value)) return close_failed();
        next_item();
        text += value;
        break;
      }
    }
  }
  if (options_.seen_set.count(entry.uid) && !flags_sent) {
    // RFC 9051 §6.4.5: \Seen set by this FETCH is told in the same response.
    next_item();
    text += "FLAGS ";
    append_flag_list(text, entry);
    flags_sent = true;
    if (options_.condstore || wants_modseq_) text += fmt::format(" MODSEQ ({})", entry.modseq);
  }
  if (flags_sent || wants_modseq_) reported_.emplace_back(entry.uid, entry.modseq);
  text += ")\r\n";
  pieces_.push_back(Piece{std::move(text)});
  return true;
}

const std::string* FetchJob::envelope(const store::Entry& entry) {
  const MessageKey key{mailbox_, options_.uidvalidity, entry.uid};
  if (options_.cache) {
    if (const std::string* kept = options_.cache->envelope(key)) return kept;
  }
  const mime::MessageStructure* s = structure(entry);
  if (!s) return nullptr;
  envelope_ = mime::render_envelope(s->envelope());
  if (options_.cache) options_.cache->add_envelope(key, envelope_);
  return &envelope_;
}

bool FetchJob::render_section(const FetchItem& item, const store::Entry& entry, std::string& text) {
  const mime::SectionSpec spec = to_spec(item.section);
  mime::SectionRange range;
  if (spec.path.empty() && spec.kind == mime::SectionSpec::Kind::kFull) {
    // BODY[] is the whole message, as long as the entry says: no structure is needed.
    range.found = true;
    range.length = entry.size;
  } else {
    const mime::MessageStructure* s = structure(entry);
    if (!s) {
      fail("SERVERBUG", std::string(kInternalError));
      return false;
    }
    range = mime::find_section(*s, spec);
  }
  text += fetch_item_name(item);
  text.push_back(' ');
  if (!range.found) {
    // A part that is not there (the placeholder of an empty multipart, a number past the
    // last part) is empty, as Dovecot answers.
    text += "{0}\r\n";
    return true;
  }
  if (range.filter) {
    auto header = store_.read(entry.message, range.offset, range.length);
    if (!header) {
      fail("SERVERBUG", std::string(kInternalError));
      return false;
    }
    std::string fields = mime::filter_header_fields(
        *header, spec.fields, spec.kind == mime::SectionSpec::Kind::kHeaderFieldsNot);
    std::string_view shown = fields;
    if (item.partial) shown = mime::partial(fields, item.partial->first, item.partial->second);
    append_literal(text, shown);
    return true;
  }
  uint64_t offset = range.offset;
  uint64_t length = range.length;
  if (item.partial) {
    const auto [origin, count] = *item.partial;
    length = origin >= length ? 0 : std::min(count, length - origin);
    offset += origin;
  }
  text += fmt::format("{{{}}}\r\n", length);
  if (length > 0) {
    pieces_.push_back(Piece{std::move(text)});
    pieces_.push_back(Piece{std::string(), entry.message, offset, length});
    text.clear();
  }
  return true;
}

bool FetchJob::render_binary(const FetchItem& item, const store::Entry& entry, std::string& text) {
  const mime::MessageStructure* s = structure(entry);
  const std::string* message = s ? content(entry) : nullptr;
  if (!s || !message) {
    fail("SERVERBUG", std::string(kInternalError));
    return false;
  }
  const mime::Part* part = mime::find_part(*s, item.section.part);
  const bool include_header = item.section.part.empty();
  if (!part) {
    // As for BODY[]: a part that is not there is empty.
    text += fetch_item_name(item) + (item.type == Type::kBinarySize ? " 0" : " {0}\r\n");
    return true;
  }
  if (item.type == Type::kBinarySize) {
    mime::BinarySize size = mime::binary_size(*message, *s, *part, include_header);
    if (size.error) {
      fail(std::string(mime::decode_error_code(*size.error)),
           *size.error == mime::DecodeError::kUnknownEncoding ? "Unknown Content-Transfer-Encoding."
                                                              : "Invalid data in MIME part.");
      return false;
    }
    text += fmt::format("{} {}", fetch_item_name(item), size.size);
    return true;
  }
  mime::Decoded decoded = mime::binary_section(*message, *s, *part, include_header);
  if (!decoded.ok()) {
    // RFC 3516 §4.3: content that cannot be decoded is refused, UNKNOWN-CTE when the
    // encoding is unknown. (Dovecot drops the connection for base64 cut off inside a
    // quantum; refusing it like other undecodable data keeps the session usable.)
    fail(std::string(mime::decode_error_code(*decoded.error)),
         *decoded.error == mime::DecodeError::kUnknownEncoding
             ? "Unknown Content-Transfer-Encoding."
             : "Invalid data in MIME part.");
    return false;
  }
  std::string_view shown = decoded.data;
  if (item.partial) shown = mime::partial(shown, item.partial->first, item.partial->second);
  text += fetch_item_name(item) + " ";
  // RFC 3516 §4.2: literal8 only when the data holds NUL.
  if (shown.find('\0') != std::string_view::npos) {
    text += fmt::format("~{{{}}}\r\n", shown.size());
    text.append(shown);
  } else {
    append_literal(text, shown);
  }
  return true;
}

}  // namespace chapar::imap
