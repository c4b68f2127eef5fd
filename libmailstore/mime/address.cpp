// SPDX-License-Identifier: AGPL-3.0-or-later
#include "libmailstore/mime/address.hpp"

#include <optional>
#include <string>

#include "libmailstore/mime/rfc822_reader.hpp"

namespace chapar::mime {
namespace {

constexpr std::string_view kMissingMailbox = "MISSING_MAILBOX";
constexpr std::string_view kMissingDomain = "MISSING_DOMAIN";
constexpr std::string_view kSyntaxError = "SYNTAX_ERROR";
constexpr std::string_view kInvalidRoute = "INVALID_ROUTE";

class AddressParser {
 public:
  explicit AddressParser(std::string_view value) : reader_(value, &last_comment_) {
    reader_.set_replace_nuls(true);
  }

  std::vector<Address> run() {
    if (reader_.skip_lwsp() > 0) parse_address_list();
    return std::move(out_);
  }

 private:
  bool more() const { return !reader_.at_end(); }
  bool next_is(char c) const { return more() && reader_.peek() == static_cast<unsigned char>(c); }

  void add_address() {
    out_.push_back(addr_);
    addr_ = Address{};
    invalid_ = false;
  }

  // Every mailbox gets a mailbox and a domain, even if it has to be made up.
  void add_fixed_address() {
    if (!addr_.mailbox) addr_.mailbox = std::string(kMissingMailbox);
    if (!addr_.domain || addr_.domain->empty()) addr_.domain = std::string(kMissingDomain);
    add_address();
  }

  int parse_local_part() {
    // local-part = dot-atom / quoted-string / obs-local-part
    str_.clear();
    int ret = next_is('"') ? reader_.parse_quoted_string(str_) : reader_.parse_dot_atom(str_);
    if (ret < 0) return -1;
    addr_.mailbox = str_;
    return ret;
  }

  int parse_domain() {
    str_.clear();
    int ret = reader_.parse_domain(str_);
    if (ret < 0) return -1;
    addr_.domain = str_;
    return ret;
  }

  int parse_domain_list() {
    // obs-domain-list = "@" domain *(*(CFWS / ",") [CFWS] "@" domain)
    str_.clear();
    for (;;) {
      if (!more()) return 0;
      if (!next_is('@')) break;
      if (!str_.empty()) str_.push_back(',');
      str_.push_back('@');
      int ret = reader_.parse_domain(str_);
      if (ret <= 0) return ret;
      while (reader_.skip_lwsp() > 0 && next_is(',')) reader_.advance();
    }
    addr_.route = str_;
    return 1;
  }

  int parse_angle_addr() {
    // angle-addr = "<" [obs-route] addr-spec ">"
    reader_.advance();
    if (reader_.skip_lwsp() <= 0) return -1;
    if (next_is('@')) {
      if (parse_domain_list() > 0 && next_is(':')) {
        reader_.advance();
      } else {
        addr_.route = std::string(kInvalidRoute);
        if (!more()) return -1;
      }
      if (reader_.skip_lwsp() <= 0) return -1;
    }
    if (!next_is('>')) {  // "<>" has neither local part nor domain
      if (parse_local_part() <= 0) return -1;
      if (next_is('@') && parse_domain() <= 0) return -1;
    }
    if (!next_is('>')) return -1;
    reader_.advance();
    return reader_.skip_lwsp();
  }

  int parse_name_addr() {
    // name-addr = [display-name] angle-addr
    str_.clear();
    if (reader_.parse_phrase(str_) <= 0 || !next_is('<')) return -1;
    if (!str_.empty()) addr_.name = str_;
    if (parse_angle_addr() < 0) {
      addr_.domain = std::string(kSyntaxError);
      invalid_ = true;
    }
    return more() ? 1 : 0;
  }

  int parse_addr_spec() {
    // addr-spec = local-part "@" domain
    int domain_ret = -2;
    last_comment_.clear();
    bool quoted = next_is('"');
    int ret = parse_local_part();
    if (ret <= 0) invalid_ = true;
    if (ret != 0 && next_is('@')) {
      domain_ret = parse_domain();
      if (domain_ret <= 0) ret = domain_ret;
    }
    if (!last_comment_.empty()) {
      addr_.name = last_comment_;
    } else if (domain_ret == -2) {
      // A lone word is a mailbox; a word followed by more words is a display name.
      str_.push_back(' ');
      size_t before = str_.size();
      reader_.parse_phrase(str_);
      if (str_.size() != before) {
        addr_.mailbox.reset();
        addr_.name = str_;
      } else if (!quoted) {
        addr_.domain = std::string();
      }
      invalid_ = true;
      ret = -1;
    }
    return ret;
  }

  int parse_mailbox() {
    // mailbox = name-addr / addr-spec
    size_t start = reader_.position();
    int ret = parse_name_addr();
    if (ret < 0) {
      reader_.set_position(start);
      ret = parse_addr_spec();
      // A lone quoted word without a domain reads better as a name than as a mailbox.
      if (invalid_ && !addr_.name && addr_.mailbox && !addr_.domain) {
        addr_.name = std::move(addr_.mailbox);
        addr_.mailbox.reset();
      }
    }
    add_fixed_address();
    return ret;
  }

  int parse_group() {
    // group = display-name ":" [group-list] ";" [CFWS]
    str_.clear();
    if (reader_.parse_phrase(str_) <= 0 || !next_is(':')) return -1;
    reader_.advance();
    int ret = reader_.skip_lwsp();
    addr_.mailbox = str_;
    add_address();
    if (ret > 0 && !next_is(';')) {
      for (;;) {
        parse_mailbox();  // a broken member does not end the group
        if (!next_is(',')) break;
        reader_.advance();
        if (reader_.skip_lwsp() <= 0) {
          ret = -1;
          break;
        }
      }
    }
    if (ret >= 0) {
      if (!next_is(';')) {
        ret = -1;
      } else {
        reader_.advance();
        ret = reader_.skip_lwsp();
      }
    }
    add_address();
    return ret == 0 ? 0 : 1;
  }

  int parse_address() {
    // address = mailbox / group
    size_t start = reader_.position();
    int ret = parse_group();
    if (ret < 0) {
      reader_.set_position(start);
      ret = parse_mailbox();
    }
    return ret;
  }

  void parse_address_list() {
    for (;;) {
      if (parse_address() == 0) break;
      if (!next_is(',')) break;
      reader_.advance();
      int ret = reader_.skip_lwsp();
      if (ret <= 0) {
        if (ret < 0) add_fixed_address();  // ends in an unterminated comment
        break;
      }
    }
  }

  std::string last_comment_;
  Rfc822Reader reader_;
  std::string str_;
  Address addr_;
  bool invalid_ = false;  // the entry being built had a syntax error
  std::vector<Address> out_;
};

}  // namespace

std::vector<Address> parse_address_list(std::string_view value) {
  return AddressParser(value).run();
}

}  // namespace chapar::mime
