// SPDX-License-Identifier: AGPL-3.0-or-later
// LIST (RFC 9051 §6.3.9) with LIST-EXTENDED selection and return options (RFC 5258),
// SPECIAL-USE (RFC 6154), CHILDREN and LIST-STATUS (RFC 5819); LSUB for IMAP4rev1
// (RFC 3501 §6.3.9).
#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

#include "common/text/ascii.hpp"
#include "imapd/response.hpp"
#include "imapd/session.hpp"

namespace chapar::imap {
namespace {

constexpr char kSeparator = '/';

// RFC 9051 §6.3.9: "*" matches anything, "%" anything but the separator. The first
// `ci` octets of the name ("INBOX") compare without regard to case.
bool matches(std::string_view pattern, std::string_view name, size_t ci) {
  const size_t p = pattern.size(), n = name.size();
  // reach[j]: the name's first j octets can be matched by the pattern read so far.
  std::vector<char> reach(n + 1, 0), next(n + 1, 0);
  reach[0] = 1;
  for (size_t i = 0; i < p; ++i) {
    std::fill(next.begin(), next.end(), 0);
    char pc = pattern[i];
    for (size_t j = 0; j <= n; ++j) {
      if (!reach[j]) continue;
      if (pc == '*' || pc == '%') {
        for (size_t k = j; k <= n; ++k) {
          next[k] = 1;
          if (k < n && pc == '%' && name[k] == kSeparator) break;
        }
      } else if (j < n &&
                 (j < ci ? text::ascii_lower(name[j]) == text::ascii_lower(pc) : name[j] == pc)) {
        next[j + 1] = 1;
      }
    }
    reach.swap(next);
  }
  return reach[n] != 0;
}

size_t inbox_prefix(std::string_view name) {
  return name.size() >= 5 && iequals(name.substr(0, 5), "INBOX") &&
                 (name.size() == 5 || name[5] == kSeparator)
             ? 5
             : 0;
}

// Every name to consider: the mailboxes and the levels above them that do not exist
// (deleting a parent leaves its inferiors, RFC 9051 §6.3.5). INBOX first, then by name.
struct Tree {
  std::map<std::string, const store::Mailbox*> names;

  explicit Tree(const std::vector<store::Mailbox>& mailboxes) {
    for (const store::Mailbox& m : mailboxes) {
      names[m.name] = &m;
      for (size_t pos = m.name.find(kSeparator); pos != std::string::npos;
           pos = m.name.find(kSeparator, pos + 1)) {
        names.emplace(m.name.substr(0, pos), nullptr);
      }
    }
  }

  std::vector<std::string> ordered() const {
    std::vector<std::string> out;
    if (names.count("INBOX")) out.push_back("INBOX");
    for (const auto& [name, mailbox] : names) {
      if (name != "INBOX") out.push_back(name);
    }
    return out;
  }

  bool has_children(const std::string& name) const {
    std::string prefix = name + kSeparator;
    auto it = names.lower_bound(prefix);
    return it != names.end() && it->first.starts_with(prefix);
  }

