// SPDX-License-Identifier: AGPL-3.0-or-later
// chapar-pop3d: the POP3 server (RFC 1939), on port 110 with STLS and 995 with TLS.
#include "pop3d/daemon.hpp"

int main(int argc, char** argv) {
  return chapar::run_daemon(argc, argv, chapar::pop3::daemon_spec());
}
