// SPDX-License-Identifier: AGPL-3.0-or-later
#include <doctest/doctest.h>

#include <map>
#include <set>

#include "tests/store/store_fixture.hpp"

namespace chapar::store {
namespace {

using test::StoreFixture;

TEST_CASE("store: domains") {
  StoreFixture f;
  REQUIRE(f.store->add_domain_sync("Example.ORG"));
  auto again = f.store->add_domain_sync("example.org");
  REQUIRE_FALSE(again);
  CHECK(again.error().code == Errc::kAlreadyExists);
  CHECK_FALSE(f.store->add_domain_sync("bad domain"));
  CHECK_FALSE(f.store->add_domain_sync(""));
  CHECK_FALSE(f.store->add_domain_sync("a@b"));

  CHECK(*f.store->is_local_domain("EXAMPLE.org"));
  CHECK_FALSE(*f.store->is_local_domain("example.net"));
  auto domains = f.store->list_domains();
  REQUIRE(domains->size() == 1);
  CHECK((*domains)[0].name == "example.org");

  f.add_account("bob@example.org");
  auto busy = f.store->remove_domain_sync("example.org");
  REQUIRE_FALSE(busy);
  CHECK(busy.error().code == Errc::kPermissionDenied);
  REQUIRE(f.store->remove_account_sync("bob@example.org"));
  REQUIRE(f.store->remove_domain_sync("example.org"));
  CHECK(f.store->remove_domain_sync("example.org").error().code == Errc::kNotFound);
}

TEST_CASE("store: accounts") {
  StoreFixture f;
  auto missing_domain = f.store->add_account_sync("bob@example.org", "$y$x");
  REQUIRE_FALSE(missing_domain);
  CHECK(missing_domain.error().code == Errc::kNotFound);

  AccountId bob = f.add_account("Bob@Example.org", 1000);
  auto duplicate = f.store->add_account_sync("bob@example.ORG", "$y$x");
  REQUIRE_FALSE(duplicate);
  CHECK(duplicate.error().code == Errc::kAlreadyExists);
  CHECK(f.store->add_account_sync("no-at-sign", "$y$x").error().code == Errc::kInvalidArgument);
  CHECK(f.store->add_account_sync("a b@example.org", "$y$x").error().code ==
        Errc::kInvalidArgument);

  auto found = f.store->find_account("BOB@example.org");
  REQUIRE(found);
  CHECK(found->id == bob);
  CHECK(found->local_part == "Bob");
  CHECK(found->domain == "example.org");
  CHECK(found->address() == "Bob@example.org");
  CHECK(found->password_hash == "$y$hash");
  CHECK(found->quota_bytes == 1000);
  CHECK_FALSE(found->disabled);
  CHECK(f.store->find_account("alice@example.org").error().code == Errc::kNotFound);

  REQUIRE(f.store->set_password_sync("bob@example.org", "$6$new"));
  REQUIRE(f.store->set_quota_sync("bob@example.org", 0));
  REQUIRE(f.store->set_disabled_sync("bob@example.org", true));
  auto changed = f.store->account(bob);
  REQUIRE(changed);
  CHECK(changed->password_hash == "$6$new");
  CHECK(changed->quota_bytes == 0);
  CHECK(changed->disabled);
  CHECK(f.store->set_password_sync("eve@example.org", "x").error().code == Errc::kNotFound);

  // The standard mailboxes with their special-use attributes (RFC 6154).
  auto mailboxes = f.store->list_mailboxes(bob);
  REQUIRE(mailboxes);
  REQUIRE(mailboxes->size() == 6);
  CHECK((*mailboxes)[0].name == "INBOX");
  std::map<std::string, SpecialUse> uses;
  for (const auto& m : *mailboxes) {
    uses[m.name] = m.special_use;
    CHECK(m.subscribed);
    CHECK(m.uidnext == 1);
    CHECK(m.uidvalidity > 0);
  }
  CHECK(uses["Drafts"] == SpecialUse::kDrafts);
  CHECK(uses["Sent"] == SpecialUse::kSent);
  CHECK(uses["Trash"] == SpecialUse::kTrash);
  CHECK(uses["Junk"] == SpecialUse::kJunk);
  CHECK(uses["Archive"] == SpecialUse::kArchive);
  CHECK(uses["INBOX"] == SpecialUse::kNone);
  // Every mailbox gets its own UIDVALIDITY.
  std::set<uint32_t> validities;
  for (const auto& m : *mailboxes) validities.insert(m.uidvalidity);
  CHECK(validities.size() == mailboxes->size());

  f.add_account("carol@example.net");
  CHECK(f.store->list_accounts()->size() == 2);
  CHECK(f.store->list_accounts("example.net")->size() == 1);
  CHECK(f.store->list_accounts("EXAMPLE.ORG")->at(0).id == bob);

  REQUIRE(f.store->remove_account_sync("bob@example.org"));
  CHECK(f.store->find_account("bob@example.org").error().code == Errc::kNotFound);
  CHECK(f.store->list_mailboxes(bob)->empty());
  CHECK(f.store->remove_account_sync("bob@example.org").error().code == Errc::kNotFound);
}

TEST_CASE("store: aliases, catch-all and plus-addressing") {
  StoreFixture f;
  AccountId bob = f.add_account("bob@example.org");
  AccountId alice = f.add_account("alice@example.org");
  REQUIRE(f.store->add_domain_sync("example.com"));

  REQUIRE(f.store->add_alias_sync("Sales@example.org", "bob@example.org"));
  REQUIRE(f.store->add_alias_sync("info@example.com", "alice@example.org"));
  CHECK(f.store->add_alias_sync("sales@example.org", "alice@example.org").error().code ==
        Errc::kAlreadyExists);
  CHECK(f.store->add_alias_sync("alice@example.org", "bob@example.org").error().code ==
        Errc::kAlreadyExists);
  CHECK(f.store->add_alias_sync("x@example.org", "nobody@example.org").error().code ==
        Errc::kNotFound);
  CHECK(f.store->add_alias_sync("x@elsewhere.net", "bob@example.org").error().code ==
        Errc::kNotFound);
  // An account cannot take the name of an alias.
  CHECK(f.store->add_account_sync("sales@example.org", "x").error().code == Errc::kAlreadyExists);

  auto resolve = [&](const char* address) {
    auto r = f.store->resolve_recipient(address);
    REQUIRE(r);
    return *r;
  };
  CHECK(resolve("bob@example.org").kind == Recipient::Kind::kLocal);
  CHECK(resolve("BOB@EXAMPLE.ORG").account == bob);
  CHECK(resolve("sales@example.org").account == bob);
  CHECK(resolve("info@example.com").account == alice);
  CHECK(resolve("bob+lists@example.org").account == bob);
  CHECK(resolve("sales+x@example.org").account == bob);
  CHECK(resolve("nobody@example.org").kind == Recipient::Kind::kUnknown);
  CHECK(resolve("nobody+bob@example.org").kind == Recipient::Kind::kUnknown);
  CHECK(resolve("someone@example.net").kind == Recipient::Kind::kRemote);
  CHECK(resolve("bob+tag@example.org").address == "bob+tag@example.org");
  CHECK(f.store->resolve_recipient("no-domain").error().code == Errc::kInvalidArgument);

  // A catch-all takes what nothing else does.
  REQUIRE(f.store->add_alias_sync("@example.org", "alice@example.org"));
  CHECK(resolve("nobody@example.org").account == alice);
  CHECK(resolve("bob@example.org").account == bob);
  CHECK(resolve("other@example.com").kind == Recipient::Kind::kUnknown);

  auto aliases = f.store->list_aliases("example.org");
  REQUIRE(aliases);
  REQUIRE(aliases->size() == 2);
  CHECK((*aliases)[0].source == "@example.org");
  CHECK((*aliases)[0].target == "alice@example.org");
  CHECK((*aliases)[1].source == "Sales@example.org");
  CHECK(f.store->list_aliases()->size() == 3);

  CHECK(*f.store->may_send_as(bob, "bob@example.org"));
  CHECK(*f.store->may_send_as(bob, "Sales@Example.org"));
  CHECK(*f.store->may_send_as(bob, "bob+x@example.org"));
  CHECK_FALSE(*f.store->may_send_as(bob, "alice@example.org"));
  CHECK_FALSE(*f.store->may_send_as(alice, "nobody@example.org"));  // not via the catch-all
  CHECK_FALSE(*f.store->may_send_as(bob, "garbage"));

  REQUIRE(f.store->remove_alias_sync("SALES@example.org"));
  CHECK(f.store->remove_alias_sync("sales@example.org").error().code == Errc::kNotFound);
  CHECK(resolve("sales@example.org").account == alice);  // now the catch-all
  REQUIRE(f.store->remove_alias_sync("@example.org"));
  CHECK(resolve("sales@example.org").kind == Recipient::Kind::kUnknown);

  // Removing an account removes the aliases that lead to it.
  REQUIRE(f.store->remove_account_sync("alice@example.org"));
  CHECK(resolve("info@example.com").kind == Recipient::Kind::kUnknown);
  CHECK(f.store->list_aliases()->empty());
}

}  // namespace
}  // namespace chapar::store
