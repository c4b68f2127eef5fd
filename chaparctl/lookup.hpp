// SPDX-License-Identifier: AGPL-3.0-or-later
// Checks shared by the commands: parse a name from the command line and make sure the store
// has (or lacks) it, with messages that tell the administrator what to do.
#pragma once

#include <string_view>

#include "chaparctl/address.hpp"
#include "libmailstore/store.hpp"

namespace chapar::ctl {

// A well-formed domain that the store hosts (kNotFound otherwise).
Result<std::string> hosted_domain(store::Store& store, std::string_view text);

// A well-formed address whose domain the store hosts.
Result<Address> address_in_hosted_domain(store::Store& store, std::string_view text);

// The account with this address (kNotFound otherwise).
Result<store::Account> existing_account(store::Store& store, std::string_view text);

// The alias whose source is this address or "@domain", if any.
Result<std::optional<store::Alias>> find_alias(store::Store& store, const Address& source);

// Lower case, for comparing addresses.
std::string lower(std::string_view text);

}  // namespace chapar::ctl
