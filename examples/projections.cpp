// Projections of an account's ledger: a balance served from a cache (miss, hit, then an
// incremental apply of the newer events), two views folded from one read (project_fused),
// and a state bound that stops a fold outgrowing what it was written for.
// It checks itself: exit 0 only if every step gave what it prints.
//
// Usage: example_projections [DIR]   (default: a new directory under /tmp, removed after)
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>

#include "batpak/batpak.hpp"

namespace {

struct Deposited {
  static constexpr batpak::EventKind kKind{0x2001};
  std::string payer;
  int64_t cents = 0;
  MSGPACK_DEFINE_MAP(payer, cents)
};

struct Withdrawn {
  static constexpr batpak::EventKind kKind{0x2002};
  int64_t cents = 0;
  MSGPACK_DEFINE_MAP(cents)
};

// The balance: deposits minus withdrawals.
struct Balance {
  struct State {
    int64_t cents = 0;
    MSGPACK_DEFINE_MAP(cents)
  };
  static constexpr std::string_view kName = "example.balance";  // Stable across builds.
  static constexpr uint64_t kSchemaVersion = 1;                 // Bump when State changes.
  static constexpr bool kSupportsIncremental = true;           // A suffix applied == a full fold.
  static std::vector<batpak::EventKind> relevant_kinds() { return {Deposited::kKind, Withdrawn::kKind}; }
  static batpak::Status apply(State& state, const batpak::Event& event) {
    if (event.header.kind == Deposited::kKind) {
      auto deposit = batpak::decode_event<Deposited>(event);
      if (!deposit) return tl::unexpected(deposit.error());
      state.cents += deposit->cents;
    } else {
      auto withdrawal = batpak::decode_event<Withdrawn>(event);
      if (!withdrawal) return tl::unexpected(withdrawal.error());
      state.cents -= withdrawal->cents;
    }
    return {};
  }
};

// Deposits per payer, for at most three payers: an account with more is not what this view
// was written for, and its fold fails (kStateBoundExceeded) instead of growing.
struct Payers {
  struct State {
    std::map<std::string, int64_t> cents_by_payer;
    MSGPACK_DEFINE_MAP(cents_by_payer)
  };
  static constexpr std::string_view kName = "example.payers";
  static constexpr uint64_t kSchemaVersion = 1;
  static constexpr bool kSupportsIncremental = true;
  static constexpr uint64_t kStateEntriesMax = 3;
  static uint64_t state_entries(const State& state) { return state.cents_by_payer.size(); }
  static std::vector<batpak::EventKind> relevant_kinds() { return {Deposited::kKind}; }
  static batpak::Status apply(State& state, const batpak::Event& event) {
    auto deposit = batpak::decode_event<Deposited>(event);
    if (!deposit) return tl::unexpected(deposit.error());
    state.cents_by_payer[deposit->payer] += deposit->cents;
    return {};
  }
};

const char* cache_status_name(batpak::CacheStatus status) {
  switch (status) {
    case batpak::CacheStatus::kHit: return "hit";
    case batpak::CacheStatus::kMiss: return "miss";
    case batpak::CacheStatus::kBypassed: return "bypassed";
    case batpak::CacheStatus::kUnavailable: return "unavailable";
  }
  return "?";
}

// Projects the balance and prints how it was served; true when it is `want_cents`, served
// as `want_status`.
bool show_balance(batpak::Store& store, int64_t want_cents, batpak::CacheStatus want_status) {
  auto balance = store.project<Balance>("account:7");
  if (!balance || !balance->state) return false;
  const batpak::ProjectionObservation& seen = balance->observation;
  std::printf("balance %lld cents at generation %llu (cache %s%s)\n", static_cast<long long>(balance->state->cents),
              static_cast<unsigned long long>(balance->generation), cache_status_name(seen.cache_status),
              seen.incremental ? ", incremental" : "");
  return balance->state->cents == want_cents && seen.cache_status == want_status;
}

bool run(batpak::Store& store) {
  const auto account = batpak::Coordinate::make("account:7", "bank").value();
  auto deposit = [&](const char* payer, int64_t cents) { return store.append(account, Deposited{payer, cents}).has_value(); };
  if (!deposit("alice", 5000) || !deposit("bob", 2500) || !store.append(account, Withdrawn{1200})) return false;

  // The first projection folds and caches; the second is served from the cache; after two
  // more events the cached state is advanced by applying only those.
  if (!show_balance(store, 6300, batpak::CacheStatus::kMiss)) return false;
  if (!show_balance(store, 6300, batpak::CacheStatus::kHit)) return false;
  if (!deposit("alice", 700) || !store.append(account, Withdrawn{1000})) return false;
  if (!show_balance(store, 6000, batpak::CacheStatus::kHit)) return false;

  // Both views from one read of the account's events, at one instant; no cache.
  auto views = store.project_fused<Balance, Payers>("account:7");
  if (!views) return false;
  const auto& [balance, payers] = views->states;
  std::printf("fused: balance %lld cents, %zu payers (alice %lld cents)\n", static_cast<long long>(balance->cents),
              payers->cents_by_payer.size(), static_cast<long long>(payers->cents_by_payer.at("alice")));
  if (balance->cents != 6000 || payers->cents_by_payer.size() != 2) return false;

  // Two more payers: the third fits the bound, the fourth does not.
  if (!deposit("carol", 100) || !deposit("dave", 100)) return false;
  auto too_many = store.project<Payers>("account:7");
  if (too_many) return false;
  std::printf("payers: %s\n", too_many.error().to_string().c_str());
  return too_many.error().code == batpak::ErrorCode::kStateBoundExceeded;
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir = argc > 1 ? argv[1] : "";
  std::string scratch;
  if (dir.empty()) {
    char tmpl[] = "/tmp/batpak-projections-XXXXXX";
    if (!::mkdtemp(tmpl)) return 1;
    scratch = tmpl;
    dir = scratch + "/store";
  }
  batpak::StoreOptions options;
  options.projection_cache = batpak::make_memory_cache(1 << 20);  // 1 MiB of cached states.
  auto store = batpak::Store::open(dir, options);
  if (!store) {
    std::fprintf(stderr, "open: %s\n", store.error().to_string().c_str());
    return 1;
  }
  const bool ok = run(**store);
  const bool closed = (*store)->close().has_value();
  if (!scratch.empty()) std::filesystem::remove_all(scratch);
  if (!ok) std::fprintf(stderr, "a step did not give what it shows\n");
  return ok && closed ? 0 : 2;
}
