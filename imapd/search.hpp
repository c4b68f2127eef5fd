// SPDX-License-Identifier: AGPL-3.0-or-later
// Evaluating a SEARCH program (RFC 9051 §6.4.4) against the messages of a mailbox. Flags,
// dates, sizes and sets come from the entry; header, body and text keys read the message
// from the store only when a key needs them, and compare decoded text (RFC 2047 words,
// transfer encodings and charsets undone) without regard to case, as Dovecot does. The
// values a header key compares are kept in the MessageCache, when there is one, for the
// next search of the same message.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "imapd/arguments.hpp"
#include "imapd/message_cache.hpp"
#include "libmailstore/mime/structure.hpp"
#include "libmailstore/store.hpp"

namespace chapar::imap {

// What sequence and UID sets in the program refer to.
struct SearchScope {
  uint32_t exists = 0;
  store::Uid last_uid = 0;
  std::vector<store::Uid> saved_result;  // "$"
};

// Where the compared values of header fields are kept across searches (none: each search
// reads the headers again), and the mailbox whose messages are searched.
struct SearchCache {
  MessageCache* cache = nullptr;
  store::MailboxId mailbox = 0;
  uint32_t uidvalidity = 0;
};

// Lower-cases UTF-8 text for comparisons (ASCII, Latin-1, Latin Extended-A, Greek and
// Cyrillic), leaving invalid sequences as they are.
std::string fold_case(std::string_view text);

class SearchMatcher {
 public:
  SearchMatcher(store::Store& store, const SearchKey& key, SearchScope scope,
                SearchCache cache = {});

  // Whether message `seq` with `entry` matches. When its content cannot be read, the answer
  // is false and error() says why.
  bool matches(uint32_t seq, const store::Entry& entry);
  const std::optional<Error>& error() const { return error_; }

 private:
  struct Field {
    std::string name;
    std::string raw;  // unfolded value as written
    // Decoded and case-folded, for comparisons; made when a key first looks at it.
    std::optional<std::string> folded;
    const std::string& text() {
      if (!folded) folded = fold_case(decode(raw));
      return *folded;
    }
    static std::string decode(const std::string& raw);
  };
  // What has been read of the current message.
  struct Message {
    const store::Entry* entry = nullptr;
    uint32_t seq = 0;
    std::optional<mime::MessageStructure> structure;
    std::optional<std::vector<Field>> headers;
    std::optional<std::string> body;  // decoded text of the body parts, case-folded
    std::optional<int64_t> sent_day;
  };

  bool eval(const SearchKey& key, Message& m);
  // HEADER (and SUBJECT, FROM, ...): whether a field of the key's name contains its text.
  bool header_matches(const SearchKey& key, Message& m);
  void prepare_sets(const SearchKey& key);
  const mime::MessageStructure* structure(Message& m);
  std::vector<Field>* headers(Message& m);
  // The key's search string, case-folded once.
  const std::string& needle(const SearchKey& key);
  const std::string* body(Message& m);
  int64_t sent_day(Message& m);

  store::Store& store_;
  const SearchKey& key_;
  SearchScope scope_;
  std::map<const SearchKey*, Intervals> sets_;
  std::map<const SearchKey*, std::string> needles_;
  std::map<const SearchKey*, std::string> field_names_;  // ASCII lower case, for the cache
  SearchCache cache_;
  std::optional<Error> error_;
};

}  // namespace chapar::imap
