// SPDX-License-Identifier: AGPL-3.0-or-later
#include "smtpd/trace.hpp"

#include <doctest/doctest.h>

namespace chapar::smtp {

TEST_CASE("protocol names of RFC 3848 and RFC 6531") {
  CHECK(protocol_name({}) == "SMTP");
  CHECK(protocol_name({.extended = true}) == "ESMTP");
  CHECK(protocol_name({.extended = true, .tls = true}) == "ESMTPS");
  CHECK(protocol_name({.extended = true, .authenticated = true}) == "ESMTPA");
  CHECK(protocol_name({.extended = true, .tls = true, .authenticated = true}) == "ESMTPSA");
  CHECK(protocol_name({.extended = true, .smtputf8 = true}) == "UTF8SMTP");
  CHECK(protocol_name({true, true, true, true}) == "UTF8SMTPSA");
}

TEST_CASE("address literals of the client") {
  CHECK(address_literal("192.0.2.1") == "[192.0.2.1]");
  CHECK(address_literal("2001:db8::1") == "[IPv6:2001:db8::1]");
}

TEST_CASE("Return-Path and Received, folded, with TLS details") {
  TraceInfo info;
  info.hostname = "mx.example.org";
  info.helo = "client.example.net";
  info.client_address = "2001:db8::7";
  info.tls = net::TlsInfo{"TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256", 128, ""};
  info.protocol = "ESMTPS";
  info.reverse_path = "a@example.net";
  info.recipient = "b@example.org";
  info.time = 1709294400;
  CHECK(trace_header_fields(info) ==
        "Return-Path: <a@example.net>\r\n"
        "Received: from client.example.net ([IPv6:2001:db8::7])\r\n"
        "\t(using TLSv1.2 with cipher ECDHE-RSA-AES128-GCM-SHA256 (128 bits))\r\n"
        "\tby mx.example.org (Chapar) with ESMTPS\r\n"
        "\tfor <b@example.org>;\r\n"
        "\tFri, 01 Mar 2024 12:00:00 +0000\r\n");
  info.tls.reset();
  info.recipient.reset();
  info.reverse_path.clear();
  CHECK(trace_header_fields(info) ==
        "Return-Path: <>\r\n"
        "Received: from client.example.net ([IPv6:2001:db8::7])\r\n"
        "\tby mx.example.org (Chapar) with ESMTPS;\r\n"
        "\tFri, 01 Mar 2024 12:00:00 +0000\r\n");
}

}  // namespace chapar::smtp
