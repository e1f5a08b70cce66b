// A libpq connection (RAII) with Arca's error style: connection failures are classified
// (unreachable, authentication, missing replication permission) with what to fix, and query
// results are owned by PgResult.
#pragma once
#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace arca {

class CancelToken;

struct PgResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgResult = std::unique_ptr<PGresult, PgResultDeleter>;

class PgConn {
 public:
  // `conninfo` is a libpq connection string or URI; `replication` adds replication=true
  // (physical replication protocol) or "database" (logical). Throws Error on failure.
  enum class Mode { Normal, Replication };
  PgConn(const std::string& conninfo, Mode mode);
  PGconn* get() const { return conn_.get(); }
  int server_version() const { return PQserverVersion(conn_.get()); }
  std::string describe() const;  // "host:port" for messages (never the password)

  // Runs a query that must succeed; throws Error naming `what` otherwise.
  PgResult exec(const std::string& sql, const std::string& what) const;
  PgResult exec_params(const std::string& sql, const std::vector<std::string>& params, const std::string& what) const;
  std::string value(const std::string& sql, const std::string& what) const;  // first column of first row
  std::string last_error() const;
  // Waits until PQgetResult would not block (the server answered, or the connection broke),
  // looking at `cancel` every 100 ms; throws Error(Cancelled, "<what> cancelled") once set.
  void await_result(const CancelToken* cancel, const char* what) const;
  // PQgetCopyData that waits in slices of 100 ms, looking at `cancel` between them; returns what
  // PQgetCopyData returns (bytes, -1 at the end, -2 on failure), never 0.
  int get_copy_data(char** buf, const CancelToken* cancel, const char* what) const;
  // Notices and warnings the server sent (e.g. checksum failures during a base backup).
  const std::vector<std::string>& notices() const { return *notices_; }

 private:
  struct ConnDeleter {
    void operator()(PGconn* c) const { PQfinish(c); }
  };
  std::unique_ptr<PGconn, ConnDeleter> conn_;
  std::shared_ptr<std::vector<std::string>> notices_ = std::make_shared<std::vector<std::string>>();
};

// A string literal for SQL and replication commands ('…' with quotes doubled).
std::string pg_quote_literal(const std::string& s);
// The conninfo without its password, and the password (else PGPASSWORD's, else empty), so that
// a child program gets it through its environment instead of its visible command line.
std::pair<std::string, std::string> pg_conninfo_split_password(const std::string& conninfo);
// The conninfo with one keyword set (key=value appended, which libpq lets override).
std::string pg_conninfo_with(const std::string& conninfo, const std::string& key, const std::string& value);
// A decimal number the server sent; Error(Corrupt) naming `what` if it is not one (std::stoull
// would throw std::invalid_argument, which says neither what nor where).
uint64_t pg_number(const std::string& s, const std::string& what);

}  // namespace arca
