// SPDX-License-Identifier: AGPL-3.0-or-later
#include "smtpd/command_parser.hpp"

#include <doctest/doctest.h>

namespace chapar::smtp {
namespace {

std::string code_of(const Rejection& r) {
  return std::to_string(r.reply.code) + " " + std::string(r.reply.status);
}

MailCommand mail_ok(std::string_view args) {
  auto parsed = parse_mail(args);
  if (auto* r = std::get_if<Rejection>(&parsed)) FAIL("rejected: " << code_of(*r));
  return std::get<MailCommand>(parsed);
}

RcptCommand rcpt_ok(std::string_view args, bool smtputf8 = false) {
  auto parsed = parse_rcpt(args, smtputf8);
  if (auto* r = std::get_if<Rejection>(&parsed)) FAIL("rejected: " << code_of(*r));
  return std::get<RcptCommand>(parsed);
}

template <typename T>
std::string rejected(const Parsed<T>& parsed) {
  auto* r = std::get_if<Rejection>(&parsed);
  if (r == nullptr) return "accepted";
  return code_of(*r);
}

}  // namespace

TEST_CASE("split_command separates the verb") {
  CHECK(split_command("MAIL FROM:<a@b>").verb == "MAIL");
  CHECK(split_command("MAIL FROM:<a@b>").args == "FROM:<a@b>");
  CHECK(split_command("QUIT").verb == "QUIT");
  CHECK(split_command("QUIT").args.empty());
  CHECK(split_command("").verb.empty());
}

TEST_CASE("mailboxes: dot-strings, quoted local parts, literals, UTF-8") {
  auto simple = std::get<Mailbox>(parse_mailbox("alice@example.org"));
  CHECK(simple.local_part == "alice");
  CHECK(simple.domain == "example.org");
  CHECK(simple.is_ascii());

  // RFC 5321 §4.1.2: quoted forms that need no quoting are the same mailbox.
  CHECK(std::get<Mailbox>(parse_mailbox("\"alice\"@example.org")).local_part == "alice");
  CHECK(std::get<Mailbox>(parse_mailbox("\"al\\ice\"@example.org")).local_part == "alice");
  CHECK(std::get<Mailbox>(parse_mailbox("\"john doe\"@example.org")).local_part == "\"john doe\"");
  CHECK(std::get<Mailbox>(parse_mailbox("\"a\\\"b\"@example.org")).local_part == "\"a\\\"b\"");
  CHECK(std::get<Mailbox>(parse_mailbox("\"a>b@c\"@example.org")).address() ==
        "\"a>b@c\"@example.org");

  CHECK(std::get<Mailbox>(parse_mailbox("x@[192.0.2.1]")).domain == "[192.0.2.1]");
  CHECK(std::get<Mailbox>(parse_mailbox("x@[IPv6:2001:db8::1]")).domain == "[IPv6:2001:db8::1]");

  auto utf8 =
      std::get<Mailbox>(parse_mailbox("j\xC3\xB6rg@b\xC3\xBC"
                                      "cher.example"));
  CHECK_FALSE(utf8.is_ascii());

  for (const char* bad :
       {"", "alice", "@example.org", "alice@", "a..b@example.org", ".a@example.org",
        "a.@example.org", "a b@example.org", "alice@-example.org", "alice@example-.org",
        "alice@exa_mple.org", "alice@example..org", "x@[300.1.1.1]", "x@[IPv6:zz]", "\"open@x.org",
        "a\xC3@example.org", "a\xC0\xAF@example.org"}) {
    CAPTURE(bad);
    CHECK(std::holds_alternative<Rejection>(parse_mailbox(bad)));
  }
  std::string long_local(250, 'a');
  CHECK(std::holds_alternative<Rejection>(parse_mailbox(long_local + "@example.org")));
}

TEST_CASE("MAIL FROM: paths and the null reverse-path") {
  CHECK(mail_ok("FROM:<alice@example.org>").sender->address() == "alice@example.org");
  CHECK(mail_ok("from:<alice@example.org>").sender->address() == "alice@example.org");
  CHECK_FALSE(mail_ok("FROM:<>").sender.has_value());
  // Tolerated like Postfix: a space after the colon, no angle brackets.
  CHECK(mail_ok("FROM: <alice@example.org>").sender->address() == "alice@example.org");
  CHECK(mail_ok("FROM:alice@example.org").sender->address() == "alice@example.org");
  // RFC 5321 §4.1.2: a source route is accepted and ignored.
  CHECK(mail_ok("FROM:<@relay.example,@other.example:alice@example.org>").sender->address() ==
        "alice@example.org");

  CHECK(rejected(parse_mail("")) == "501 5.5.4");
  CHECK(rejected(parse_mail("TO:<alice@example.org>")) == "501 5.5.4");
  CHECK(rejected(parse_mail("FROM:<alice@example.org")) == "501 5.1.7");
  CHECK(rejected(parse_mail("FROM:<alice>")) == "501 5.1.7");
  CHECK(rejected(parse_mail("FROM:<alice@example.org>SIZE=10")) == "501 5.1.7");
  CHECK(rejected(parse_mail("FROM:<@relay.example:>")) == "501 5.1.7");
  CHECK(rejected(parse_mail("FROM:<relay.example:alice@example.org>")) == "501 5.1.7");
}

TEST_CASE("MAIL parameters") {
  MailCommand all = mail_ok(
      "FROM:<alice@example.org> SIZE=12345 BODY=8bitmime RET=hdrs ENVID=QQ+2B314 "
      "AUTH=alice+40example.org REQUIRETLS");
  CHECK(all.params.size == 12345u);
  CHECK(all.params.body == Body::k8BitMime);
  CHECK(all.params.ret == "HDRS");
  CHECK(all.params.envid == "QQ+314");
  CHECK(all.params.auth == "alice@example.org");
  CHECK(all.params.requiretls);
  CHECK_FALSE(all.params.smtputf8);

  CHECK(mail_ok("FROM:<> BODY=BINARYMIME").params.body == Body::kBinaryMime);
  CHECK(mail_ok("FROM:<> BODY=7BIT").params.body == Body::k7Bit);
  CHECK(mail_ok("FROM:<> AUTH=<>").params.auth == "<>");
  CHECK(mail_ok("FROM:<>  SIZE=1  ").params.size == 1u);
  CHECK(mail_ok("FROM:<> SIZE=99999999999999999999").params.size == UINT64_MAX);

  CHECK(rejected(parse_mail("FROM:<> SIZE=")) == "501 5.5.4");
  CHECK(rejected(parse_mail("FROM:<> SIZE=12a")) == "501 5.5.4");
  CHECK(rejected(parse_mail("FROM:<> SIZE")) == "501 5.5.4");
  CHECK(rejected(parse_mail("FROM:<> SIZE=123456789012345678901")) == "501 5.5.4");
  CHECK(rejected(parse_mail("FROM:<> BODY=9BIT")) == "501 5.5.4");
  CHECK(rejected(parse_mail("FROM:<> RET=ALL")) == "501 5.5.4");
  CHECK(rejected(parse_mail("FROM:<> RET=FULL RET=HDRS")) == "501 5.5.4");
  CHECK(rejected(parse_mail("FROM:<> ENVID=a+zz")) == "501 5.5.4");
  CHECK(rejected(parse_mail("FROM:<> ENVID=" + std::string(101, 'x'))) == "501 5.5.4");
  CHECK(rejected(parse_mail("FROM:<> SMTPUTF8=yes")) == "501 5.5.4");
  CHECK(rejected(parse_mail("FROM:<> AUTH=nobody")) == "501 5.5.4");
  CHECK(rejected(parse_mail("FROM:<> =x")) == "501 5.5.4");
  CHECK(rejected(parse_mail("FROM:<> X-FOO=bar")) == "555 5.5.4");
  CHECK(rejected(parse_mail("FROM:<> NOTIFY=NEVER")) == "555 5.5.4");
}

TEST_CASE("MAIL with a UTF-8 sender needs SMTPUTF8") {
  CHECK(rejected(parse_mail("FROM:<j\xC3\xB6rg@example.org>")) == "550 5.6.7");
  MailCommand ok = mail_ok("FROM:<j\xC3\xB6rg@example.org> SMTPUTF8");
  CHECK(ok.params.smtputf8);
  CHECK(ok.sender->local_part == "j\xC3\xB6rg");
}

TEST_CASE("RCPT TO: paths and parameters") {
  CHECK(rcpt_ok("TO:<bob@example.org>").recipient.address() == "bob@example.org");
  CHECK(rcpt_ok("to: <bob@example.org>").recipient.address() == "bob@example.org");
  CHECK(rcpt_ok("TO:<@hosta.int,@jkl.org:userc@d.bar.org>").recipient.address() ==
        "userc@d.bar.org");
  RcptCommand postmaster = rcpt_ok("TO:<Postmaster>");
  CHECK(postmaster.recipient.local_part == "postmaster");
  CHECK(postmaster.recipient.domain.empty());

  RcptCommand dsn = rcpt_ok("TO:<bob@example.org> NOTIFY=success,failure ORCPT=rfc822;bob+40x.org");
  CHECK(dsn.notify == "SUCCESS,FAILURE");
  CHECK(dsn.orcpt == "rfc822;bob+40x.org");
  CHECK(rcpt_ok("TO:<bob@example.org> NOTIFY=NEVER").notify == "NEVER");
  CHECK(rcpt_ok("TO:<bob@example.org> ORCPT=utf-8;b\xC3\xB6"
                "b@x.org")
            .orcpt ==
        "utf-8;b\xC3\xB6"
        "b@x.org");

  CHECK(rejected(parse_rcpt("TO:<>", false)) == "501 5.1.3");
  CHECK(rejected(parse_rcpt("FROM:<bob@example.org>", false)) == "501 5.5.4");
  CHECK(rejected(parse_rcpt("TO:<bob@example.org> NOTIFY=NEVER,SUCCESS", false)) == "501 5.5.4");
  CHECK(rejected(parse_rcpt("TO:<bob@example.org> NOTIFY=DELAY,DELAY", false)) == "501 5.5.4");
  CHECK(rejected(parse_rcpt("TO:<bob@example.org> NOTIFY=", false)) == "501 5.5.4");
  CHECK(rejected(parse_rcpt("TO:<bob@example.org> ORCPT=rfc822", false)) == "501 5.5.4");
  CHECK(rejected(parse_rcpt("TO:<bob@example.org> ORCPT=rfc822;a+", false)) == "501 5.5.4");
  CHECK(rejected(parse_rcpt("TO:<bob@example.org> ORCPT=;x", false)) == "501 5.5.4");
  CHECK(rejected(parse_rcpt("TO:<bob@example.org> NOTIFY=NEVER NOTIFY=NEVER", false)) ==
        "501 5.5.4");
  CHECK(rejected(parse_rcpt("TO:<bob@example.org> SIZE=10", false)) == "555 5.5.4");
  CHECK(rejected(parse_rcpt("TO:<b\xC3\xB6"
                            "b@example.org>",
                            false)) == "553 5.6.7");
  CHECK(rcpt_ok("TO:<b\xC3\xB6"
                "b@example.org>",
                true)
            .recipient.local_part ==
        "b\xC3\xB6"
        "b");
}

TEST_CASE("UTF-8 validation") {
  CHECK(is_valid_utf8(""));
  CHECK(is_valid_utf8("plain"));
  CHECK(is_valid_utf8("\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80"));
  CHECK_FALSE(is_valid_utf8("\xC0\x80"));          // overlong
  CHECK_FALSE(is_valid_utf8("\xE0\x80\x80"));      // overlong
  CHECK_FALSE(is_valid_utf8("\xED\xA0\x80"));      // surrogate
  CHECK_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // past U+10FFFF
  CHECK_FALSE(is_valid_utf8("\xE2\x82"));          // truncated
  CHECK_FALSE(is_valid_utf8("\x80"));
}

}  // namespace chapar::smtp
