// SPDX-License-Identifier: AGPL-3.0-or-later
#include "tests/support/template_store.hpp"

#include <crypt.h>

#include <system_error>
#include <utility>

namespace chapar::test {

namespace fs = std::filesystem;

Result<std::string> quick_hash(const char* password) {
  struct crypt_data data {};
  const char* hash = crypt_r(password, "$5$rounds=1000$chapartestsalt$", &data);
  if (hash == nullptr || hash[0] != '$') return Unexpected{Error{Errc::kInternal, "crypt_r"}};
  return std::string(hash);
}

Status make_template(const fs::path& dir, const std::function<Status(store::Store&)>& fill) {
  store::StoreOptions options;
  options.data_dir = dir;
  options.create = true;
  auto opened = store::Store::open(options);
  if (!opened) return Unexpected{opened.error()};
  return fill(**opened);
}

Result<std::unique_ptr<store::Store>> open_copy(const fs::path& template_dir,
                                                const fs::path& data_dir) {
  std::error_code ec;
  fs::remove_all(data_dir, ec);
  fs::create_directories(data_dir, ec);
  if (ec) return Unexpected{Error{Errc::kIo, "create " + data_dir.string()}};
  fs::copy_file(template_dir / store::Store::kDatabaseName, data_dir / store::Store::kDatabaseName,
                ec);
  if (ec) return Unexpected{Error{Errc::kIo, "copy the template: " + ec.message()}};
  store::StoreOptions options;
  options.data_dir = data_dir;
  return store::Store::open(options);
}

Status deliver(store::Store& store, store::AccountId account, std::string content) {
  auto prepared = store::Store::prepare(store::Spool::from_string(std::move(content)));
  if (!prepared) return Unexpected{prepared.error()};
  store::Delivery delivery;
  delivery.message = std::move(*prepared);
  delivery.sender = "a@example.net";
  delivery.local = {account};
  delivery.internal_date = kTemplateDate;
  auto receipt = store.deliver_sync(std::move(delivery));
  if (!receipt) return Unexpected{receipt.error()};
  return {};
}

}  // namespace chapar::test
