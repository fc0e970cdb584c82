// batpak behind the engines interface, through its public API only. batpak assigns the
// global sequence and the per-entity clock, hashes the payload, links the entity's hash
// chain and frames every event itself, so the driver hands it no sequence or hashes.

#include <string>

#include "batpak/batpak.hpp"
#include "engine.hpp"

namespace engines {
namespace {

constexpr uint32_t kEntities = 1000;
constexpr const char* kScope = "bench";

std::string entity_name(uint32_t entity) { return "e" + std::to_string(entity); }

class BatpakEngine final : public Engine {
 public:
  explicit BatpakEngine(BatpakOpen open_path) : open_path_(open_path) {}
  std::string name() const override { return "batpak"; }
  bool wants_chain() const override { return false; }

  bool open(const std::string& dir, Mode mode) override {
    batpak::StoreOptions options;
    options.durability = mode == Mode::kDurable ? batpak::Durability::kSync : batpak::Durability::kBuffered;
    options.index_checkpoint = open_path_ == BatpakOpen::kCheckpointAndFooters;
    options.segment_footers = open_path_ != BatpakOpen::kFullScan;
    auto store = batpak::Store::open(dir, options);
    if (!store) return fail(store.error());
    store_ = std::move(*store);
    coordinates_.clear();
    for (uint32_t e = 0; e < kEntities; ++e) coordinates_.push_back(*batpak::Coordinate::make(entity_name(e), kScope));
    return true;
  }

  bool commit(std::span<const Row> rows) override {
    if (rows.size() == 1) {
      const Row& row = rows[0];
      auto receipt = store_->append(coordinates_.at(row.entity), batpak::EventKind{row.kind}, row.payload);
      return receipt ? true : fail(receipt.error());
    }
    // One scratch batch per thread, reused: after the first commits, filling it copies the
    // payload bytes into existing capacity and allocates nothing.
    thread_local std::vector<batpak::BatchItem> batch;
    if (batch.size() < rows.size()) {
      batch.resize(rows.size(), batpak::BatchItem{coordinates_.at(0), batpak::EventKind{0x1001}, {}, {}});
    }
    for (size_t i = 0; i < rows.size(); ++i) {
      batch[i].coordinate = coordinates_.at(rows[i].entity);
      batch[i].kind = batpak::EventKind{rows[i].kind};
      batch[i].payload.assign(rows[i].payload.begin(), rows[i].payload.end());
    }
    auto receipts = store_->append_batch(std::span<const batpak::BatchItem>(batch.data(), rows.size()));
    return receipts ? true : fail(receipts.error());
  }

  // The no-cache projection path: the entity's replay plan (its global sequences, from the
  // in-memory index), then each event read, checksummed, decoded and visited in order.
  bool replay_entity(uint32_t entity, Tally& tally) override {
    auto plan = store_->replay_plan(entity_name(entity), {});
    if (!plan) return fail(plan.error());
    auto status = store_->for_each_event(plan->global_sequences, [&](const batpak::Event& event) -> batpak::Status {
      tally.add(event.header.clock, event.payload.data(), event.payload.size());
      return {};
    });
    return status ? true : fail(status.error());
  }

  // The whole store in commit order with for_each_matching: sequential reads of the
  // segments, one reused Event, every frame's checksum checked.
  bool scan_all(Tally& tally) override {
    auto status = store_->for_each_matching(batpak::Region::all(), 0, [&](const batpak::Event& event) -> batpak::Status {
      tally.add(event.header.global_sequence, event.payload.data(), event.payload.size());
      return {};
    });
    return status ? true : fail(status.error());
  }

  bool close() override {
    if (!store_) return true;
    auto status = store_->close();
    store_.reset();
    return status ? true : fail(status.error());
  }

  // EventHeader fields (docs/format.md): three ids (48), global sequence 8, clock 4, wall
  // time 8, timestamp 8, kind 2, flags 2, payload version 2, three hashes (96) = 178 bytes,
  // plus the entity and scope strings and the payload.
  uint64_t logical_bytes(uint32_t entity, size_t payload_bytes) const override {
    return 178 + entity_name(entity).size() + std::string(kScope).size() + payload_bytes;
  }

  std::string settings(Mode mode) const override {
    switch (mode) {
      case Mode::kDurable: return "Durability::kSync (group commit, fdatasync before return)";
      case Mode::kBuffered: return "Durability::kBuffered (pwrite before return; fdatasync every 1000 events or 50 ms)";
      case Mode::kBulk: return "Durability::kBuffered, append_batch of 1000";
    }
    return "";
  }

  std::string open_note() const override {
    if (!store_) return "";
    const batpak::OpenReport& r = store_->open_report();
    return std::string(r.index_source == batpak::IndexSource::kCheckpoint ? "[checkpoint: " : "[full scan: ") +
           r.index_source_reason + ", " + std::to_string(r.segments_from_footers) + " segments from footers, " +
           std::to_string(r.frames_scanned) + " frames scanned]";
  }

 private:
  bool fail(const batpak::Error& error) {
    error_ = error.to_string();
    return false;
  }

  const BatpakOpen open_path_;
  std::unique_ptr<batpak::Store> store_;
  std::vector<batpak::Coordinate> coordinates_;
};

}  // namespace

std::unique_ptr<Engine> make_batpak(BatpakOpen open) { return std::make_unique<BatpakEngine>(open); }

}  // namespace engines
