// SPDX-License-Identifier: AGPL-3.0-or-later
// The command handlers, one per table entry. Each reports an expected failure as an Error;
// run() turns it into the one-line message and the exit status.
#pragma once

#include "chaparctl/context.hpp"
#include "common/result.hpp"

namespace chapar::ctl {

Status cmd_init(Context& ctx);
Status cmd_stats(Context& ctx);

Status cmd_domain_add(Context& ctx);
Status cmd_domain_list(Context& ctx);
Status cmd_domain_remove(Context& ctx);

Status cmd_user_add(Context& ctx);
Status cmd_user_passwd(Context& ctx);
Status cmd_user_quota(Context& ctx);
Status cmd_user_list(Context& ctx);
Status cmd_user_remove(Context& ctx);
Status cmd_user_show(Context& ctx);
Status cmd_user_disable(Context& ctx);
Status cmd_user_enable(Context& ctx);

Status cmd_alias_add(Context& ctx);
Status cmd_alias_list(Context& ctx);
Status cmd_alias_remove(Context& ctx);

Status cmd_mailbox_list(Context& ctx);

}  // namespace chapar::ctl
