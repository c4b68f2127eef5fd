// SPDX-License-Identifier: AGPL-3.0-or-later
// chapar-imapd: the IMAP server (IMAP4rev2 and IMAP4rev1), on port 143 with STARTTLS and
// 993 with TLS.
#include "imapd/daemon.hpp"

int main(int argc, char** argv) {
  return chapar::run_daemon(argc, argv, chapar::imap::daemon_spec());
}
