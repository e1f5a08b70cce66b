#include "ops/error_table.h"

#include <array>

namespace arca {

namespace {

// HTTP: 499 is the de-facto "client closed request" status; 507 is WebDAV's Insufficient Storage.
constexpr std::array<ErrorKindInfo, 12> kKinds{{
    {ErrorKind::Generic, "error", kExitError, 500},
    {ErrorKind::Usage, "usage", kExitUsage, 400},
    {ErrorKind::NotFound, "not_found", kExitNotFound, 404},
    {ErrorKind::Auth, "auth", kExitAuth, 401},
    {ErrorKind::Corrupt, "corrupt", kExitCorrupt, 500},
    {ErrorKind::NoSpace, "no_space", kExitNoSpace, 507},
    {ErrorKind::FormatVersion, "format_version", kExitFormat, 501},
    {ErrorKind::Io, "io", kExitError, 500},
    {ErrorKind::Refused, "refused", kExitRefused, 403},
    {ErrorKind::Conflict, "conflict", kExitConflict, 409},
    {ErrorKind::Unreachable, "unreachable", kExitNotFound, 502},
    {ErrorKind::Cancelled, "cancelled", kExitInterrupted, 499},
}};

constexpr std::array<ExitCodeDoc, 13> kExitDocs{{
    {kExitOk, "ok"},
    {kExitError, "error"},
    {kExitUsage, "usage"},
    {kExitPartial, "partial (some entries could not be read or restored)"},
    {kExitNotFound, "not found, or a server unreachable"},
    {kExitAuth, "wrong password/key"},
    {kExitCorrupt, "corruption"},
    {kExitNoSpace, "disk full"},
    {kExitFormat, "unsupported format"},
    {kExitRefused, "refused (a lock, an append-only key, a safety rule, a plan that needs --yes)"},
    {kExitConflict, "conflict (another operation, e.g. a prune, holds what this one needs: retry later)"},
    {kExitObjective, "a drill restored and validated everything but missed an RTO or RPO objective"},
    {kExitInterrupted, "interrupted (SIGINT/SIGTERM; nothing was published)"},
}};

}  // namespace

const ErrorKindInfo& error_kind_info(ErrorKind kind) {
  for (const auto& k : kKinds)
    if (k.kind == kind) return k;
  return kKinds[0];
}

std::span<const ErrorKindInfo> error_kind_table() { return kKinds; }
std::span<const ExitCodeDoc> exit_code_docs() { return kExitDocs; }

}  // namespace arca
