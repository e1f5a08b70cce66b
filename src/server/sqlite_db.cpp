#include "server/sqlite_db.h"

#include <sqlite3.h>

#include "util/error.h"

namespace arca::server::sqlite {
namespace {

ErrorKind kind_for(int rc) {
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return ErrorKind::Conflict;
    case SQLITE_FULL:
      return ErrorKind::NoSpace;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return ErrorKind::Corrupt;
    case SQLITE_CANTOPEN:
    case SQLITE_IOERR:
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH:
      return ErrorKind::Io;
    case SQLITE_CONSTRAINT:
      return ErrorKind::Conflict;
    default:
      return ErrorKind::Generic;
  }
}

// What the operator should do, by kind of failure.
std::string hint_for(int rc) {
  switch (rc & 0xff) {
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return " (the catalog file is damaged or not a catalog: move it away, with its -wal and -shm files, and run"
             " `arca server catalog rebuild`; backups are not affected, job history and plan state are lost, and"
             " API tokens live only in the catalog: create them again with `arca server token create`)";
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return " (another process holds the catalog: is a second server running on the same file?)";
    case SQLITE_FULL:
      return " (the disk holding the catalog is full: free space and retry)";
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_READONLY:
      return " (check that the file and its directory exist and are writable by the server's user)";
    default:
      return "";
  }
}

}  // namespace

Db::Db(const std::string& path, bool create) : path_(path) {
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
  int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close(db_);
    db_ = nullptr;
    throw Error(kind_for(rc), "catalog " + path + ": cannot open: " + msg + hint_for(rc));
  }
  sqlite3_extended_result_codes(db_, 1);
}

Db::~Db() { sqlite3_close_v2(db_); }

void Db::fail(int rc, const std::string& what) const {
  std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
  throw Error(kind_for(rc), "catalog " + path_ + ": " + what + ": " + msg + hint_for(rc));
}

void Db::exec(const std::string& sql) {
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) fail(rc, "cannot run `" + sql.substr(0, 60) + "`");
}

int64_t Db::changes() const { return sqlite3_changes64(db_); }
int64_t Db::last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }

Stmt::Stmt(Db& db, std::string_view sql) : db_(db), sql_(sql) {
  int rc = sqlite3_prepare_v2(db.handle(), sql.data(), static_cast<int>(sql.size()), &st_, nullptr);
  if (rc != SQLITE_OK) db_.fail(rc, "cannot prepare `" + sql_.substr(0, 60) + "`");
}

Stmt::~Stmt() { sqlite3_finalize(st_); }

Stmt& Stmt::bind(int i, int64_t v) {
  int rc = sqlite3_bind_int64(st_, i, v);
  if (rc != SQLITE_OK) db_.fail(rc, "cannot bind parameter " + std::to_string(i));
  return *this;
}
Stmt& Stmt::bind(int i, double v) {
  int rc = sqlite3_bind_double(st_, i, v);
  if (rc != SQLITE_OK) db_.fail(rc, "cannot bind parameter " + std::to_string(i));
  return *this;
}
Stmt& Stmt::bind(int i, std::string_view v) {
  int rc = sqlite3_bind_text64(st_, i, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  if (rc != SQLITE_OK) db_.fail(rc, "cannot bind parameter " + std::to_string(i));
  return *this;
}
Stmt& Stmt::bind_null(int i) {
  int rc = sqlite3_bind_null(st_, i);
  if (rc != SQLITE_OK) db_.fail(rc, "cannot bind parameter " + std::to_string(i));
  return *this;
}

bool Stmt::step() {
  int rc = sqlite3_step(st_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  db_.fail(rc, "cannot run `" + sql_.substr(0, 60) + "`");
}

void Stmt::run() {
  while (step()) {
  }
}

void Stmt::reset() {
  sqlite3_reset(st_);
  sqlite3_clear_bindings(st_);
}

int64_t Stmt::int64(int col) const { return sqlite3_column_int64(st_, col); }
double Stmt::real(int col) const { return sqlite3_column_double(st_, col); }
std::string Stmt::text(int col) const {
  const unsigned char* p = sqlite3_column_text(st_, col);
  if (!p) return {};
  return std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(st_, col)));
}
bool Stmt::is_null(int col) const { return sqlite3_column_type(st_, col) == SQLITE_NULL; }

Transaction::Transaction(Db& db) : db_(db) { db_.exec("BEGIN IMMEDIATE"); }

Transaction::~Transaction() {
  // A failed COMMIT or an exception already left the transaction; ROLLBACK then fails harmlessly.
  if (!done_) sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
}

void Transaction::commit() {
  db_.exec("COMMIT");
  done_ = true;
}

ReadTransaction::ReadTransaction(Db& db) : db_(db) { db_.exec("BEGIN"); }

ReadTransaction::~ReadTransaction() { sqlite3_exec(db_.handle(), "COMMIT", nullptr, nullptr, nullptr); }

}  // namespace arca::server::sqlite
