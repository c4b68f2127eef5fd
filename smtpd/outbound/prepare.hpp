// SPDX-License-Identifier: AGPL-3.0-or-later
// A queued message made ready to leave: the Return-Path that local delivery needs is left
// out (RFC 5321 §4.4: only the final delivery adds it), 8-bit content is noticed for
// BODY=8BITMIME, and mail from a local domain with a DKIM key is signed. This reads the
// whole message once, so it runs on a worker thread with a Store of its own.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "common/result.hpp"
#include "libmailstore/store.hpp"
#include "smtpd/outbound/client_session.hpp"

namespace chapar::smtp::outbound {

struct OutboundMessage {
  store::MessageId message = 0;
  uint64_t offset = 0;  // where the content to send starts in the stored message
  uint64_t length = 0;  // octets from there to the end
  std::string prefix;   // DKIM-Signature fields, sent before the content
  bool eight_bit = false;
  std::string signed_by;  // the d= of the signatures, for the log; empty when unsigned

  // Reads through `store`, which must outlive every use of the source.
  MessageSource source(store::Store& store) const;
};

struct PrepareOptions {
  std::filesystem::path dkim_dir;  // the data directory's dkim/
  int64_t now = 0;                 // the signature's t=
};

// `sender` is the envelope sender: its domain signs when the From domain has no key.
Result<OutboundMessage> prepare_outbound(store::Store& store, store::MessageId message,
                                         std::string_view sender, const PrepareOptions& options);

}  // namespace chapar::smtp::outbound
