// SPDX-License-Identifier: AGPL-3.0-or-later
#include "imapd/search.hpp"

#include <algorithm>

#include "common/text/ascii.hpp"
#include "common/text/date.hpp"
#include "common/text/utf8.hpp"
#include "libmailstore/mime/charset.hpp"
#include "libmailstore/mime/header_reader.hpp"

namespace chapar::imap {
namespace {

using Type = SearchKey::Type;

constexpr int64_t kSecondsPerDay = 86400;
// How much of a message is read first to find the end of its header.
constexpr uint64_t kHeaderProbe = 8192;

int64_t day_of(int64_t unix_seconds) {
  return unix_seconds >= 0 ? unix_seconds / kSecondsPerDay
                           : (unix_seconds - kSecondsPerDay + 1) / kSecondsPerDay;
}

uint32_t fold_code_point(uint32_t cp) {
  if (cp >= 'A' && cp <= 'Z') return cp + 32;
  if (cp < 0x80) return cp;
  if ((cp >= 0xc0 && cp <= 0xde && cp != 0xd7)) return cp + 32;  // Latin-1
  if (cp >= 0x100 && cp <= 0x17f && cp != 0x130 && cp != 0x138 && cp != 0x149) {
    // Latin Extended-A: pairs, upper case first (with two runs shifted by one).
    bool odd_upper = (cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17e);
    if (odd_upper ? (cp % 2 == 1) : (cp % 2 == 0)) return cp + 1;
    return cp;
  }
  if (cp >= 0x391 && cp <= 0x3ab && cp != 0x3a2) return cp + 32;  // Greek
  if (cp >= 0x410 && cp <= 0x42f) return cp + 32;                 // Cyrillic
  if (cp >= 0x400 && cp <= 0x40f) return cp + 80;
  return cp;
}

bool contains_folded(std::string_view haystack_folded, const std::string& needle_folded) {
  return haystack_folded.find(needle_folded) != std::string_view::npos;
}

}  // namespace

std::string fold_case(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      out.push_back(static_cast<char>(fold_code_point(c)));
      ++i;
      continue;
    }
    size_t len = (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
    bool valid = len != 0 && i + len <= text.size();
    uint32_t cp = len == 2 ? c & 0x1f : len == 3 ? c & 0x0f : c & 0x07;
    for (size_t k = 1; valid && k < len; ++k) {
      unsigned char cc = static_cast<unsigned char>(text[i + k]);
      if ((cc & 0xc0) != 0x80) valid = false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if (!valid) {
      out.push_back(static_cast<char>(c));
      ++i;
      continue;
    }
    text::append_utf8(out, fold_code_point(cp));
    i += len;
  }
  return out;
}

SearchMatcher::SearchMatcher(store::Store& store, const SearchKey& key, SearchScope scope,
                             SearchCache cache)
    : store_(store), key_(key), scope_(std::move(scope)), cache_(cache) {
  prepare_sets(key_);
}

void SearchMatcher::prepare_sets(const SearchKey& key) {
  if (key.type == Type::kSequence || key.type == Type::kUid) {
    Intervals intervals;
    if (key.set.saved_result) {
      for (store::Uid u : scope_.saved_result) intervals.emplace_back(u, u);
    } else {
      intervals = resolve(key.set, key.type == Type::kSequence ? scope_.exists : scope_.last_uid);
    }
    sets_[&key] = std::move(intervals);
  }
  if (key.type == Type::kHeader || key.type == Type::kBody || key.type == Type::kText) {
    needles_[&key] = fold_case(key.text);
  }
  if (key.type == Type::kHeader) field_names_[&key] = text::ascii_lowercase(key.field);
  for (const SearchKey& child : key.children) prepare_sets(child);
}

const std::string& SearchMatcher::needle(const SearchKey& key) {
  return needles_.at(&key);
}

bool SearchMatcher::matches(uint32_t seq, const store::Entry& entry) {
  Message m;
  m.entry = &entry;
  m.seq = seq;
  return eval(key_, m);
}

const mime::MessageStructure* SearchMatcher::structure(Message& m) {
  if (!m.structure) {
    auto blob = store_.structure(m.entry->message);
    if (!blob) {
      error_ = blob.error();
      return nullptr;
    }
    auto parsed = mime::deserialize(*blob);
    if (!parsed) {
      error_ = parsed.error();
      return nullptr;
    }
    m.structure = std::move(*parsed);
  }
  return &*m.structure;
}

std::string SearchMatcher::Field::decode(const std::string& raw) {
  return mime::decode_header_value(raw);
}

std::vector<SearchMatcher::Field>* SearchMatcher::headers(Message& m) {
  if (!m.headers) {
    // Most headers end within the first few kilobytes: read those and look for the empty
    // line, and ask the stored structure only for longer ones.
    auto header = store_.read(m.entry->message, 0, std::min<uint64_t>(m.entry->size, kHeaderProbe));
    if (!header) {
      error_ = header.error();
      return nullptr;
    }
    size_t end = header->starts_with("\r\n") ? 0 : header->find("\r\n\r\n");
    if (end != std::string::npos) {
      header->resize(end == 0 ? 2 : end + 4);
    } else if (header->size() < m.entry->size) {
      const mime::MessageStructure* s = structure(m);
      if (!s) return nullptr;
      header = store_.read(m.entry->message, s->root.offset, s->root.header_size);
      if (!header) {
        error_ = header.error();
        return nullptr;
      }
    }
    std::vector<Field> fields;
    size_t pos = 0;
    mime::HeaderField field;
    for (;;) {
      size_t next = 0;
      if (mime::read_header_field(*header, pos, field, next) != mime::HeaderStep::kField) break;
      if (field.has_colon) {
        fields.push_back(Field{std::string(field.name), field.value, std::nullopt});
      }
      pos = next;
    }
    m.headers = std::move(fields);
  }
  return &*m.headers;
}

const std::string* SearchMatcher::body(Message& m) {
  if (!m.body) {
    const mime::MessageStructure* s = structure(m);
    if (!s) return nullptr;
    auto content = store_.read(m.entry->message, 0, m.entry->size);
    if (!content) {
      error_ = content.error();
      return nullptr;
    }
    // The text of every text part and of every message part that is not parsed further
    // (message/partial, an encoded message/global), decoded. Other parts (images,
    // multiparts without parts) and the headers of parsed encapsulated messages are not
    // searched as body text, as Dovecot does not search them.
    std::string text;
    auto walk = [&](auto&& self, const mime::Part& part) -> void {
      if (!part.children.empty()) {
        for (const mime::Part& child : part.children) self(self, child);
        return;
      }
      const bool message = part.type && mime::iequals(*part.type, "message");
      if ((part.flags & mime::kPartText) == 0 && !message) return;
      text += mime::part_text_utf8(*content, part);
      text.push_back('\n');
    };
    walk(walk, s->root);
    m.body = fold_case(text);
  }
  return &*m.body;
}

int64_t SearchMatcher::sent_day(Message& m) {
  if (!m.sent_day) {
    // Without a usable Date: header the message counts as sent at the epoch; Dovecot does
    // not fall back to the internal date either.
    int64_t day = 0;
    if (const auto* fields = headers(m)) {
      for (const Field& f : *fields) {
        if (!mime::iequals(f.name, "Date")) continue;
        if (auto date = text::parse_rfc5322_date(f.raw)) {
          day = text::days_from_civil(text::civil_date(date->time, date->offset_minutes));
        }
        break;
      }
    }
    m.sent_day = day;
  }
  return *m.sent_day;
}

bool SearchMatcher::header_matches(const SearchKey& key, Message& m) {
  auto contains_needle = [&](const std::vector<std::string>& values) {
    return std::any_of(values.begin(), values.end(),
                       [&](const std::string& v) { return contains_folded(v, needle(key)); });
  };
  const MessageKey id{cache_.mailbox, cache_.uidvalidity, m.entry->uid};
  const std::string& name = field_names_.at(&key);
  if (cache_.cache) {
    if (const auto* kept = cache_.cache->field(id, name)) return contains_needle(*kept);
  }
  auto* fields = headers(m);
  if (!fields) return false;
  std::vector<std::string> values;
  for (Field& f : *fields) {
    if (mime::iequals(f.name, key.field)) values.push_back(f.text());
  }
  const bool found = contains_needle(values);
  if (cache_.cache) cache_.cache->add_field(id, name, std::move(values));
  return found;
}

bool SearchMatcher::eval(const SearchKey& key, Message& m) {
  const store::Entry& e = *m.entry;
  switch (key.type) {
    case Type::kAll:
      return true;
    case Type::kAnd:
      return std::all_of(key.children.begin(), key.children.end(),
                         [&](const SearchKey& k) { return eval(k, m); });
    case Type::kOr:
      return eval(key.children[0], m) || eval(key.children[1], m);
    case Type::kNot:
      return !eval(key.children[0], m);
    case Type::kSequence:
      return contains(sets_.at(&key), m.seq);
    case Type::kUid:
      return contains(sets_.at(&key), e.uid);
    case Type::kFlags:
      return (e.flags & key.flags) == key.flags;
    case Type::kNotFlags:
      return (e.flags & key.flags) == 0;
    case Type::kKeyword:
    case Type::kNotKeyword: {
      bool set = std::any_of(e.keywords.begin(), e.keywords.end(),
                             [&](const std::string& k) { return mime::iequals(k, key.text); });
      return key.type == Type::kKeyword ? set : !set;
    }
    case Type::kNew:
    case Type::kRecent:
      return false;  // \Recent is never set
    case Type::kOld:
      return true;
    case Type::kLarger:
      return e.size > static_cast<uint64_t>(key.number);
    case Type::kSmaller:
      return e.size < static_cast<uint64_t>(key.number);
    case Type::kModSeq:
      return e.modseq >= static_cast<uint64_t>(key.number);
    case Type::kBefore:
      return day_of(e.internal_date) < key.number;
    case Type::kOn:
      return day_of(e.internal_date) == key.number;
    case Type::kSince:
      return day_of(e.internal_date) >= key.number;
    case Type::kSentBefore:
      return sent_day(m) < key.number;
    case Type::kSentOn:
      return sent_day(m) == key.number;
    case Type::kSentSince:
      return sent_day(m) >= key.number;
    case Type::kHeader:
      return header_matches(key, m);
    case Type::kBody: {
      const std::string* text = body(m);
      return text && contains_folded(*text, needle(key));
    }
    case Type::kText: {
      auto* fields = headers(m);
      if (!fields) return false;
      for (Field& f : *fields) {
        if (contains_folded(fold_case(f.name) + ": " + f.text(), needle(key))) return true;
      }
      const std::string* text = body(m);
      return text && contains_folded(*text, needle(key));
    }
  }
  return false;
}

}  // namespace chapar::imap
