// The engine factory and the baselines' shared record encoding.
#include <cstring>

#include "engine.hpp"

namespace engines {

std::unique_ptr<Engine> make_engine(const std::string& name) {
  if (name == "batpak") return make_batpak();
  if (name == "batpak-footers") return make_batpak(BatpakOpen::kFootersOnly);
  if (name == "batpak-fullscan") return make_batpak(BatpakOpen::kFullScan);
  if (name == "sqlite") return make_sqlite();
  if (name == "rocksdb") return make_rocksdb();
  if (name == "lmdb") return make_lmdb();
  return nullptr;
}

void encode_record(const Row& row, std::vector<uint8_t>& out) {
  out.resize(kRecordHeaderBytes + row.payload.size());
  uint8_t* p = out.data();
  put_be(p, row.entity, 4);
  put_be(p + 4, row.seq, 8);
  put_be(p + 12, row.kind, 2);
  std::memcpy(p + 14, row.prev_hash.data(), 32);
  std::memcpy(p + 46, row.event_hash.data(), 32);
  if (!row.payload.empty()) std::memcpy(p + kRecordHeaderBytes, row.payload.data(), row.payload.size());
}

}  // namespace engines