  bool has_subscribed_child(const std::string& name) const {
    std::string prefix = name + kSeparator;
    for (auto it = names.lower_bound(prefix); it != names.end() && it->first.starts_with(prefix);
         ++it) {
      if (it->second && it->second->subscribed) return true;
    }
    return false;
  }
};

}  // namespace

void Session::cmd_list(Command& command) {
  auto parsed = parse_list(command.args);
  if (auto* bad = std::get_if<Invalid>(&parsed)) return finish_bad(bad->message + ".");
  const ListRequest& req = std::get<ListRequest>(parsed);

  std::optional<std::string> reference = decode_mailbox_name(req.reference, utf8_);
  if (!reference) return finish_bad("Invalid reference.");
  std::vector<std::string> patterns;
  for (const std::string& p : req.patterns) {
    std::optional<std::string> decoded = decode_mailbox_name(p, utf8_);
    if (!decoded) return finish_bad("Invalid mailbox pattern.");
    std::string full = *reference + *decoded;
    if (!full.empty()) patterns.push_back(std::move(full));
  }
  if (patterns.empty() && !req.extended) {
    // RFC 9051 §6.3.9: LIST "" "" asks for the hierarchy separator.
    untagged("LIST (\\Noselect) \"/\" \"\"");
    return finish_ok("List completed.");
  }
  if (req.return_status & kStatusHighestModSeq) enable_condstore();

  auto mailboxes = services_.store.list_mailboxes(account_->id);
  if (!mailboxes) return finish_store_error(mailboxes.error(), "list");
  Tree tree(*mailboxes);
  const bool nonexistent_attr = req.extended || rev2_;
  for (const std::string& name : tree.ordered()) {
    const size_t ci = inbox_prefix(name);
    if (!std::any_of(patterns.begin(), patterns.end(),
                     [&](const std::string& p) { return matches(p, name, ci); })) {
      continue;
    }
    const store::Mailbox* mailbox = tree.names.at(name);
    const bool subscribed = mailbox && mailbox->subscribed;
    bool child_info = false;
    if (req.select_subscribed && !subscribed) {
      // RFC 5258 §3.5: with RECURSIVEMATCH, a parent of a subscribed mailbox is listed
      // with CHILDINFO even when not subscribed itself.
      if (!req.recursive_match || !tree.has_subscribed_child(name)) continue;
      child_info = true;
    }
    if (req.select_special_use && (!mailbox || mailbox->special_use == store::SpecialUse::kNone)) {
      continue;
    }
    std::string attrs;
    auto add = [&](std::string_view a) {
      if (!attrs.empty()) attrs.push_back(' ');
      attrs.append(a);
    };
    if (!mailbox) add(nonexistent_attr ? "\\NonExistent" : "\\Noselect");
    // RFC 3348 / RFC 5258 §4: CHILDREN attributes, always given.
    add(tree.has_children(name) ? "\\HasChildren" : "\\HasNoChildren");
    if (mailbox) {
      std::string_view use = store::special_use_attribute(mailbox->special_use);
      if (!use.empty()) add(use);
    }
    if (subscribed && (req.return_subscribed || req.select_subscribed)) add("\\Subscribed");
    std::string line = fmt::format("LIST ({}) \"/\" ", attrs);
    append_mailbox(line, name, utf8_);
    if (child_info) line += " (\"CHILDINFO\" (\"SUBSCRIBED\"))";
    untagged(line);
    if (req.return_status && mailbox) {
      // RFC 5819 §2: the STATUS response follows the LIST response.
      auto status = status_response(*mailbox, req.return_status);
      if (status) untagged(*status);
    }
  }
  finish_ok("List completed.");
}

void Session::cmd_lsub(Command& command) {
  if (command.args.size() != 2 || !command.args[0].is_astring() || !command.args[1].is_astring()) {
    return finish_bad("LSUB takes a reference and a pattern.");
  }
  std::optional<std::string> reference = decode_mailbox_name(command.args[0].value, utf8_);
  std::optional<std::string> pattern = decode_mailbox_name(command.args[1].value, utf8_);
  if (!reference || !pattern) return finish_bad("Invalid mailbox pattern.");
  std::string full = *reference + *pattern;
  if (full.empty()) {
    untagged("LSUB (\\Noselect) \"/\" \"\"");
    return finish_ok("Lsub completed.");
  }
  auto mailboxes = services_.store.list_mailboxes(account_->id);
  if (!mailboxes) return finish_store_error(mailboxes.error(), "lsub");
  Tree tree(*mailboxes);
  for (const std::string& name : tree.ordered()) {
    if (!matches(full, name, inbox_prefix(name))) continue;
    const store::Mailbox* mailbox = tree.names.at(name);
    std::string line;
    if (mailbox && mailbox->subscribed) {
      line = "LSUB () \"/\" ";
    } else if (full.back() == '%' && tree.has_subscribed_child(name)) {
      // RFC 3501 §6.3.9: a level above subscribed names that is not itself subscribed.
      line = "LSUB (\\Noselect) \"/\" ";
    } else {
      continue;
    }
    append_mailbox(line, name, utf8_);
    untagged(line);
  }
  finish_ok("Lsub completed.");
}

}  // namespace chapar::imap
