// SPDX-License-Identifier: AGPL-3.0-or-later
// The mail transaction: MAIL, RCPT, DATA, BDAT and the delivery into the store.
#include <fmt/format.h>

#include <algorithm>

#include "common/log.hpp"
#include "common/text/ascii.hpp"
#include "smtpd/session.hpp"
#include "smtpd/trace.hpp"

namespace chapar::smtp {

void Session::cmd_mail(std::string_view args) {
  const config::Smtpd& smtpd = services_.config.smtpd;
  Parsed<MailCommand> parsed = parse_mail(args);
  if (auto* rejection = std::get_if<Rejection>(&parsed)) {
    reply(*rejection);
    return;
  }
  MailCommand& mail = std::get<MailCommand>(parsed);
  if (messages_ >= smtpd.max_messages_per_connection) {
    // RFC 9422 MAILMAX, advertised at EHLO.
    close_with(kTooManyMessages421, fmt::format("{} Error: too many messages in one connection",
                                                services_.config.server.hostname));
    return;
  }
  if (mail.params.size && *mail.params.size > smtpd.max_message_size) {
    // RFC 1870 §6.2: refused at MAIL when the declared size is already too big.
    reply(kMessageTooBig552, "Error: message size exceeds fixed maximum message size");
    return;
  }
  if (mail.params.requiretls && !tls_active()) {
    // RFC 8689 §2: REQUIRETLS only on a TLS-protected session.
    reply(kEncryptionNeeded530, "Error: REQUIRETLS needs a TLS connection");
    return;
  }
  if (account_ && mail.sender) {
    // An account sends as itself or one of its aliases, never as another account.
    Result<bool> allowed = services_.store.may_send_as(account_->id, mail.sender->address());
    if (!allowed) {
      reply(store_error(allowed.error(), "sender_check"));
      return;
    }
    if (!*allowed) {
      reply(kSenderNotOwned553, fmt::format("<{}>: Sender address rejected: not owned by user {}",
                                            mail.sender->address(), account_->address()));
      return;
    }
  }
  reset_transaction();
  txn_.sender = std::move(mail.sender);
  txn_.params = std::move(mail.params);
  phase_ = kMail;
  reply(kSenderOk250, "Ok");
}

void Session::cmd_rcpt(std::string_view args) {
  const config::Smtpd& smtpd = services_.config.smtpd;
  Parsed<RcptCommand> parsed = parse_rcpt(args, txn_.params.smtputf8);
  if (auto* rejection = std::get_if<Rejection>(&parsed)) {
    reply(*rejection);
    return;
  }
  RcptCommand& rcpt = std::get<RcptCommand>(parsed);
  if (txn_.recipients.size() >= smtpd.max_recipients) {
    // RFC 5321 §4.5.3.1.10: 452 for too many recipients.
    reply(kTooManyRecipients452, "Error: too many recipients");
    return;
  }
  // RFC 5321 §4.1.1.3: "<Postmaster>" is the postmaster of this host.
  if (rcpt.recipient.domain.empty()) rcpt.recipient.domain = services_.config.server.hostname;
  std::string address = rcpt.recipient.address();

  store::Recipient target;
  target.kind = store::Recipient::Kind::kRemote;
  // There are no local address literals: user@[192.0.2.1] is relayed or refused.
  if (rcpt.recipient.domain.front() != '[') {
    Result<store::Recipient> resolved = services_.store.resolve_recipient(address);
    if (resolved) {
      target = std::move(*resolved);
    } else if (resolved.error().code == Errc::kInvalidArgument) {
      // A local part the store cannot hold (a quoted one with spaces, say): no such user
      // here, or another domain's business.
      Result<bool> local = services_.store.is_local_domain(rcpt.recipient.domain);
      if (!local) {
        reply(store_error(local.error(), "recipient_lookup"));
        return;
      }
      target.kind = *local ? store::Recipient::Kind::kUnknown : store::Recipient::Kind::kRemote;
    } else {
      reply(store_error(resolved.error(), "recipient_lookup"));
      return;
    }
  }

  switch (target.kind) {
    case store::Recipient::Kind::kUnknown:
      reply(kUserUnknown550,
            fmt::format("<{}>: Recipient address rejected: User unknown in local recipient table",
                        address));
      return;
    case store::Recipient::Kind::kRemote:
      if (!account_) {
        reply(kRelayDenied554, fmt::format("<{}>: Relay access denied", address));
        return;
      }
      if (std::none_of(txn_.remote.begin(), txn_.remote.end(),
                       [&](const store::QueueRecipient& r) { return r.address == address; })) {
        txn_.remote.push_back(store::QueueRecipient{address, rcpt.notify, rcpt.orcpt});
      }
      break;
    case store::Recipient::Kind::kLocal: {
      uint64_t declared = txn_.params.size.value_or(0);
      Result<store::Account> account = services_.store.account(target.account);
      if (!account) {
        reply(store_error(account.error(), "recipient_lookup"));
        return;
      }
      if (account->quota_bytes != 0 && declared > account->quota_bytes) {
        // The message alone is larger than the whole mailbox may be: permanent.
        reply(kExceedsQuota552,
              fmt::format("<{}>: Recipient address rejected: message exceeds the mailbox quota",
                          address));
        return;
      }
      if (!account->has_room(std::max<uint64_t>(declared, 1))) {
        reply(kMailboxFull452,
              fmt::format("<{}>: Recipient address rejected: mailbox full", address));
        return;
      }
      if (std::find(txn_.local.begin(), txn_.local.end(), target.account) == txn_.local.end()) {
        txn_.local.push_back(target.account);
        txn_.quotas.push_back(account->quota_bytes);
      }
      break;
    }
  }
  txn_.recipients.push_back(address);
  phase_ = kRecipient;
  reply(kRecipientOk250, "Ok");
}

void Session::cmd_data(std::string_view args) {
  if (!args.empty()) {
    reply(kSyntax501, "Syntax: DATA");
    return;
  }
  if (txn_.params.body == Body::kBinaryMime) {
    // RFC 3030 §3: BINARYMIME content only travels by BDAT.
    reply(kBadSequence503, "Error: BODY=BINARYMIME requires BDAT");
    return;
  }
  if (Status started = start_content(); !started) {
    fail_transaction(kLocalError451, "Error: local error, try again later");
    return;
  }
  const config::Smtpd& smtpd = services_.config.smtpd;
  txn_.data.emplace(txn_.spool, DataReader::Limits{smtpd.max_message_size, smtpd.max_line_length},
                    !last_line_bare_lf_);
  reply_uncounted(kStartMailInput354, "End data with <CR><LF>.<CR><LF>");
  mode_ = Mode::kData;
}

void Session::cmd_bdat(std::string_view args) {
  Parsed<BdatCommand> parsed = parse_bdat(args);
  if (auto* rejection = std::get_if<Rejection>(&parsed)) {
    // Without a size, the data that follows cannot be told from commands.
    reply(*rejection);
    return;
  }
  const BdatCommand& bdat = std::get<BdatCommand>(parsed);
  if (phase_ == kRecipient) {
    if (Status started = start_content(); !started) {
      // RFC 3030 §2: the chunk is read before the failure is answered.
      reset_transaction();
      phase_ = kGreeted;
      refuse_chunk(args, Rejection{kLocalError451, "Error: local error, try again later"});
      return;
    }
    txn_.chunks.emplace(txn_.spool, services_.config.smtpd.max_message_size);
    phase_ = kChunking;
  }
  txn_.chunks->start_chunk(bdat.size);
  txn_.chunk_length = bdat.size;
  txn_.last_chunk = bdat.last;
  mode_ = Mode::kChunk;
}

void Session::refuse_chunk(std::string_view args, const Rejection& rejection) {
  Parsed<BdatCommand> parsed = parse_bdat(args);
  if (auto* syntax = std::get_if<Rejection>(&parsed)) {
    reply(*syntax);
    return;
  }
  // RFC 3030 §2: the data of a refused BDAT is read and dropped before the answer.
  discard_.emplace(nullptr, 0);
  discard_->start_chunk(std::get<BdatCommand>(parsed).size);
  discard_reply_ = rejection;
  mode_ = Mode::kChunk;
}

Status Session::start_content() {
  txn_.spool = std::make_shared<store::Spool>(services_.store.temp_dir());
  TraceInfo trace;
  trace.hostname = services_.config.server.hostname;
  trace.helo = helo_;
  trace.client_address = host_.peer().address;
  trace.tls = host_.tls();
  trace.protocol =
      protocol_name({extended_, tls_active(), account_.has_value(), txn_.params.smtputf8});
  trace.reverse_path = txn_.sender ? txn_.sender->address() : "";
  if (txn_.recipients.size() == 1) trace.recipient = txn_.recipients.front();
  trace.time = std::chrono::system_clock::to_time_t(host_.now());
  Status written = txn_.spool->append(trace_header_fields(trace));
  if (!written) host_.logger().error("spool_failed", {{"error", written.error().message}});
  return written;
}

void Session::end_of_data() {
  mode_ = Mode::kCommand;
  const DataReader& data = *txn_.data;
  if (data.too_big()) {
    fail_transaction(kMessageTooBig552, "Error: message file too big");
  } else if (data.line_too_long()) {
    fail_transaction(kContentRejected554,
                     fmt::format("Error: message has a line longer than {} octets",
                                 services_.config.smtpd.max_line_length));
  } else if (!data.spool_status()) {
    host_.logger().error("spool_failed", {{"error", data.spool_status().error().message}});
    fail_transaction(kLocalError451, "Error: local error, try again later");
  } else {
    commit();
  }
}

void Session::end_of_chunk() {
  mode_ = Mode::kCommand;
  if (discard_) {
    Rejection refusal = std::move(*discard_reply_);
    discard_.reset();
    discard_reply_.reset();
    reply(refusal);
    return;
  }
  const ChunkReader& chunks = *txn_.chunks;
  if (chunks.too_big()) {
    // RFC 3030 §2: the transaction has failed; later BDATs get 503 until RSET.
    fail_transaction(kMessageTooBig552, "Error: message file too big");
  } else if (!chunks.spool_status()) {
    host_.logger().error("spool_failed", {{"error", chunks.spool_status().error().message}});
    fail_transaction(kLocalError451, "Error: local error, try again later");
  } else if (!txn_.last_chunk) {
    reply(kOk250, fmt::format("Ok: {} octets received", txn_.chunk_length));
  } else {
    commit();
  }
}

void Session::commit() {
  std::shared_ptr<store::Spool> spool = txn_.spool;
  if (Status finished = spool->finish(); !finished) {
    host_.logger().error("spool_failed", {{"error", finished.error().message}});
    fail_transaction(kLocalError451, "Error: local error, try again later");
    return;
  }
  waiting_ = true;
  if (spool->size() <= kPrepareInlineLimit) {
    deliver(store::Store::prepare(spool));
    return;
  }
  // Parsing a large message would hold up every other connection: a worker does it.
  auto prepared = std::make_shared<std::optional<Result<store::PreparedMessage>>>();
  host_.run_blocking([spool, prepared] { prepared->emplace(store::Store::prepare(spool)); },
                     [this, prepared] {
                       deliver(std::move(**prepared));
                       resume();
                     });
}

void Session::deliver(Result<store::PreparedMessage> prepared) {
  if (!prepared) {
    waiting_ = false;
    host_.logger().error("prepare_failed", {{"error", prepared.error().message}});
    fail_transaction(kLocalError451, "Error: local error, try again later");
    return;
  }
  uint64_t size = prepared->size;
  // The quotas as RCPT read them; the commit checks the usage against the current ones.
  for (uint64_t quota : txn_.quotas) {
    if (quota != 0 && size > quota) {
      waiting_ = false;
      fail_transaction(kExceedsQuota552, "Error: message exceeds the mailbox quota");
      return;
    }
  }
  store::Delivery delivery;
  delivery.message = std::move(*prepared);
  delivery.sender = txn_.sender ? txn_.sender->address() : "";
  delivery.local = txn_.local;
  delivery.remote = txn_.remote;
  delivery.dsn = store::DsnEnvelope{txn_.params.ret, txn_.params.envid, txn_.params.requiretls};
  delivery.internal_date = std::chrono::system_clock::to_time_t(host_.now());
  // The answer waits for the commit: 250 means the message is on disk (RFC 5321 §4.2.5).
  net::LoopPoster poster = host_.begin_async();
  services_.store.deliver(std::move(delivery),
                          [this, poster, size](Result<store::DeliveryReceipt> receipt) {
                            poster([this, size, receipt = std::move(receipt)]() mutable {
                              delivered(std::move(receipt), size);
                            });
                          });
}

void Session::delivered(Result<store::DeliveryReceipt> receipt, uint64_t size) {
  waiting_ = false;
  if (!receipt) {
    Rejection refusal = store_error(receipt.error(), "delivery");
    log_transaction(fmt::format("{}", refusal.reply.code), size, {});
    reset_transaction();
    phase_ = kGreeted;
    reply(refusal);
    resume();
    return;
  }
  std::string id = fmt::format("{}", receipt->message);
  ++messages_;
  log_transaction("250", size, id, receipt->queued);
  reset_transaction();
  phase_ = kGreeted;
  reply(kOk250, fmt::format("Ok: queued as {}", id));
  resume();
}

void Session::fail_transaction(ReplyCode code, std::string_view text) {
  uint64_t size = 0;
  if (txn_.data) size = txn_.data->size();
  if (txn_.chunks) size = txn_.chunks->size();
  log_transaction(fmt::format("{}", code.code), size, {});
  reset_transaction();
  phase_ = kGreeted;
  reply(code, text);
}

void Session::log_transaction(std::string_view result, uint64_t size, std::string_view id,
                              std::optional<store::QueueId> queued) {
  std::string sender = txn_.sender ? txn_.sender->address() : "";
  log::Logger line = host_.logger().with({{"ip", host_.peer().address},
                                          {"from", sender},
                                          {"rcpts", txn_.recipients.size()},
                                          {"size", size},
                                          {"tls", tls_active()},
                                          {"result", result}});
  if (id.empty()) {
    line.info("message");
  } else if (queued) {
    line.info("message", {{"id", id}, {"queue", *queued}});
  } else {
    line.info("message", {{"id", id}});
  }
}

Rejection Session::store_error(const Error& error, std::string_view what) {
  switch (error.code) {
    case Errc::kQuotaExceeded:
      return Rejection{kMailboxFull452, "Error: mailbox full"};
    default:
      host_.logger().error("store_failed", {{"operation", what}, {"error", error.message}});
      return Rejection{kLocalError451, "Error: local error, try again later"};
  }
}

}  // namespace chapar::smtp
