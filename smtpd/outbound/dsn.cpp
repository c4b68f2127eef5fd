// SPDX-License-Identifier: AGPL-3.0-or-later
#include "smtpd/outbound/dsn.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "common/text/ascii.hpp"
#include "common/text/date.hpp"
#include "common/text/xtext.hpp"
#include "smtpd/outbound/dkim_canon.hpp"

namespace chapar::smtp::outbound {
namespace {

constexpr size_t kFoldWidth = 76;
constexpr size_t kCopyChunk = 64 * 1024;

bool has_non_ascii(std::string_view text) {
  return std::any_of(text.begin(), text.end(),
                     [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
}

// Control characters from a remote reply never reach a header field.
std::string clean(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    out.push_back(u < 0x20 || u == 0x7f ? ' ' : c);
  }
  return out;
}

// "Name: value\r\n", folded at spaces so that lines stay short (RFC 5322 §2.2.3).
std::string field(std::string_view name, std::string_view value) {
  std::string out = fmt::format("{}:", name);
  size_t line = out.size();
  std::string cleaned = clean(value);
  std::string_view rest = cleaned;
  bool first = true;
  while (!rest.empty()) {
    size_t space = rest.find(' ');
    std::string_view word = rest.substr(0, space);
    rest = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
    if (word.empty()) continue;
    if (!first && line + 1 + word.size() > kFoldWidth) {
      out += "\r\n\t";
      line = 1;
    } else {
      out.push_back(' ');
      ++line;
    }
    out += word;
    line += word.size();
    first = false;
  }
  out += "\r\n";
  return out;
}

std::string_view action_name(DsnAction action) {
  switch (action) {
    case DsnAction::kFailed:
      return "failed";
    case DsnAction::kDelayed:
      return "delayed";
    case DsnAction::kRelayed:
      return "relayed";
  }
  return "failed";
}

// RFC 3461 §4.2: "addr-type;xtext" as received becomes "addr-type; decoded" in the report.
std::string original_recipient(std::string_view orcpt) {
  size_t semicolon = orcpt.find(';');
  if (semicolon == std::string_view::npos) return {};
  std::string_view type = orcpt.substr(0, semicolon);
  auto decoded = text::xtext_decode(orcpt.substr(semicolon + 1));
  if (!decoded) return {};
  return fmt::format("{}; {}", type, *decoded);
}

std::string human_part(const DsnReport& report) {
  DsnAction action = report.recipients.front().action;
  std::string out =
      fmt::format("This is the mail delivery system at {}.\r\n\r\n", report.reporting_mta);
  switch (action) {
    case DsnAction::kFailed:
      out +=
          "Your message could not be delivered to one or more recipients; it has not been\r\n"
          "delivered to those listed below, and no further attempt will be made. The report\r\n"
          "that follows says why for each of them.\r\n";
      break;
    case DsnAction::kDelayed:
      out += fmt::format(
          "Your message has not yet been delivered to the recipients listed below. This is a\r\n"
          "warning only: delivery will be tried again until {}.\r\n"
          "You do not need to send the message again.\r\n",
          text::format_rfc5322_date(report.retry_until));
      break;
    case DsnAction::kRelayed:
      out +=
          "Your message was handed to the mail servers of the recipients listed below, as you\r\n"
          "asked. Those servers do not report delivery, so this is the last notice.\r\n";
      break;
  }
  out += "\r\n";
  for (const DsnRecipient& r : report.recipients) {
    std::string why = clean(r.reply);
    if (r.remote && !r.remote_mta.empty()) {
      out += fmt::format("<{}>: host {} said: {}\r\n", r.address, r.remote_mta, why);
    } else if (why.empty()) {
      out += fmt::format("<{}>\r\n", r.address);
    } else {
      out += fmt::format("<{}>: {}\r\n", r.address, why);
    }
  }
  return out;
}

std::string status_part(const DsnReport& report, bool utf8) {
  // RFC 3464 §2.2: per-message fields.
  std::string out = field("Reporting-MTA", fmt::format("dns; {}", report.reporting_mta));
  if (!report.envid.empty()) out += field("Original-Envelope-Id", report.envid);
  out += field("Arrival-Date", text::format_rfc5322_date(report.arrival_date));
  // RFC 3464 §2.3: one block per recipient, each after a blank line.
  for (const DsnRecipient& r : report.recipients) {
    out += "\r\n";
    std::string type = utf8 && has_non_ascii(r.address) ? "utf-8" : "rfc822";
    std::string original = original_recipient(r.orcpt);
    if (!original.empty()) out += field("Original-Recipient", original);
    out += field("Final-Recipient", fmt::format("{}; {}", type, r.address));
    out += field("Action", action_name(r.action));
    out += field("Status", r.status);
    if (!r.remote_mta.empty()) out += field("Remote-MTA", fmt::format("dns; {}", r.remote_mta));
    if (r.remote && !r.reply.empty()) {
      out += field("Diagnostic-Code", fmt::format("smtp; {}", r.reply));
    }
    out += field("Last-Attempt-Date", text::format_rfc5322_date(report.now));
    if (r.action == DsnAction::kDelayed) {
      out += field("Will-Retry-Until", text::format_rfc5322_date(report.retry_until));
    }
  }
  return out;
}

}  // namespace

Result<std::string> read_header_block(const MessageSource& message, size_t limit) {
  std::string header;
  uint64_t offset = 0;
  while (offset < message.size && header.size() < limit) {
    size_t want = static_cast<size_t>(
        std::min<uint64_t>({message.size - offset, 8192, limit - header.size()}));
    auto chunk = message.read(offset, want);
    if (!chunk) return Unexpected{chunk.error()};
    if (chunk->empty()) break;
    size_t searched_from = header.size() < 3 ? 0 : header.size() - 3;
    header += *chunk;
    offset += chunk->size();
    size_t blank = header.find("\r\n\r\n", searched_from);
    if (header.substr(0, 2) == "\r\n") return std::string("\r\n");
    if (blank != std::string::npos) {
      header.resize(blank + 4);
      return header;
    }
  }
  if (header.size() > limit) header.resize(limit);
  // A header without its blank line (truncated, or a message without a body) gets one.
  if (header.size() < 2 || header.substr(header.size() - 2) != "\r\n") header += "\r\n";
  header += "\r\n";
  return header;
}

std::string header_value(std::string_view header, std::string_view name) {
  for (const HeaderField& f : split_header_fields(header)) {
    if (!text::iequals(f.name, name)) continue;
    std::string_view raw = f.raw.substr(f.raw.find(':') + 1);
    std::string value;
    for (char c : raw) {
      if (c == '\r' || c == '\n') continue;
      value.push_back(c == '\t' ? ' ' : c);
    }
    size_t start = value.find_first_not_of(' ');
    size_t end = value.find_last_not_of(' ');
    return start == std::string::npos ? std::string() : value.substr(start, end - start + 1);
  }
  return {};
}

Status compose_dsn(const DsnReport& report, const MessageSource& original, store::Spool& out) {
  if (report.recipients.empty()) return fail(Errc::kInvalidArgument, "a DSN needs recipients");
  bool utf8 = has_non_ascii(report.sender);
  for (const DsnRecipient& r : report.recipients) {
    utf8 = utf8 || has_non_ascii(r.address) || has_non_ascii(r.orcpt);
  }
  DsnAction action = report.recipients.front().action;
  std::string_view subject = action == DsnAction::kFailed    ? "Undelivered Mail Returned to Sender"
                             : action == DsnAction::kDelayed ? "Delayed Mail (still being retried)"
                                                             : "Successful Mail Delivery Report";
  std::string head;
  head +=
      field("From", fmt::format("Mail Delivery System <MAILER-DAEMON@{}>", report.reporting_mta));
  head += field("To", fmt::format("<{}>", report.sender));
  head += field("Subject", subject);
  head += field("Date", text::format_rfc5322_date(report.now));
  head += field("Message-ID", report.message_id);
  head += field("Auto-Submitted", "auto-replied");  // RFC 3834 §5
  head += field("MIME-Version", "1.0");
  head += fmt::format("Content-Type: multipart/report; report-type={};\r\n\tboundary=\"{}\"\r\n",
                      utf8 ? "global-delivery-status" : "delivery-status", report.boundary);
  head += "\r\nThis is a MIME-encapsulated message.\r\n\r\n";

  head += fmt::format("--{}\r\n", report.boundary);
  head += "Content-Description: Notification\r\n";
  head += "Content-Type: text/plain; charset=utf-8\r\n";
  head += fmt::format("Content-Transfer-Encoding: {}\r\n\r\n", utf8 ? "8bit" : "7bit");
  head += human_part(report);
  head += fmt::format("\r\n--{}\r\n", report.boundary);
  head += "Content-Description: Delivery report\r\n";
  head += fmt::format("Content-Type: message/{}\r\n\r\n",
                      utf8 ? "global-delivery-status" : "delivery-status");
  head += status_part(report, utf8);
  head += fmt::format("\r\n--{}\r\n", report.boundary);
  if (Status s = out.append(head); !s) return s;

  std::string part_head;
  if (report.return_full) {
    part_head = fmt::format("Content-Description: {}\r\nContent-Type: message/{}\r\n",
                            action == DsnAction::kFailed ? "Undelivered Message" : "Message",
                            utf8 ? "global" : "rfc822");
    if (original.eight_bit) part_head += "Content-Transfer-Encoding: 8bit\r\n";
    part_head += "\r\n";
    if (Status s = out.append(part_head); !s) return s;
    char last = '\n';
    for (uint64_t offset = 0; offset < original.size;) {
      size_t want = static_cast<size_t>(std::min<uint64_t>(original.size - offset, kCopyChunk));
      auto chunk = original.read(offset, want);
      if (!chunk) return Unexpected{chunk.error()};
      if (chunk->empty()) break;
      if (Status s = out.append(*chunk); !s) return s;
      last = chunk->back();
      offset += chunk->size();
    }
    if (last != '\n') {
      if (Status s = out.append("\r\n"); !s) return s;
    }
  } else {
    auto header = read_header_block(original, 1024 * 1024);
    if (!header) return Unexpected{header.error()};
    part_head = fmt::format(
        "Content-Description: {}\r\nContent-Type: {}\r\n",
        action == DsnAction::kFailed ? "Undelivered Message Headers" : "Message Headers",
        utf8 ? "message/global-headers" : "text/rfc822-headers");
    if (has_non_ascii(*header)) part_head += "Content-Transfer-Encoding: 8bit\r\n";
    part_head += "\r\n";
    if (Status s = out.append(part_head + *header); !s) return s;
  }
  return out.append(fmt::format("\r\n--{}--\r\n", report.boundary));
}

}  // namespace chapar::smtp::outbound
