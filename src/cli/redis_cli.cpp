#include "cli/redis_cli.h"

namespace arca {

void add_redis_tls_options(CLI::App& cmd, RedisTls& tls) {
  cmd.add_flag("--tls", tls.enabled, "Connect with TLS (also implied by a rediss:// URL)");
  cmd.add_option("--tls-ca", tls.ca_file, "CA certificates to verify the server with (default: the system's)");
  cmd.add_option("--tls-cert", tls.cert_file, "Client certificate (PEM), when the server requires one");
  cmd.add_option("--tls-key", tls.key_file, "Client certificate's private key (PEM; default: in --tls-cert)");
  cmd.add_flag("--tls-insecure", tls.insecure, "Do not verify the server's certificate (tests only)");
}

void add_redis_password_file_option(CLI::App& cmd, std::string& file) {
  cmd.add_option("--redis-password-file", file,
                 "Read the Redis password from this file's first line (keeps it out of the process list; "
                 "REDISCLI_AUTH works too)");
}

std::string redis_url_with_password_file(const std::string& url, const std::string& file) {
  return file.empty() ? url : redis_url_with_password(url, read_password_file(file));
}

}  // namespace arca
