// SPDX-License-Identifier: AGPL-3.0-or-later
// The command table: every command, the states it is valid in (RFC 9051 §6) and its flags.
// dispatch() checks states and flags here, once, before any handler runs.
#include "imapd/session.hpp"

namespace chapar::imap {

const Session::CommandSpec Session::kCommands[] = {
    // RFC 9051 §6.1: any state.
    {"CAPABILITY", kNotAuth | kAuth | kSel, 0, &Session::cmd_capability},
    {"NOOP", kNotAuth | kAuth | kSel, 0, &Session::cmd_noop},
    {"LOGOUT", kNotAuth | kAuth | kSel, 0, &Session::cmd_logout},
    {"ID", kNotAuth | kAuth | kSel, 0, &Session::cmd_id},  // RFC 2971
    // RFC 9051 §6.2: not authenticated.
    {"STARTTLS", kNotAuth, 0, &Session::cmd_starttls},
    {"AUTHENTICATE", kNotAuth, 0, &Session::cmd_authenticate},
    {"LOGIN", kNotAuth, 0, &Session::cmd_login},
    // RFC 9051 §6.3: authenticated (and selected).
    {"ENABLE", kAuth | kSel, 0, &Session::cmd_enable},  // RFC 5161
    {"SELECT", kAuth | kSel, 0, &Session::cmd_select},
    {"EXAMINE", kAuth | kSel, 0, &Session::cmd_examine},
    {"CREATE", kAuth | kSel, 0, &Session::cmd_create},
    {"DELETE", kAuth | kSel, 0, &Session::cmd_delete},
    {"RENAME", kAuth | kSel, 0, &Session::cmd_rename},
    {"SUBSCRIBE", kAuth | kSel, 0, &Session::cmd_subscribe},
    {"UNSUBSCRIBE", kAuth | kSel, 0, &Session::cmd_unsubscribe},
    {"LIST", kAuth | kSel, 0, &Session::cmd_list},
    {"LSUB", kAuth | kSel, 0, &Session::cmd_lsub},            // RFC 3501 §6.3.9
    {"NAMESPACE", kAuth | kSel, 0, &Session::cmd_namespace},  // RFC 2342
    {"STATUS", kAuth | kSel, 0, &Session::cmd_status},
    {"APPEND", kAuth | kSel, 0, &Session::cmd_append},
    {"IDLE", kAuth | kSel, 0, &Session::cmd_idle},  // RFC 2177
    // RFC 9051 §6.4: selected.
    {"CHECK", kSel, 0, &Session::cmd_check},  // RFC 3501 §6.4.1
    {"CLOSE", kSel, 0, &Session::cmd_close},
    {"UNSELECT", kSel, 0, &Session::cmd_unselect},
    {"EXPUNGE", kSel, kReadWrite, &Session::cmd_expunge},
    {"UID EXPUNGE", kSel, kUid | kReadWrite, &Session::cmd_expunge},  // RFC 4315 §2.1
    {"SEARCH", kSel, kNoExpunge, &Session::cmd_search},
    {"UID SEARCH", kSel, kUid, &Session::cmd_search},
    {"FETCH", kSel, kNoExpunge, &Session::cmd_fetch},
    {"UID FETCH", kSel, kUid, &Session::cmd_fetch},
    {"STORE", kSel, kNoExpunge | kReadWrite, &Session::cmd_store},
    {"UID STORE", kSel, kUid | kReadWrite, &Session::cmd_store},
    {"COPY", kSel, 0, &Session::cmd_copy},
    {"UID COPY", kSel, kUid, &Session::cmd_copy},
    {"MOVE", kSel, kReadWrite, &Session::cmd_move},  // RFC 6851
    {"UID MOVE", kSel, kUid | kReadWrite, &Session::cmd_move},
    {"", 0, 0, nullptr},
};

}  // namespace chapar::imap
