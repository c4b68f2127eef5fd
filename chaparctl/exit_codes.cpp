// SPDX-License-Identifier: AGPL-3.0-or-later
#include "chaparctl/exit_codes.hpp"

namespace chapar::ctl {

int exit_code_for(Errc code) {
  switch (code) {
    case Errc::kInvalidArgument:
    case Errc::kAlreadyExists:
    case Errc::kQuotaExceeded:
    case Errc::kLimitExceeded:
      return kExitData;
    case Errc::kNotFound:
      return kExitNoUser;
    case Errc::kPermissionDenied:
      return kExitNoPerm;
    case Errc::kBusy:
    case Errc::kUnavailable:
      return kExitTempFail;
    case Errc::kIo:
      return kExitIo;
    case Errc::kInternal:
      return kExitSoftware;
  }
  return kExitSoftware;
}

}  // namespace chapar::ctl
