// SPDX-License-Identifier: AGPL-3.0-or-later
// ASCII-only case handling for protocol keywords, addresses and header names. Independent of
// the C locale; octets above 0x7f are left as they are.
#pragma once

#include <string>
#include <string_view>

namespace chapar::text {

constexpr char ascii_lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}
constexpr char ascii_upper(char c) {
  return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
}

inline std::string ascii_lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = ascii_lower(c);
  return out;
}
inline std::string ascii_uppercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = ascii_upper(c);
  return out;
}

// <0, 0 or >0 as `a` sorts before, equal to or after `b`, ignoring ASCII case.
constexpr int icompare(std::string_view a, std::string_view b) {
  size_t n = a.size() < b.size() ? a.size() : b.size();
  for (size_t i = 0; i < n; ++i) {
    auto x = static_cast<unsigned char>(ascii_lower(a[i]));
    auto y = static_cast<unsigned char>(ascii_lower(b[i]));
    if (x != y) return x < y ? -1 : 1;
  }
  return a.size() == b.size() ? 0 : (a.size() < b.size() ? -1 : 1);
}

constexpr bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && icompare(a, b) == 0;
}
constexpr bool istarts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}
constexpr bool iends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && iequals(s.substr(s.size() - suffix.size()), suffix);
}

// The position of the first occurrence of `needle` at or after `pos`, ignoring ASCII case;
// npos when there is none. An empty needle is found at `pos` (when pos <= size).
constexpr size_t ifind(std::string_view haystack, std::string_view needle, size_t pos = 0) {
  if (pos > haystack.size() || needle.size() > haystack.size() - pos) {
    return std::string_view::npos;
  }
  for (size_t i = pos; i + needle.size() <= haystack.size(); ++i) {
    if (iequals(haystack.substr(i, needle.size()), needle)) return i;
  }
  return std::string_view::npos;
}

// An ordering for maps keyed case-insensitively; accepts any string-like key for lookups.
struct ILess {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const { return icompare(a, b) < 0; }
};

}  // namespace chapar::text
