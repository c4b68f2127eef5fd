// SPDX-License-Identifier: AGPL-3.0-or-later
// Store::prepare: the one pass over new content before it is stored.
#include <string>
#include <string_view>

#include "libmailstore/mime/structure.hpp"
#include "libmailstore/store.hpp"

namespace chapar::store {

namespace {

// Output is collected in pieces of this size before going to the Spool.
constexpr size_t kCopyChunk = 64 * 1024;

// Whether the content already has the stored form: every LF preceded by CR, no CR last.
bool is_normalized(std::string_view data) {
  if (!data.empty() && data.back() == '\r') return false;
  for (size_t lf = data.find('\n'); lf != std::string_view::npos; lf = data.find('\n', lf + 1)) {
    if (lf == 0 || data[lf - 1] != '\r') return false;
  }
  return true;
}

// The same rules as mime::normalize_line_endings, streamed into a Spool so that a large
// message is never copied whole onto the heap.
Result<std::shared_ptr<Spool>> normalize(const Spool& source) {
  std::string_view data = source.view();
  if (!data.empty() && data.back() == '\r') data.remove_suffix(1);
  auto out = std::make_shared<Spool>(source.temp_dir(), source.memory_limit());
  std::string buffer;
  auto emit = [&](std::string_view piece) -> Status {
    if (buffer.size() + piece.size() < kCopyChunk) {
      buffer.append(piece);
      return {};
    }
    auto s = out->append(buffer);
    buffer.clear();
    if (!s) return s;
    return out->append(piece);
  };
  size_t start = 0;
  for (size_t lf = data.find('\n'); lf != std::string_view::npos; lf = data.find('\n', lf + 1)) {
    if (lf > 0 && data[lf - 1] == '\r') continue;
    if (auto s = emit(data.substr(start, lf - start)); !s) return Unexpected{s.error()};
    if (auto s = emit("\r\n"); !s) return Unexpected{s.error()};
    start = lf + 1;
  }
  if (auto s = emit(data.substr(start)); !s) return Unexpected{s.error()};
  if (auto s = out->append(buffer); !s) return Unexpected{s.error()};
  if (auto s = out->finish(); !s) return Unexpected{s.error()};
  return out;
}

}  // namespace

Result<PreparedMessage> Store::prepare(std::shared_ptr<Spool> content) {
  if (!content || !content->finished()) {
    return fail(Errc::kInvalidArgument, "prepare needs finished content");
  }
  if (!is_normalized(content->view())) {
    auto normalized = normalize(*content);
    if (!normalized) return Unexpected{normalized.error()};
    content = std::move(*normalized);
  }
  PreparedMessage prepared;
  prepared.structure = mime::serialize(mime::parse_message(content->view()));
  prepared.size = content->size();
  prepared.content = std::move(content);
  return prepared;
}

}  // namespace chapar::store
