// Pieces shared by the `arca redis` subcommands (cmd_redis.cpp, cmd_redis_restore.cpp).
#pragma once
#include <string>

#include "cli/common.h"
#include "sources/redis/redis_conn.h"

namespace arca {

void add_redis_tls_options(CLI::App& cmd, RedisTls& tls);
// --redis-password-file: the password reaches the URL in memory only, never argv (docs/security.md).
void add_redis_password_file_option(CLI::App& cmd, std::string& file);
std::string redis_url_with_password_file(const std::string& url, const std::string& file);

void register_redis_restore(CLI::App& redis, GlobalOptions& g);

}  // namespace arca
