// The LMDB projection cache: rows in a B+tree keyed by BLAKE3 of the cache key.
#include <lmdb.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "batpak/projection_cache.hpp"
#include "projection/cache_envelope.hpp"
#include "util/hash.hpp"

namespace batpak {
namespace {

tl::unexpected<Error> lmdb_error(const std::string& what, const std::string& path, int rc) {
  return tl::unexpected(Error{ErrorCode::kIo, what + ": " + mdb_strerror(rc), path, 0, {}});
}

MDB_val as_val(std::span<const uint8_t> bytes) {
  return MDB_val{bytes.size(), const_cast<uint8_t*>(bytes.data())};
}

std::span<const uint8_t> as_span(const MDB_val& v) {
  return {static_cast<const uint8_t*>(v.mv_data), v.mv_size};
}

// Thread safety: every method may be called concurrently. Reads use their own read-only
// transactions (MDB_NOTLS); writes are serialized by write_mu_. One LmdbCache per directory
// per process (an LMDB rule).
class LmdbCache final : public ProjectionCache {
 public:
  LmdbCache(MDB_env* env, MDB_dbi dbi, std::string dir) : env_(env), dbi_(dbi), dir_(std::move(dir)) {}
  ~LmdbCache() override { mdb_env_close(env_); }

  CacheCapabilities capabilities() const override { return {false, false}; }

  Result<std::optional<std::vector<uint8_t>>> get(std::span<const uint8_t> key) override {
    const Hash32 digest = util::blake3(key);
    MDB_txn* txn = nullptr;
    if (int rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn); rc != 0) return lmdb_error("read txn", dir_, rc);
    MDB_val k = as_val(digest.bytes);
    MDB_val v{};
    const int rc = mdb_get(txn, dbi_, &k, &v);
    std::optional<std::vector<uint8_t>> row;
    if (rc == 0) row = projection::envelope_row(as_span(v), key);
    const bool foreign = rc == 0 && !row;
    mdb_txn_abort(txn);
    if (rc != 0 && rc != MDB_NOTFOUND) return lmdb_error("get", dir_, rc);
    if (foreign) (void)write([&](MDB_txn* w) { return mdb_del(w, dbi_, &k, nullptr); });  // Self-heal.
    return row;
  }

  Status put(std::span<const uint8_t> key, std::span<const uint8_t> row) override {
    const Hash32 digest = util::blake3(key);
    const std::vector<uint8_t> stored = projection::envelope(key, row);
    MDB_val k = as_val(digest.bytes);
    auto store_row = [&](MDB_txn* txn) {
      MDB_val v = as_val(stored);
      return mdb_put(txn, dbi_, &k, &v, 0);
    };
    const int rc = write(store_row);  // MDB_MAP_FULL included: callers observe it.
    if (rc != 0) return lmdb_error("put", dir_, rc);
    return {};
  }

  Result<uint64_t> delete_prefix(std::span<const uint8_t> prefix) override {
    uint64_t removed = 0;
    const int rc = write([&](MDB_txn* txn) {
      // Collect first, delete after: no reliance on cursor positioning across deletes.
      std::vector<std::vector<uint8_t>> doomed;
      MDB_cursor* cursor = nullptr;
      if (int c = mdb_cursor_open(txn, dbi_, &cursor); c != 0) return c;
      MDB_val k{}, v{};
      int step = mdb_cursor_get(cursor, &k, &v, MDB_FIRST);
      for (; step == 0; step = mdb_cursor_get(cursor, &k, &v, MDB_NEXT)) {
        if (projection::envelope_has_prefix(as_span(v), prefix)) {
          doomed.emplace_back(as_span(k).begin(), as_span(k).end());
        }
      }
      mdb_cursor_close(cursor);
      if (step != MDB_NOTFOUND) return step;
      for (const auto& key : doomed) {
        MDB_val dk = as_val(key);
        if (int d = mdb_del(txn, dbi_, &dk, nullptr); d != 0) return d;
      }
      removed = doomed.size();
      return 0;
    });
    if (rc != 0) return lmdb_error("delete_prefix", dir_, rc);
    return removed;
  }

  Status sync() override {
    if (int rc = mdb_env_sync(env_, 1); rc != 0) return lmdb_error("sync", dir_, rc);
    return {};
  }

 private:
  // Runs `body` in a write transaction and commits it when body returns 0.
  template <class Body>
  int write(Body body) {
    std::lock_guard lock(write_mu_);
    MDB_txn* txn = nullptr;
    if (int rc = mdb_txn_begin(env_, nullptr, 0, &txn); rc != 0) return rc;
    if (int rc = body(txn); rc != 0) {
      mdb_txn_abort(txn);
      return rc;
    }
    return mdb_txn_commit(txn);
  }

  MDB_env* env_;
  MDB_dbi dbi_;
  const std::string dir_;
  std::mutex write_mu_;
};

}  // namespace

Result<std::shared_ptr<ProjectionCache>> make_lmdb_cache(const std::string& dir, uint64_t map_bytes) {
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return tl::unexpected(Error{ErrorCode::kIo, std::string("mkdir: ") + std::strerror(errno), dir, 0, {}});
  }
  MDB_env* env = nullptr;
  if (int rc = mdb_env_create(&env); rc != 0) return lmdb_error("env create", dir, rc);
  auto fail = [&](const char* what, int rc) {
    mdb_env_close(env);
    return lmdb_error(what, dir, rc);
  };
  if (int rc = mdb_env_set_mapsize(env, map_bytes); rc != 0) return fail("set map size", rc);
  // MDB_NOSYNC: puts are not flushed (the cache is derivable); sync() flushes on demand.
  if (int rc = mdb_env_open(env, dir.c_str(), MDB_NOTLS | MDB_NOSYNC, 0644); rc != 0) return fail("env open", rc);
  MDB_txn* txn = nullptr;
  MDB_dbi dbi = 0;
  if (int rc = mdb_txn_begin(env, nullptr, 0, &txn); rc != 0) return fail("txn", rc);
  if (int rc = mdb_dbi_open(txn, nullptr, 0, &dbi); rc != 0) {
    mdb_txn_abort(txn);
    return fail("dbi open", rc);
  }
  if (int rc = mdb_txn_commit(txn); rc != 0) return fail("txn commit", rc);
  return std::shared_ptr<ProjectionCache>(std::make_shared<LmdbCache>(env, dbi, dir));
}

}  // namespace batpak
