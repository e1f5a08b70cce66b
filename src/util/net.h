// Plain TCP helpers: connecting with a deadline, and finding a free loopback port for servers
// Arca starts itself (restored or scratch database servers).
#pragma once
#include <string>

#include "util/fd.h"

namespace arca {

// Connects to host:port (names resolved, every address tried) within `timeout_ms`; throws
// Error(Unreachable) naming `what` and the reason (refused, unreachable, timed out, unknown host).
UniqueFd tcp_connect(const std::string& host, int port, int timeout_ms, const std::string& what);
// Sets send and receive timeouts on a socket (0 = none).
void set_socket_timeouts(int fd, int timeout_ms);
// A TCP port on 127.0.0.1 that nothing listens on right now.
int free_port();

}  // namespace arca
