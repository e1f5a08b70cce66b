// Key files in-process on the memory backend: add, list, open with each, remove; a wrong
// password is Error(Auth), whichever key files exist.
#include <gtest/gtest.h>

#include "mem_repo.h"
#include "repo/key_files.h"
#include "util/error.h"

using namespace arca;
using namespace arca::testing;

namespace {

ErrorKind open_error(const MemRepo& r, const std::string& password) {
  try {
    r.open(nullptr, password);
  } catch (const Error& e) {
    return e.kind();
  }
  return ErrorKind::Generic;
}

}  // namespace

TEST(KeyFiles, AddListOpenRemove) {
  MemRepo r;
  auto repo = r.open();
  auto first = list_key_files(*r.mem);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].kind, "passphrase");
  EXPECT_EQ(first[0].role, KeyRole::Full);

  std::string id = add_key_file(*r.mem, repo->keys().master, test_credentials("second"), {1, 8, 1});
  EXPECT_EQ(list_key_files(*r.mem).size(), 2u);
  auto by_second = r.open(nullptr, "second");
  EXPECT_EQ(by_second->key_id(), id);
  EXPECT_EQ(by_second->config().repo_id, repo->config().repo_id) << "both keys open the same repository";
  EXPECT_EQ(resolve_key_id(*r.mem, id.substr(0, 8)), id);

  remove_key_file(*r.mem, first[0].id);
  ASSERT_EQ(list_key_files(*r.mem).size(), 1u);
  EXPECT_EQ(open_error(r, "pw"), ErrorKind::Auth) << "a removed key no longer opens";
  r.open(nullptr, "second");
}

TEST(KeyFiles, WrongPasswordIsAuth) {
  MemRepo r;
  EXPECT_EQ(open_error(r, "wrong"), ErrorKind::Auth);
  try {
    unlock_master_key(*r.mem, test_credentials("wrong"));
    FAIL() << "a wrong password unlocked the master key";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Auth) << e.what();
  }
}

TEST(KeyFiles, AppendOnlyKeyOpensAnAppendOnlyRepository) {
  MemRepo r;
  auto repo = r.open();
  add_key_file(*r.mem, repo->keys().master, test_credentials("host"), {1, 8, 1}, KeyRole::AppendOnly);
  auto host = r.open(nullptr, "host");
  EXPECT_TRUE(host->append_only());
  Snapshot s = save_file_point(*host, {noise(1000)});  // adding works
  try {
    host->backend().remove("snapshots/" + s.id.hex());
    FAIL() << "an append-only key deleted a recovery point";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Refused) << e.what();
  }
}

TEST(KeyFiles, UnknownKeyIdIsNotFound) {
  MemRepo r;
  try {
    resolve_key_id(*r.mem, "ffffffff");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::NotFound) << e.what();
  }
}
