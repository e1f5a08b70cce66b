#include "sources/postgres/pg_conn.h"

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <poll.h>

#include <cerrno>

#include "util/cancel.h"
#include "util/error.h"

namespace arca {

std::string pg_quote_literal(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

static std::string conninfo_value(const std::string& v) {
  std::string out = "'";
  for (char c : v) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

std::string pg_conninfo_with(const std::string& conninfo, const std::string& key, const std::string& value) {
  // A URI cannot take key=value words after it; libpq accepts "dbname=URI" expansions only for
  // dbname, so URIs get the setting as a query parameter.
  if (conninfo.rfind("postgresql://", 0) == 0 || conninfo.rfind("postgres://", 0) == 0) {
    std::string enc;
    for (unsigned char c : value) {
      if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
        enc += char(c);
      } else {
        char b[4];
        std::snprintf(b, sizeof b, "%%%02X", c);
        enc += b;
      }
    }
    return conninfo + (conninfo.find('?') == std::string::npos ? "?" : "&") + key + "=" + enc;
  }
  return conninfo + (conninfo.empty() ? "" : " ") + key + "=" + conninfo_value(value);
}

uint64_t pg_number(const std::string& s, const std::string& what) {
  uint64_t v = 0;
  bool ok = !s.empty() && s.size() <= 20 && s.find_first_not_of("0123456789") == std::string::npos;
  for (size_t i = 0; ok && i < s.size(); i++) {
    ok = v <= (UINT64_MAX - uint64_t(s[i] - '0')) / 10;
    v = v * 10 + uint64_t(s[i] - '0');
  }
  if (!ok) throw Error(ErrorKind::Corrupt, what + ": '" + s.substr(0, 40) + "' is not a number");
  return v;
}

static std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

std::pair<std::string, std::string> pg_conninfo_split_password(const std::string& conninfo) {
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(conninfo.c_str(), &err);
  if (!opts) {
    std::string msg = err ? err : "malformed";
    PQfreemem(err);
    throw Error(ErrorKind::Usage, "the PostgreSQL connection string is not valid: " + msg);
  }
  std::string rest, password;
  for (PQconninfoOption* o = opts; o->keyword; o++) {
    if (!o->val) continue;
    if (std::strcmp(o->keyword, "password") == 0)
      password = o->val;
    else
      rest = pg_conninfo_with(rest, o->keyword, o->val);
  }
  PQconninfoFree(opts);
  // Children do not inherit PGPASSWORD (util/subprocess.h): it is handed on explicitly.
  if (password.empty())
    if (const char* e = std::getenv("PGPASSWORD")) password = e;
  return {rest, password};
}

PgConn::PgConn(const std::string& conninfo, Mode mode) {
  std::string ci = conninfo;
  if (mode == Mode::Replication) ci = pg_conninfo_with(ci, "replication", "true");
  // Never wait forever for an unreachable server; an explicit connect_timeout wins.
  if (ci.find("connect_timeout") == std::string::npos) ci = pg_conninfo_with(ci, "connect_timeout", "10");
  ci = pg_conninfo_with(ci, "application_name", "arca");
  conn_.reset(PQconnectdb(ci.c_str()));
  if (!conn_) throw Error(ErrorKind::Generic, "cannot allocate a PostgreSQL connection");
  if (PQstatus(conn_.get()) != CONNECTION_OK) {
    std::string msg = trim(PQerrorMessage(conn_.get()));
    std::string where = describe();
    if (msg.find("password authentication failed") != std::string::npos ||
        msg.find("no password supplied") != std::string::npos || msg.find("authentication failed") != std::string::npos)
      throw Error(ErrorKind::Auth,
                  "PostgreSQL at " + where + " refused the login: " + msg +
                      "\n  check the user and password (PGPASSWORD, ~/.pgpass or the connection string)");
    if (msg.find("no pg_hba.conf entry for replication") != std::string::npos ||
        msg.find("must have replication permission") != std::string::npos ||
        msg.find("permission denied to start WAL sender") != std::string::npos ||
        msg.find("must be superuser or replication role") != std::string::npos)
      throw Error(ErrorKind::Auth, "PostgreSQL at " + where + " refused a replication connection: " + msg +
                                       "\n  the role needs the REPLICATION attribute (ALTER ROLE … REPLICATION) and "
                                       "pg_hba.conf a 'replication' line for this host");
    if (msg.find("exceeds max_wal_senders") != std::string::npos)
      throw Error(ErrorKind::Usage,
                  "PostgreSQL at " + where + " has no free WAL sender: " + msg +
                      "\n  set max_wal_senders above 0 (with wal_level = replica) in postgresql.conf and "
                      "restart the server; each backup or stream uses one");
    // Refused, unknown host, no route, a connect or TLS handshake that times out, a socket that is
    // not there, a server that hangs up before answering: all one "unreachable" (exit 10).
    for (const char* unreachable :
         {"Connection refused", "could not translate host", "timeout expired", "Connection timed out",
          "No route to host", "Network is unreachable", "No such file or directory",
          "server closed the connection unexpectedly", "SSL SYSCALL error", "the database system is starting up",
          "the database system is shutting down"})
      if (msg.find(unreachable) != std::string::npos)
        throw Error(ErrorKind::Unreachable, "cannot reach PostgreSQL at " + where + ": " + msg +
                                                "\n  is the server running, and are host and port right?");
    if (msg.find("does not exist") != std::string::npos)
      throw Error(ErrorKind::NotFound, "PostgreSQL at " + where + ": " + msg);
    throw Error(ErrorKind::Generic, "cannot connect to PostgreSQL at " + where + ": " + msg);
  }
  PQsetNoticeReceiver(
      conn_.get(),
      [](void* arg, const PGresult* r) {
        auto* list = static_cast<std::vector<std::string>*>(arg);
        if (list->size() < 1000) list->push_back(trim(PQresultErrorMessage(r)));
      },
      notices_.get());
}

std::string PgConn::describe() const {
  if (!conn_) return "?";
  const char* host = PQhost(conn_.get());
  const char* port = PQport(conn_.get());
  std::string h = host && *host ? host : "localhost";
  return h + ":" + (port && *port ? port : "5432");
}

std::string PgConn::last_error() const { return trim(PQerrorMessage(conn_.get())); }

namespace {
// Waits up to one cancel slice for the connection's socket to become readable, then lets libpq
// read what arrived; false if the connection broke (libpq then reports it).
bool wait_socket(PGconn* c) {
  pollfd p{PQsocket(c), POLLIN, 0};
  if (p.fd < 0) return false;
  if (poll(&p, 1, int(kCancelSlice.count())) < 0 && errno != EINTR) return false;
  return PQconsumeInput(c) == 1;
}
}  // namespace

void PgConn::await_result(const CancelToken* cancel, const char* what) const {
  while (PQisBusy(conn_.get())) {
    check_cancel(cancel, what);
    if (!wait_socket(conn_.get())) return;
  }
}

int PgConn::get_copy_data(char** buf, const CancelToken* cancel, const char* what) const {
  while (true) {
    check_cancel(cancel, what);
    int n = PQgetCopyData(conn_.get(), buf, 1);
    if (n != 0) return n;
    if (!wait_socket(conn_.get())) return PQgetCopyData(conn_.get(), buf, 0);  // blocking: returns -1 or -2
  }
}

static void check_result(const PgResult& r, PGconn* conn, const std::string& what) {
  ExecStatusType st = PQresultStatus(r.get());
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return;
  std::string msg = trim(r ? PQresultErrorMessage(r.get()) : PQerrorMessage(conn));
  if (msg.empty()) msg = trim(PQerrorMessage(conn));
  ErrorKind kind = ErrorKind::Generic;
  const char* state = r ? PQresultErrorField(r.get(), PG_DIAG_SQLSTATE) : nullptr;
  if (state && std::strncmp(state, "42501", 5) == 0) kind = ErrorKind::Auth;  // insufficient privilege
  if (PQstatus(conn) == CONNECTION_BAD) msg += " (the connection to the server was lost: did it stop or restart?)";
  throw Error(kind, what + " failed: " + msg);
}

PgResult PgConn::exec(const std::string& sql, const std::string& what) const {
  PgResult r(PQexec(conn_.get(), sql.c_str()));
  check_result(r, conn_.get(), what);
  return r;
}

PgResult PgConn::exec_params(const std::string& sql, const std::vector<std::string>& params,
                             const std::string& what) const {
  std::vector<const char*> p;
  for (const auto& s : params) p.push_back(s.c_str());
  PgResult r(PQexecParams(conn_.get(), sql.c_str(), int(p.size()), nullptr, p.data(), nullptr, nullptr, 0));
  check_result(r, conn_.get(), what);
  return r;
}

std::string PgConn::value(const std::string& sql, const std::string& what) const {
  PgResult r = exec(sql, what);
  if (PQntuples(r.get()) < 1 || PQnfields(r.get()) < 1) throw Error(ErrorKind::Generic, what + " returned no rows");
  return PQgetvalue(r.get(), 0, 0);
}

}  // namespace arca
