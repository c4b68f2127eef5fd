// SPDX-License-Identifier: AGPL-3.0-or-later
// SEARCH and UID SEARCH (RFC 9051 §6.4.4) with ESEARCH results (RFC 4731), SEARCHRES
// (RFC 5182) and MODSEQ (RFC 7162 §3.1.5).
#include <fmt/format.h>

#include "common/log.hpp"
#include "imapd/response.hpp"
#include "imapd/search.hpp"
#include "imapd/session.hpp"

namespace chapar::imap {

void Session::cmd_search(Command& command) {
  auto parsed = parse_search(command.args);
  if (std::holds_alternative<BadCharset>(parsed)) {
    return finish_no(fmt::format("BADCHARSET ({})", kSearchCharsets), "Unsupported charset.");
  }
  if (auto* bad = std::get_if<Invalid>(&parsed)) return finish_bad(bad->message + ".");
  const SearchRequest& request = std::get<SearchRequest>(parsed);
  if (request.uses_modseq) enable_condstore();

  auto entries = services_.store.entries(view_->id());
  if (!entries) return finish_store_error(entries.error(), "search");
  SearchScope scope{view_->exists(), view_->last_uid(), view_->saved_result};
  SearchMatcher matcher(services_.store, request.key, scope,
                        SearchCache{services_.cache, view_->id(), view_->mailbox().uidvalidity});
  std::vector<uint32_t> numbers;
  std::vector<store::Uid> uids;
  store::ModSeq highest = 0;
  size_t e = 0;
  for (uint32_t seq = 1; seq <= view_->exists(); ++seq) {
    const store::Uid uid = view_->uid(seq);
    while (e < entries->size() && (*entries)[e].uid < uid) ++e;
    if (e >= entries->size() || (*entries)[e].uid != uid) continue;  // expunged elsewhere
    if (!matcher.matches(seq, (*entries)[e])) continue;
    numbers.push_back(uid_command() ? uid : seq);
    uids.push_back(uid);
    highest = std::max(highest, (*entries)[e].modseq);
  }
  if (matcher.error()) return finish_store_error(*matcher.error(), "search");

  const uint32_t returns = request.extended ? request.returns : kReturnAll;
  if (returns & kReturnSave) {
    // RFC 5182 §2.4: with MIN or MAX but neither ALL nor COUNT, only those are saved.
    std::vector<store::Uid> saved;
    if (uids.empty() || (returns & (kReturnAll | kReturnCount)) ||
        !(returns & (kReturnMin | kReturnMax))) {
      saved = uids;
    } else {
      if (returns & kReturnMin) saved.push_back(uids.front());
      if ((returns & kReturnMax) && (saved.empty() || saved.back() != uids.back())) {
        saved.push_back(uids.back());
      }
    }
    view_->saved_result = std::move(saved);
  }

  const bool modseq = request.uses_modseq && !numbers.empty();
  if (request.extended || rev2_) {
    // RFC 5182 §2.4: RETURN (SAVE) alone answers nothing but the tagged OK.
    if (returns != kReturnSave) {
      std::string line = "ESEARCH (TAG ";
      append_quoted(line, current_.tag);
      line += ")";
      if (uid_command()) line += " UID";
      if ((returns & kReturnMin) && !numbers.empty())
        line += fmt::format(" MIN {}", numbers.front());
      if ((returns & kReturnMax) && !numbers.empty())
        line += fmt::format(" MAX {}", numbers.back());
      if (returns & kReturnCount) line += fmt::format(" COUNT {}", numbers.size());
      if ((returns & kReturnAll) && !numbers.empty())
        line += " ALL " + format_sequence_set(numbers);
      if (modseq) line += fmt::format(" MODSEQ {}", highest);
      untagged(line);
    }
  } else {
    std::string line = "SEARCH";
    for (uint32_t n : numbers) {
      line.push_back(' ');
      append_number(line, n);
    }
    if (modseq) line += fmt::format(" (MODSEQ {})", highest);
    untagged(line);
  }
  finish_ok("Search completed.");
}

}  // namespace chapar::imap
