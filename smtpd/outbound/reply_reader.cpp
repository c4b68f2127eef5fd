// SPDX-License-Identifier: AGPL-3.0-or-later
#include "smtpd/outbound/reply_reader.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "common/text/ascii.hpp"

namespace chapar::smtp::outbound {
namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// RFC 3463 §2: class "." subject "." detail, with 1-3 digits for each of the last two.
bool is_enhanced_code(std::string_view word, int reply_class) {
  if (word.size() < 5 || word[0] - '0' != reply_class || word[1] != '.') return false;
  size_t dot = word.find('.', 2);
  if (dot == std::string_view::npos) return false;
  auto all_digits = [](std::string_view part) {
    return !part.empty() && part.size() <= 3 && std::all_of(part.begin(), part.end(), is_digit);
  };
  return all_digits(word.substr(2, dot - 2)) && all_digits(word.substr(dot + 1));
}

}  // namespace

std::string ServerReply::text() const {
  std::string out = fmt::format("{}", code);
  if (!enhanced.empty()) out += " " + enhanced;
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string_view line = lines[i];
    // The enhanced code repeated on continuation lines says nothing new.
    if (i > 0 && !enhanced.empty() && line.substr(0, enhanced.size()) == enhanced) {
      line.remove_prefix(enhanced.size());
      while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
    }
    if (line.empty()) continue;
    out += ' ';
    out += line;
  }
  return out;
}

std::string ServerReply::status() const {
  return enhanced.empty() ? fmt::format("{}.0.0", kind()) : enhanced;
}

void ReplyReader::clear() {
  buffer_.clear();
  consumed_ = 0;
  partial_ = ServerReply{};
  in_reply_ = false;
}

std::optional<Result<ServerReply>> ReplyReader::next() {
  for (;;) {
    size_t end = buffer_.find('\n', consumed_);
    if (end == std::string::npos) {
      if (buffer_.size() - consumed_ > limits_.max_line_length) {
        return Result<ServerReply>(fail(Errc::kLimitExceeded, "reply line too long"));
      }
      if (consumed_ > 0) {
        buffer_.erase(0, consumed_);
        consumed_ = 0;
      }
      return std::nullopt;
    }
    std::string_view line(buffer_.data() + consumed_, end - consumed_);
    consumed_ = end + 1;
    // Servers that end lines with a bare LF are tolerated.
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() > limits_.max_line_length) {
      return Result<ServerReply>(fail(Errc::kLimitExceeded, "reply line too long"));
    }
    // RFC 5321 §4.2: Reply-code [ SP textstring ] CRLF, or Reply-code "-" textstring CRLF.
    if (line.size() < 3 || !is_digit(line[0]) || !is_digit(line[1]) || !is_digit(line[2]) ||
        line[0] < '2' || line[0] > '5' || (line.size() > 3 && line[3] != ' ' && line[3] != '-')) {
      return Result<ServerReply>(fail(Errc::kInvalidArgument,
                                      fmt::format("malformed reply line: {}", line.substr(0, 80))));
    }
    int code = 0;
    std::from_chars(line.data(), line.data() + 3, code);
    bool last = line.size() == 3 || line[3] == ' ';
    std::string_view text = line.size() > 4 ? line.substr(4) : std::string_view();
    if (!in_reply_) {
      partial_ = ServerReply{};
      partial_.code = code;
      in_reply_ = true;
      std::string_view first_word = text.substr(0, text.find(' '));
      if (is_enhanced_code(first_word, code / 100)) {
        partial_.enhanced = std::string(first_word);
        text.remove_prefix(first_word.size());
        while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
      }
    } else if (code != partial_.code) {
      return Result<ServerReply>(fail(Errc::kInvalidArgument, "reply lines with different codes"));
    }
    if (partial_.lines.size() >= limits_.max_lines) {
      return Result<ServerReply>(fail(Errc::kLimitExceeded, "reply with too many lines"));
    }
    partial_.lines.emplace_back(text);
    if (last) {
      in_reply_ = false;
      return Result<ServerReply>(std::move(partial_));
    }
  }
}

bool Capabilities::offers_auth(std::string_view mechanism) const {
  return std::any_of(auth.begin(), auth.end(),
                     [&](const std::string& m) { return text::iequals(m, mechanism); });
}

Capabilities parse_capabilities(const ServerReply& ehlo) {
  Capabilities caps;
  for (size_t i = 1; i < ehlo.lines.size(); ++i) {
    std::string_view line = ehlo.lines[i];
    std::vector<std::string_view> words;
    while (!line.empty()) {
      size_t space = line.find(' ');
      if (space != 0) words.push_back(line.substr(0, space));
      if (space == std::string_view::npos) break;
      line.remove_prefix(space + 1);
    }
    if (words.empty()) continue;
    std::string_view keyword = words.front();
    if (text::iequals(keyword, "STARTTLS")) {
      caps.starttls = true;
    } else if (text::iequals(keyword, "PIPELINING")) {
      caps.pipelining = true;
    } else if (text::iequals(keyword, "8BITMIME")) {
      caps.eight_bit_mime = true;
    } else if (text::iequals(keyword, "SMTPUTF8")) {
      caps.smtputf8 = true;
    } else if (text::iequals(keyword, "DSN")) {
      caps.dsn = true;
    } else if (text::iequals(keyword, "REQUIRETLS")) {
      caps.requiretls = true;
    } else if (text::iequals(keyword, "ENHANCEDSTATUSCODES")) {
      caps.enhanced_status_codes = true;
    } else if (text::iequals(keyword, "SIZE")) {
      uint64_t limit = 0;
      if (words.size() > 1) {
        std::string_view n = words[1];
        auto [ptr, ec] = std::from_chars(n.data(), n.data() + n.size(), limit);
        if (ec != std::errc() || ptr != n.data() + n.size()) limit = 0;
      }
      caps.size = limit;
    } else if (text::iequals(keyword, "AUTH") || text::istarts_with(keyword, "AUTH=")) {
      // "AUTH=LOGIN PLAIN" is the form of drafts before RFC 2554 that old servers still use.
      if (keyword.size() > 5) words[0] = keyword.substr(5);
      for (size_t w = keyword.size() > 5 ? 0 : 1; w < words.size(); ++w) {
        std::string mechanism = text::ascii_uppercase(words[w]);
        if (!caps.offers_auth(mechanism)) caps.auth.push_back(std::move(mechanism));
      }
    }
  }
  return caps;
}

}  // namespace chapar::smtp::outbound
